"""Step 1: financial security (a surety bond, a cash deposit, or not yet)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carm_portal.dates import business_date
from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms.base import WizardForm, active_accounts
from clients.forms import DateInput
from clients.models import Importer, ProgramAccount
from payments.models import FinancialSecurity
from payments.validation import validate_security


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
    effective_date = forms.DateField(
        label=_("Effective date"), required=False, widget=DateInput(), validators=[business_date]
    )
    expiry_date = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave blank for a cash deposit or a continuous bond."),
        validators=[business_date],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = active_accounts(self.importer)
        account = self.fields["program_account"]
        assert isinstance(account, forms.ModelChoiceField)  # declared above as one
        account.queryset = accounts
        account.empty_label = _("Choose the account")
        self.requirements = steps.security_requirements(self.importer, self.today)

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "method": steps.SecurityMethod.SURETY_BOND,
            "state": steps.SecurityState.NOT_YET,
        }
        accounts = list(active_accounts(importer))
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
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        method, state = data.get("method"), data.get("state")
        if method not in steps.POSTED_METHODS:
            return data
        if not state:
            self.add_error("state", gettext("Say whether the bond or deposit is in place."))
            return data
        if state == steps.SecurityState.NOT_YET:
            return data
        account = self.fields["program_account"]
        assert isinstance(account, forms.ModelChoiceField)  # declared above as one
        assert account.queryset is not None  # set in __init__: the importer's active accounts
        if not account.queryset.exists():
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
