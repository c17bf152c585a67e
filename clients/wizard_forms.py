"""One form per step of the onboarding wizard (``clients/wizard_steps.py`` names the steps).

Every form takes the importer, the signed-in user, CBSA's today and what the wizard saved for the
step (``saved``), validates with the rules the broker's own pages use (``clients.validators``,
``clients.validation``, ``payments.validation``, ``delegation.validation``, ``PortalUserForm``),
and ``apply()`` hands the cleaned answers to ``wizard_steps``. ``initial_from_records()`` fills a
step nobody has answered yet from what the broker already holds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carm_portal.models import User
from clients import wizard_steps as steps
from clients.forms import DateInput, PortalUserForm
from clients.models import Importer, PortalUser, ProgramAccount, Province
from clients.validation import check_account_owner, check_importer
from clients.validators import normalize_bn9, normalize_bn15
from delegation.models import Delegation
from delegation.validation import validate_delegation
from payments.models import FinancialSecurity
from payments.validation import validate_security

Role = PortalUser.CcpRole

EXPIRY_EXPLANATION = _(
    "Enter the expiry date you chose in the CCP; this step cannot be finished without it. "
    "CBSA does not let a broker act on an account whose delegation has a blank expiry date: "
    "we would lose access without any warning, your declarations would go to reject status and "
    "late-accounting penalties would follow. If you left the date blank in the CCP, go back to "
    "the business relationship, set an end date (one or two years from now is usual) and enter "
    "it here."
)


def _accounts(importer: Importer):
    return ProgramAccount.objects.filter(
        importer=importer, status=ProgramAccount.Status.ACTIVE
    ).order_by("bn15")


class WizardForm(forms.Form):
    """What every step's form knows: whose wizard it is, who answers, and the step's saved extras."""

    template_name_div = None  # rendered by the step templates, field by field

    def __init__(
        self,
        *args: Any,
        importer: Importer,
        user: User,
        today: dt.date,
        saved: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.importer = importer
        self.user = user
        self.today = today
        self.saved = saved or {}

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        return {}

    def apply(self, *, by: User) -> steps.Outcome:
        raise NotImplementedError

    def salvage(self) -> dict[str, Any]:
        """On an invalid submission, what is worth keeping anyway (a good file among bad answers:
        a browser cannot re-fill a file input). Nothing by default."""
        return {}

    def refuse(self, field: str | None, exc: ValidationError, mapping: dict[str, str]) -> None:
        """Put a rule's ``{model_field: [messages]}`` errors under this form's field names."""
        for name, messages in exc.message_dict.items():
            target = mapping.get(name, name if name in self.fields else field)
            if target is None or target not in self.errors:
                self.add_error(target, messages)


# --- Step 1 ---------------------------------------------------------------------------------------


class SecurityForm(WizardForm):
    method = forms.ChoiceField(
        label=_("How will you secure your imports?"),
        choices=steps.SecurityMethod.choices,
        widget=forms.RadioSelect,
    )
    state = forms.ChoiceField(
        label=_("Where is it now?"),
        choices=steps.SecurityState.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("For a bond or a cash deposit."),
    )
    program_account = forms.ModelChoiceField(
        label=_("RM program account it covers"),
        queryset=ProgramAccount.objects.none(),
        required=False,
        help_text=_("Security is posted per RM program account."),
    )
    surety_company = forms.CharField(label=_("Surety company"), max_length=120, required=False)
    bond_number = forms.CharField(label=_("Bond number"), max_length=40, required=False)
    amount = forms.DecimalField(
        label=_("Amount (CAD)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    effective_date = forms.DateField(label=_("Effective date"), required=False, widget=DateInput())
    expiry_date = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave blank for a cash deposit or a continuous bond."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = _accounts(self.importer)
        self.fields["program_account"].queryset = accounts
        self.fields["program_account"].empty_label = _("Choose the account")
        self.requirements = steps.security_requirements(self.importer, self.today)

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "method": steps.SecurityMethod.SURETY_BOND,
            "state": steps.SecurityState.NOT_YET,
        }
        accounts = list(_accounts(importer))
        if len(accounts) == 1:
            initial["program_account"] = accounts[0].pk
        security = (
            FinancialSecurity.objects.filter(program_account__importer=importer)
            .exclude(status__in=[FinancialSecurity.Status.CANCELLED])
            .order_by("-effective_date", "-id")
            .first()
        )
        if security is not None:
            initial.update(
                method=security.kind,
                state=(
                    steps.SecurityState.IN_FORCE
                    if security.status == FinancialSecurity.Status.ACTIVE
                    else steps.SecurityState.SUBMITTED
                ),
                program_account=security.program_account_id,
                surety_company=security.surety_company,
                bond_number=security.bond_number,
                amount=security.amount,
                effective_date=security.effective_date,
                expiry_date=security.expiry_date,
            )
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        method, state = data.get("method"), data.get("state")
        if method not in steps.POSTED_METHODS:
            return data
        if not state:
            self.add_error("state", gettext("Say whether the bond or deposit is in place."))
            return data
        if state == steps.SecurityState.NOT_YET:
            return data
        if not self.fields["program_account"].queryset.exists():
            self.add_error(
                "program_account",
                gettext(
                    "We need your RM program account first: enter it in step 4 (Business "
                    "information), then come back to record the security."
                ),
            )
            return data
        if not data.get("program_account") and "program_account" not in self.errors:
            self.add_error("program_account", gettext("Choose the RM account it covers."))
        if data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", gettext("Enter the amount of the security."))
        status = (
            FinancialSecurity.Status.ACTIVE
            if state == steps.SecurityState.IN_FORCE
            else FinancialSecurity.Status.PENDING
        )
        try:
            cleaned = validate_security(
                program_account=data.get("program_account"),
                importer=self.importer,
                kind=method,
                surety_company=data.get("surety_company") or "",
                bond_number=data.get("bond_number") or "",
                amount=data.get("amount"),
                effective_date=data.get("effective_date"),
                expiry_date=data.get("expiry_date"),
                status=status,
            )
        except ValidationError as exc:
            self.refuse(None, exc, {})
            return data
        data.update(cleaned)
        if method == steps.SecurityMethod.SURETY_BOND and cleaned["bond_number"]:
            others = FinancialSecurity.objects.filter(
                surety_company=cleaned["surety_company"], bond_number=cleaned["bond_number"]
            ).exclude(pk=self.saved.get("security_id") or 0)
            if others.exists():
                self.add_error(
                    "bond_number",
                    gettext("This bond number of this surety is already recorded."),
                )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_security(
            importer=self.importer,
            method=d["method"],
            state=d.get("state") or steps.SecurityState.NOT_YET,
            program_account=d.get("program_account"),
            surety_company=d.get("surety_company") or "",
            bond_number=d.get("bond_number") or "",
            amount=d.get("amount"),
            effective_date=d.get("effective_date"),
            expiry_date=d.get("expiry_date"),
            security_id=self.saved.get("security_id"),
            by=by,
            today=self.today,
        )


# --- Step 2 ---------------------------------------------------------------------------------------

RESPONSIBILITIES = [
    (PortalUser.Responsibility.PAYMENTS, PortalUser.Responsibility.PAYMENTS.label),
    (PortalUser.Responsibility.CUSTOMS, PortalUser.Responsibility.CUSTOMS.label),
    (PortalUser.Responsibility.BOTH, PortalUser.Responsibility.BOTH.label),
]


class BamsForm(WizardForm):
    """Two slots, one BAM each (the second optional: a warning, not an error, when it is empty)."""

    SLOTS = (1, 2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = {1: PortalUser.Responsibility.PAYMENTS, 2: PortalUser.Responsibility.CUSTOMS}
        for n in self.SLOTS:
            first = n == 1
            self.fields[f"bam{n}_id"] = forms.IntegerField(required=False, widget=forms.HiddenInput)
            self.fields[f"bam{n}_name"] = forms.CharField(
                label=_("Full name"), max_length=150, required=first
            )
            self.fields[f"bam{n}_email"] = forms.EmailField(
                label=_("Email"),
                required=first,
                widget=forms.EmailInput(attrs={"autocomplete": "off"}),
            )
            self.fields[f"bam{n}_responsibility"] = forms.ChoiceField(
                label=_("Responsible for"),
                choices=RESPONSIBILITIES,
                initial=defaults[n],
            )

    def slots(self) -> list[dict[str, forms.BoundField]]:
        """The bound fields of each slot, for the template's fieldsets."""
        return [
            {
                "n": n,
                "id": self[f"bam{n}_id"],
                "name": self[f"bam{n}_name"],
                "email": self[f"bam{n}_email"],
                "responsibility": self[f"bam{n}_responsibility"],
            }
            for n in self.SLOTS
        ]

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        bams = list(importer.portal_users.filter(ccp_role=Role.BAM).order_by("id")[:2])
        for n, person in enumerate(bams, start=1):
            initial.update(
                {
                    f"bam{n}_id": person.pk,
                    f"bam{n}_name": person.full_name,
                    f"bam{n}_email": person.email,
                    f"bam{n}_responsibility": person.responsibility
                    or (
                        PortalUser.Responsibility.PAYMENTS
                        if n == 1
                        else PortalUser.Responsibility.CUSTOMS
                    ),
                }
            )
        if not bams and importer.memberships.filter(user=user).exists():
            initial.update(bam1_name=user.full_name, bam1_email=user.email)  # most likely them
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen: dict[str, int] = {}
        self.answers: list[steps.BamAnswer] = []
        for n in self.SLOTS:
            name = (data.get(f"bam{n}_name") or "").strip()
            email = (data.get(f"bam{n}_email") or "").strip().lower()
            if n > 1 and not name and not email:
                continue
            if not name and f"bam{n}_name" not in self.errors:
                self.add_error(f"bam{n}_name", gettext("Enter this person's full name."))
            if not email and f"bam{n}_email" not in self.errors:
                self.add_error(f"bam{n}_email", gettext("Enter this person's email."))
            if not (name and email):
                continue
            if email in seen:
                self.add_error(
                    f"bam{n}_email",
                    gettext("Both BAMs have the same email: each needs their own CCP profile."),
                )
                continue
            seen[email] = n
            pk = data.get(f"bam{n}_id")
            if pk and not self.importer.portal_users.filter(pk=pk).exists():
                pk = None  # not one of this importer's people: treat as a new person
            if pk:
                clash = self.importer.portal_users.filter(email=email).exclude(pk=pk).first()
                if clash is not None:
                    self.add_error(
                        f"bam{n}_email",
                        gettext("%(email)s is already recorded for %(name)s.")
                        % {"email": email, "name": clash.full_name},
                    )
                    continue
            self.answers.append(
                steps.BamAnswer(
                    full_name=name,
                    email=email,
                    responsibility=data.get(f"bam{n}_responsibility") or "",
                    portal_user_id=pk,
                )
            )
        return data

    @property
    def warning(self) -> str | None:
        return steps.bam_warning(len(getattr(self, "answers", [])))

    def apply(self, *, by: User) -> steps.Outcome:
        return steps.apply_bams(importer=self.importer, bams=self.answers, by=by)


# --- Steps 3 and 6: the importer's people ---------------------------------------------------------

SIGN_IN_CHOICES = [("", _("Not known yet")), *PortalUser.SignInMethod.choices]
NEW_ROLES = [
    (Role.EDITOR, Role.EDITOR.label),
    (Role.READER, Role.READER.label),
    (Role.PAM, Role.PAM.label),
]


class PeopleForm(WizardForm):
    """A form with fields per existing portal user, named ``p<id>_<what>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = list(self.importer.portal_users.select_related("program_account"))
        self.accounts = list(_accounts(self.importer))
        self.accounts_by_pk = {a.pk: a for a in self.accounts}
        for person in self.people:
            self.add_person_fields(person)

    def add_person_fields(self, person: PortalUser) -> None:
        raise NotImplementedError

    def rows(self, *names: str) -> list[dict[str, Any]]:
        return [
            {"person": p, **{name: self[f"p{p.pk}_{name}"] for name in names}} for p in self.people
        ]


class ProfilesForm(PeopleForm):
    new_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    new_email = forms.EmailField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    new_role = forms.ChoiceField(label=_("CCP role"), choices=NEW_ROLES, initial=Role.READER)
    new_account = forms.ModelChoiceField(
        label=_("Program account (PAM only)"),
        queryset=ProgramAccount.objects.none(),
        required=False,
    )
    new_sign_in = forms.ChoiceField(
        label=_("Sign-in method"), choices=SIGN_IN_CHOICES, required=False
    )
    new_profile = forms.BooleanField(label=_("CCP profile created"), required=False)

    NEW_FIELDS = {
        "full_name": "new_name",
        "email": "new_email",
        "ccp_role": "new_role",
        "program_account": "new_account",
        "sign_in_method": "new_sign_in",
        "profile_created": "new_profile",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_account"].queryset = _accounts(self.importer)
        self.fields["new_account"].empty_label = _("None")

    def add_person_fields(self, person: PortalUser) -> None:
        self.fields[f"p{person.pk}_sign_in"] = forms.ChoiceField(
            label=_("Sign-in method"), choices=SIGN_IN_CHOICES, required=False
        )
        self.fields[f"p{person.pk}_profile"] = forms.BooleanField(
            label=_("CCP profile created"), required=False
        )

    def person_rows(self) -> list[dict[str, Any]]:
        return self.rows("sign_in", "profile")

    def new_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.NEW_FIELDS.values()]

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for p in importer.portal_users.all():
            initial[f"p{p.pk}_sign_in"] = p.sign_in_method
            initial[f"p{p.pk}_profile"] = p.profile_created
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.new_person: steps.NewPerson | None = None
        if not (data.get("new_name") or "").strip() and not data.get("new_email"):
            return data
        # The people page's rules, unchanged: a unique email, a PAM with its account.
        person_form = PortalUserForm(
            data={
                "full_name": data.get("new_name") or "",
                "email": data.get("new_email") or "",
                "ccp_role": data.get("new_role") or "",
                "program_account": data["new_account"].pk if data.get("new_account") else "",
                "sign_in_method": data.get("new_sign_in") or "",
                "responsibility": "",
                "profile_created": "on" if data.get("new_profile") else "",
            },
            importer=self.importer,
        )
        if not person_form.is_valid():
            for name, errors in person_form.errors.items():
                target = self.NEW_FIELDS.get(name)
                if target and target not in self.errors:
                    self.add_error(target, errors)
            return data
        c = person_form.cleaned_data
        self.new_person = steps.NewPerson(
            full_name=c["full_name"],
            email=c["email"],
            ccp_role=c["ccp_role"],
            program_account=c.get("program_account"),
            sign_in_method=c.get("sign_in_method") or "",
            profile_created=bool(c.get("profile_created")),
        )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_profiles(
            importer=self.importer,
            profiles=[
                steps.ProfileAnswer(
                    portal_user_id=p.pk,
                    sign_in_method=d.get(f"p{p.pk}_sign_in") or "",
                    profile_created=bool(d.get(f"p{p.pk}_profile")),
                )
                for p in self.people
            ],
            new_person=self.new_person,
            by=by,
        )


class EmployeeAccessForm(PeopleForm):
    def add_person_fields(self, person: PortalUser) -> None:
        self.fields[f"p{person.pk}_role"] = forms.ChoiceField(
            label=_("CCP role"), choices=Role.choices
        )
        # The accounts are loaded once for every row (a ModelChoiceField would query per row).
        self.fields[f"p{person.pk}_account"] = forms.TypedChoiceField(
            label=_("Program account (PAM only)"),
            choices=[("", _("None")), *((a.pk, a.bn15) for a in self.accounts)],
            coerce=lambda pk: self.accounts_by_pk[int(pk)],
            empty_value=None,
            required=False,
        )
        self.fields[f"p{person.pk}_approved"] = forms.BooleanField(
            label=_("Access approved by a BAM"), required=False
        )

    def person_rows(self) -> list[dict[str, Any]]:
        return self.rows("role", "account", "approved")

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for p in importer.portal_users.all():
            initial[f"p{p.pk}_role"] = p.ccp_role
            initial[f"p{p.pk}_account"] = p.program_account_id
            initial[f"p{p.pk}_approved"] = p.access_approved
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for p in self.people:
            if data.get(f"p{p.pk}_role") == Role.PAM and not data.get(f"p{p.pk}_account"):
                self.add_error(
                    f"p{p.pk}_account",
                    gettext("A Program Account Manager needs the program account they manage."),
                )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_employee_access(
            importer=self.importer,
            answers=[
                steps.AccessAnswer(
                    portal_user_id=p.pk,
                    ccp_role=d[f"p{p.pk}_role"],
                    program_account=d.get(f"p{p.pk}_account"),
                    access_approved=bool(d.get(f"p{p.pk}_approved")),
                )
                for p in self.people
            ],
            by=by,
        )


# --- Step 4 ---------------------------------------------------------------------------------------

_ACCOUNT_SPLIT = re.compile(r"[\n,;]+")


def parse_accounts(text: str) -> list[str]:
    """The RM accounts typed one per line (or separated by commas), blanks dropped."""
    return [part.strip() for part in _ACCOUNT_SPLIT.split(text or "") if part.strip()]


def check_bn9(value: str, importer: Importer) -> str:
    """The Business Number normalised, unique among the broker's importers; else ValidationError."""
    bn9 = normalize_bn9(value)
    if Importer.objects.exclude(pk=importer.pk).filter(bn9=bn9).exists():
        raise ValidationError(
            gettext(
                "Business Number %(bn9)s is already recorded for another business: check it, "
                "or ask your broker."
            )
            % {"bn9": bn9}
        )
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
        url = reverse("onboarding:validate", args=[self.importer.pk])
        for name in ("bn9", "accounts"):
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
        initial["accounts"] = "\n".join(_accounts(importer).values_list("bn15", flat=True))
        return initial

    @property
    def saved_statement(self) -> dict[str, Any] | None:
        return self.saved.get("statement_file")

    def clean_bn9(self) -> str:
        return check_bn9(self.cleaned_data["bn9"], self.importer)

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
        upload = self.cleaned_data.get("statement")
        if not upload or "statement" in self.errors:
            return {}
        stored = steps.keep_statement(
            importer=self.importer, upload=upload, replaces=self.saved_statement
        )
        self.saved = {**self.saved, "statement_file": stored.as_dict()}
        return {"statement_file": stored.as_dict()}

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
        outcome.keep["broker_retrieves"] = bool(self.cleaned_data.get("broker_retrieves"))
        return outcome


# --- Step 5 ---------------------------------------------------------------------------------------


class RegistrationForm(WizardForm):
    registered = forms.BooleanField(
        label=_("Yes, our business is registered in the CCP"), required=False
    )
    registered_on = forms.DateField(
        label=_("Date of registration"), required=False, widget=DateInput()
    )

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        row = importer.onboarding_steps.filter(step=steps.Step.REGISTRATION).first()
        if row is not None and row.manual_status == "done":
            return {"registered": True, "registered_on": row.completed_on}
        return {}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day = data.get("registered_on")
        if data.get("registered") and not day and "registered_on" not in self.errors:
            self.add_error("registered_on", gettext("Enter the date you registered the business."))
        if day and day > self.today:
            self.add_error(
                "registered_on", gettext("The registration date cannot be in the future.")
            )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_registration(
            importer=self.importer,
            registered=bool(d.get("registered")),
            registered_on=d.get("registered_on"),
            by=by,
        )


# --- Step 7 ---------------------------------------------------------------------------------------


class BrokerAccessForm(WizardForm):
    relationship = forms.ChoiceField(
        label=_("Relationship you approved"),
        choices=[
            (
                Delegation.Relationship.BMR,
                _(
                    "Business Management Relationship (BMR): all program accounts, including future ones (recommended)"
                ),
            ),
            (
                Delegation.Relationship.PMR,
                _("Program Management Relationship (PMR): only the program accounts selected"),
            ),
        ],
        initial=Delegation.Relationship.BMR,
        widget=forms.RadioSelect,
    )
    authority = forms.ChoiceField(
        label=_("Authority you delegated"),
        choices=[
            (Delegation.Authority.PBAM, _("proxy Business Account Manager (pBAM) (recommended)")),
            (
                Delegation.Authority.PPAM,
                _("proxy Program Account Manager (pPAM): one program account"),
            ),
        ],
        initial=Delegation.Authority.PBAM,
        widget=forms.RadioSelect,
    )
    program_accounts = forms.ModelMultipleChoiceField(
        label=_("Program accounts covered (PMR only)"),
        queryset=ProgramAccount.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approved_on = forms.DateField(
        label=_("Date you approved our request"),
        widget=DateInput(),
        error_messages={"required": _("Enter the date you approved our request in the CCP.")},
    )
    expiry_date = forms.DateField(
        label=_("Expiry date"),
        widget=DateInput(),
        help_text=_("The last day we may act for you; it cannot be left blank."),
        error_messages={"required": EXPIRY_EXPLANATION},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program_accounts"].queryset = _accounts(self.importer)

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        delegation = (
            importer.delegations.filter(status=Delegation.Status.ACTIVE)
            .order_by("-approved_on", "-id")
            .first()
        )
        if delegation is None:
            return {"approved_on": today}
        return {
            "relationship": delegation.relationship,
            "authority": delegation.authority,
            "program_accounts": [a.pk for a in delegation.program_accounts.all()],
            "approved_on": delegation.approved_on or today,
            "expiry_date": delegation.expiry_date,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        expiry_missing = "expiry_date" in self.errors or not data.get("expiry_date")
        try:
            values = validate_delegation(
                importer=self.importer,
                relationship=data.get("relationship"),
                status=Delegation.Status.ACTIVE,
                program_accounts=data.get("program_accounts") or [],
                requested_on=None,
                approved_on=data.get("approved_on"),
                expiry_date=data.get("expiry_date"),
                blank_expiry_confirmed=False,  # the wizard never accepts a blank date
                revoked_on=None,
                is_new=True,
                today=self.today,
            )
        except ValidationError as exc:
            errors = exc.message_dict
            if expiry_missing:
                errors.pop("expiry_date", None)  # the field's own message explains why
            if errors:
                self.refuse(None, ValidationError(errors), {})
        else:
            data["program_accounts"] = list(values.program_accounts)
        if (
            not self.errors
            and data.get("authority") == Delegation.Authority.PPAM
            and (
                data.get("relationship") != Delegation.Relationship.PMR
                or len(data.get("program_accounts") or []) != 1
            )
        ):
            self.add_error(
                "authority",
                gettext(
                    "A pPAM acts on one program account: choose PMR and that one account, or "
                    "choose pBAM."
                ),
            )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_broker_access(
            importer=self.importer,
            relationship=d["relationship"],
            authority=d["authority"],
            program_accounts=d.get("program_accounts") or [],
            approved_on=d["approved_on"],
            expiry_date=d["expiry_date"],
            delegation_id=self.saved.get("delegation_id"),
            by=by,
            today=self.today,
        )


FORMS: dict[str, type[WizardForm]] = {
    "security": SecurityForm,
    "bams": BamsForm,
    "profiles": ProfilesForm,
    "business": BusinessForm,
    "registration": RegistrationForm,
    "employee-access": EmployeeAccessForm,
    "broker-access": BrokerAccessForm,
}
