"""Step 4: business information (legal name, BN9, RM program accounts, a statement file), and the
account checks the live validation also calls."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carm_portal.calendar import cbsa_today
from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms.base import WizardForm, active_accounts
from clients.models import Importer, ProgramAccount, Province
from clients.validation import check_account_owner, check_importer
from clients.validators import normalize_bn9, normalize_bn15
from services.compliance.documents import file_stored
from services.models import DocumentType

log = logging.getLogger(__name__)

_ACCOUNT_SPLIT = re.compile(r"[\n,;]+")


def parse_accounts(text: str) -> list[str]:
    """The RM accounts typed one per line (or separated by commas), blanks dropped."""
    return [part.strip() for part in _ACCOUNT_SPLIT.split(text or "") if part.strip()]


class Bn9Taken(ValidationError):
    """A well-formed BN9 that another importer holds: refused without saying so."""

    def __init__(self, bn9: str) -> None:
        super().__init__(
            gettext("Check the Business Number, or contact your broker."), code="bn9_check"
        )
        self.bn9 = bn9


def check_bn9(value: str, importer: Importer) -> str:
    """The importer's Business Number: the recorded one when the broker has recorded it (the
    wizard never changes it: a BN9 change goes through the broker); else the number typed,
    normalised and not held by another importer.

    A number another importer holds gets the same message as any number we cannot accept, so the
    wizard never tells someone which businesses are the broker's clients; ``Bn9Taken`` carries
    the number for the broker's staff (see ``BusinessForm.salvage``).
    """
    if importer.bn9:
        return importer.bn9
    bn9 = normalize_bn9(value)
    if Importer.objects.exclude(pk=importer.pk).filter(bn9=bn9).exists():
        log.warning("Onboarding: importer %s typed a BN9 another importer holds", importer.pk)
        raise Bn9Taken(bn9)
    return bn9


def check_accounts(
    raw: list[str], importer: Importer, bn9: str | None
) -> tuple[list[str], list[str]]:
    """(normalised BN15s, error messages) for the accounts typed; each error names its account."""
    found: list[str] = []
    errors: list[str] = []
    owner = Importer(pk=importer.pk, bn9=bn9 or importer.bn9)
    for value in raw:
        try:
            bn15 = normalize_bn15(value)
            check_account_owner(bn15, owner)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if ProgramAccount.objects.filter(bn15=bn15).exclude(importer=importer).exists():
            errors.append(
                gettext("%(bn15)s is already recorded for another business; ask your broker.")
                % {"bn15": bn15}
            )
            continue
        if bn15 not in found:
            found.append(bn15)
    return found, errors


class BusinessForm(WizardForm):
    legal_name = forms.CharField(
        label=_("Legal name"),
        max_length=200,
        help_text=_(
            "Exactly as CBSA holds it, punctuation included (Inc. or Inc, Ltd. or Limited)."
        ),
    )
    operating_name = forms.CharField(label=_("Operating name"), max_length=200, required=False)
    bn9 = forms.CharField(
        label=_("Business Number (BN9)"),
        max_length=20,
        help_text=_("9 digits, as on your CRA documents."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    accounts = forms.CharField(
        label=_("Import-export program accounts (RM)"),
        required=False,
        help_text=_(
            "One per line: your Business Number, RM and 4 digits, e.g. 123456789RM0001. An "
            "account removed here stays recorded: ask us to close it."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )
    address_line1 = forms.CharField(
        label=_("Address"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label=_("Address (line 2)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    province = forms.ChoiceField(
        label=_("Province or territory"), choices=[("", "—"), *Province.choices]
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    statement = forms.FileField(
        label=_("Latest statement of account"),
        required=False,
        help_text=_("The PDF or CSV you downloaded from the CCP, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.csv,application/pdf,text/csv"}),
    )
    broker_retrieves = forms.BooleanField(
        label=_("I don't have it: please retrieve it from CBSA for me"),
        required=False,
        help_text=_("CBSA charges a fee for this; we will confirm it with you first."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bn9_taken: str | None = None
        live: tuple[str, ...] = ("bn9", "accounts")
        if self.importer.bn9:
            # Recorded by the broker: shown, not changed here (whatever is posted is ignored).
            bn9 = self.fields["bn9"]
            bn9.disabled = True
            bn9.initial = self.importer.bn9
            bn9.help_text = _(
                "Recorded by your broker. If it is wrong, contact your broker to change it."
            )
            live = ("accounts",)
        url = reverse("onboarding:validate", args=[self.importer.pk])
        for name in live:
            self.fields[name].widget.attrs.update(
                {
                    "hx-post": url,
                    "hx-trigger": "change, keyup changed delay:600ms",
                    "hx-target": f"#{name}-live",
                    "hx-include": "[name='bn9'], [name='accounts']",
                    "hx-vals": json.dumps({"field": name}),
                }
            )

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial = {name: getattr(importer, name) for name in steps.BUSINESS_FIELDS}
        initial["accounts"] = "\n".join(active_accounts(importer).values_list("bn15", flat=True))
        return initial

    @property
    def saved_statement(self) -> dict[str, Any] | None:
        return self.saved.get("statement_file")

    def clean_bn9(self) -> str:
        try:
            return check_bn9(self.cleaned_data["bn9"], self.importer)
        except Bn9Taken as exc:
            self.bn9_taken = exc.bn9
            raise

    def clean_statement(self):
        upload = self.cleaned_data.get("statement")
        if not upload:
            return None
        name = (upload.name or "").lower()
        if not name.endswith(steps.STATEMENT_EXTENSIONS):
            raise ValidationError(
                gettext("%(name)s is not a PDF or CSV file: download the statement as PDF or CSV.")
                % {"name": upload.name}
            )
        if not upload.size:
            raise ValidationError(gettext("%(name)s is empty.") % {"name": upload.name})
        if upload.size > steps.STATEMENT_MAX_BYTES:
            raise ValidationError(
                gettext("%(name)s is larger than 10 MB; upload the latest statement only.")
                % {"name": upload.name}
            )
        head = upload.read(2048)
        upload.seek(0)
        if name.endswith(".pdf") and not head.startswith(b"%PDF-"):
            raise ValidationError(
                gettext("%(name)s is not a readable PDF file.") % {"name": upload.name}
            )
        if name.endswith(".csv"):
            try:
                text = head.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = head.decode("cp1252", errors="replace")
            if "\x00" in text or not any(sep in text for sep in ",;\t"):
                raise ValidationError(
                    gettext("%(name)s does not look like a CSV statement.") % {"name": upload.name}
                )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        bn9 = data.get("bn9")
        raw = parse_accounts(data.get("accounts") or "")
        found, errors = check_accounts(raw, self.importer, bn9)
        if errors:
            self.add_error("accounts", errors)
        elif not found and not raw:
            self.add_error(
                "accounts",
                gettext("Enter your RM program account: imports are declared on it."),
            )
        self.bn15s = found
        values = {
            name: data.get(name, getattr(self.importer, name)) for name in steps.BUSINESS_FIELDS
        }
        values.update(
            {
                name: getattr(self.importer, name)
                for name in (
                    "mailing_same_as_legal",
                    "mailing_line1",
                    "mailing_line2",
                    "mailing_city",
                    "mailing_province",
                    "mailing_postal_code",
                )
            }
        )
        changed = [
            n for n in steps.BUSINESS_FIELDS if n in data and data[n] != getattr(self.importer, n)
        ]
        try:
            checked = check_importer(values, instance=self.importer, changed=changed)
        except ValidationError as exc:
            self.refuse("bn9", exc, {})
        else:
            self.values = {n: checked[n] or "" for n in steps.BUSINESS_FIELDS}
        if (
            not data.get("statement")
            and not self.saved_statement
            and not data.get("broker_retrieves")
            and "statement" not in self.errors
        ):
            self.add_error(
                "statement",
                gettext(
                    "Upload your latest statement of account, or tick the box to ask us to "
                    "retrieve it from CBSA."
                ),
            )
        return data

    def salvage(self) -> dict[str, Any]:
        keep: dict[str, Any] = {}
        if self.bn9_taken:
            # For the broker's staff, on the wizard's pages: the importer was only told to check.
            keep["bn9_taken"] = {"bn9": self.bn9_taken, "at": timezone.now().isoformat()}
        upload = self.cleaned_data.get("statement")
        if not upload or "statement" in self.errors:
            return keep
        stored = steps.keep_statement(
            importer=self.importer, upload=upload, replaces=self.saved_statement
        )
        self.saved = {**self.saved, "statement_file": stored.as_dict()}
        return {**keep, "statement_file": stored.as_dict()}

    def apply(self, *, by: User) -> steps.Outcome:
        outcome = steps.apply_business(
            importer=self.importer, values=self.values, accounts=self.bn15s, by=by
        )
        upload = self.cleaned_data.get("statement")
        if upload:
            stored = steps.keep_statement(
                importer=self.importer, upload=upload, replaces=self.saved_statement
            )
            outcome.keep["statement_file"] = stored.as_dict()
            # The statement is an import record: filed with the importer's compliance documents.
            file_stored(
                importer=self.importer,
                path=stored.path,
                name=stored.name,
                document_type=DocumentType.SOA,
                record_date=cbsa_today(),
                by=by,
                description=gettext("Uploaded in the onboarding wizard"),
            )
        outcome.keep["broker_retrieves"] = bool(self.cleaned_data.get("broker_retrieves"))
        return outcome
