"""Step 7: the broker's access (the delegation the importer approved in the CCP)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carm_portal.dates import business_date
from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms.base import WizardForm, active_accounts
from carm_portal.widgets import DateInput
from clients.models import Importer, ProgramAccount
from delegation.models import Delegation
from delegation.validation import validate_delegation

# Short, and shown once, at the field (the summary links to it): why a blank date is dangerous is
# the page's explanation above the form, not a paragraph repeated in every error.
EXPIRY_REQUIRED = _("Enter the expiry date you chose in the CCP; it cannot be left blank.")


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
        validators=[business_date],
    )
    expiry_date = forms.DateField(
        label=_("Expiry date"),
        widget=DateInput(),
        help_text=_("The last day we may act for you; it cannot be left blank."),
        error_messages={"required": EXPIRY_REQUIRED},
        validators=[business_date],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = self.fields["program_accounts"]
        assert isinstance(accounts, forms.ModelMultipleChoiceField)  # declared above as one
        accounts.queryset = active_accounts(self.importer)

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
        assert data is not None  # BaseForm.clean returns self.cleaned_data
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
