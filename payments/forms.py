"""Forms of the payment pages: record a payment (with its allocation preview), allocate by hand,
change a payment's status, a security, an interest rate, a PAD bank account, and the list filters.

The rules are ``payments/validation.py``'s and the allocation ``payments/allocation.py``'s, so the
API answers exactly what these forms say.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from carm_portal.calendar import cbsa_today
from carm_portal.dates import business_date
from carm_portal.money import format_money
from carm_portal.widgets import DateInput
from clients.models import Importer
from payments.allocation import AllocationError, OpenStatement, Plan, open_statements_for, preview
from payments.models import BankAccount, FinancialSecurity, InterestRate, Payment
from payments.validation import (
    validate_bank_account,
    validate_payment,
    validate_review_amounts,
    validate_review_date,
    validate_security,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from clients.models import ProgramAccount

    _FormBase = forms.Form  # the mixin is only ever mixed into a form
else:
    _FormBase = object

AUTO, MANUAL = "auto", "manual"
ALLOCATION_CHOICES = [
    (AUTO, _("CBSA's rule: oldest overdue statement first, then the oldest due")),
    (MANUAL, _("By hand: the amounts below")),
]
RECORDABLE_METHODS = [
    (v, label) for v, label in Payment.Method.choices if v != Payment.Method.UNKNOWN
]


def money_field(label: StrOrPromise, **kwargs: Any) -> forms.DecimalField:
    kwargs.setdefault("min_value", Decimal("0.01"))
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **kwargs,
    )


def _statement_label(statement: OpenStatement, bn15: str, *, again: bool = False) -> str:
    text = (
        _("%(bn15)s · statement of %(day)s, due %(due)s: can take up to %(available)s")
        if again
        else _("%(bn15)s · statement of %(day)s, due %(due)s: %(available)s still owed")
    )
    return text % {
        "bn15": bn15,
        "day": statement.statement_date.isoformat(),
        "due": statement.due_date.isoformat(),
        "available": format_money(statement.available),
    }


class ManualAmountsMixin(_FormBase):
    """One optional amount field per statement still owing (``alloc_<statement id>``)."""

    def add_statement_fields(
        self, opens: dict[int, list[OpenStatement]], bn15s: dict[int, str], *, again: bool = False
    ) -> None:
        self.statements: dict[int, tuple[int, OpenStatement]] = {}
        for account_id, items in opens.items():
            for statement in items:
                if statement.available <= 0:
                    continue
                name = f"alloc_{statement.statement_id}"
                self.fields[name] = money_field(
                    _statement_label(statement, bn15s.get(account_id, ""), again=again),
                    required=False,
                    max_value=statement.available,
                )
                self.statements[statement.statement_id] = (account_id, statement)

    def manual_fields(self) -> list[forms.BoundField]:
        return [self[f"alloc_{sid}"] for sid in self.statements]

    def manual_amounts(self, account_id: int | None) -> dict[int, Decimal]:
        amounts: dict[int, Decimal] = {}
        for statement_id, (owner, _statement) in self.statements.items():
            value = self.cleaned_data.get(f"alloc_{statement_id}")
            if not value:
                continue
            if owner != account_id:
                self.add_error(
                    f"alloc_{statement_id}",
                    _("This statement is another program account's: it cannot take this payment."),
                )
                continue
            amounts[statement_id] = value
        return amounts


class PaymentForm(ManualAmountsMixin, forms.Form):
    program_account: forms.ModelChoiceField[ProgramAccount] = forms.ModelChoiceField(
        label=_("Program account (BN15)"), queryset=None
    )
    amount = money_field(_("Amount (CAD)"))
    method = forms.ChoiceField(label=_("Method"), choices=RECORDABLE_METHODS)
    paid_on = forms.DateField(
        label=_("Paid on"),
        widget=DateInput(),
        help_text=_(
            "Electronic payments count until 23:59 Eastern on the due date; a cheque must arrive by 16:00."
        ),
        validators=[business_date],
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=64,
        required=False,
        help_text=_("Bank confirmation number, cheque number or CCP receipt."),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (Payment.Status.PENDING, _("In transit: not on a statement yet")),
            (Payment.Status.CLEARED, _("Cleared: CBSA has it")),
        ],
        initial=Payment.Status.PENDING,
        help_text=_("Electronic payments take 2–3 business days to post, cheques 5–10."),
    )
    bank_account: forms.ModelChoiceField[BankAccount] = forms.ModelChoiceField(
        label=_("Bank account (pre-authorized debit)"), queryset=None, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    allocation = forms.ChoiceField(
        label=_("Apply it"), choices=ALLOCATION_CHOICES, initial=AUTO, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, importer: Importer, today: dt.date | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.importer = importer
        self.today = today or cbsa_today()
        self.plan: Plan | None = None
        accounts = list(importer.program_accounts.order_by("bn15"))
        account_field, bank_field = self.fields["program_account"], self.fields["bank_account"]
        assert isinstance(account_field, forms.ModelChoiceField)  # declared above as one
        assert isinstance(bank_field, forms.ModelChoiceField)  # declared above as one
        account_field.queryset = importer.program_accounts.order_by("bn15")
        if len(accounts) == 1:
            self.fields["program_account"].initial = accounts[0].pk
        bank_field.queryset = importer.bank_accounts.filter(status=BankAccount.Status.ACTIVE)
        self.fields["paid_on"].initial = self.today
        opens = open_statements_for([a.pk for a in accounts])
        self.add_statement_fields(opens, {a.pk: a.bn15 for a in accounts})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        manual = data.get("allocation") == MANUAL
        account = data.get("program_account")
        try:
            validate_payment(
                importer=self.importer,
                program_account=account,
                amount=data.get("amount"),
                method=data.get("method"),
                paid_on=data.get("paid_on"),
                bank_account=data.get("bank_account"),
                manual=manual,
                today=self.today,
            )
        except ValidationError as exc:
            self.add_error(None, exc)
            return data
        amounts = self.manual_amounts(account.pk if account else None) if manual else None
        if manual and not amounts and not self.errors:
            self.add_error("allocation", _("Enter the amount to apply to at least one statement."))
        if self.errors or account is None:
            return data
        try:
            self.plan = preview(
                program_account=account,
                amount=data["amount"],
                method=data["method"],
                paid_on=data["paid_on"],
                manual=amounts,
            )
        except AllocationError as exc:
            self.add_error("allocation" if not manual else None, exc.messages)
        data["manual"] = amounts
        return data


class AllocationForm(ManualAmountsMixin, forms.Form):
    """Apply (again) an existing payment: CBSA's rule, or by hand."""

    allocation = forms.ChoiceField(
        label=_("Apply it"), choices=ALLOCATION_CHOICES, initial=MANUAL, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, payment: Payment, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.payment = payment
        opens = open_statements_for([payment.program_account_id], exclude_payment_ids=[payment.pk])
        self.add_statement_fields(
            opens, {payment.program_account_id: payment.program_account.bn15}, again=True
        )
        current = {a.statement_id: a.amount for a in payment.allocations.all()}
        for statement_id, amount in current.items():
            name = f"alloc_{statement_id}"
            if name in self.fields:
                self.fields[name].initial = amount

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        if data.get("allocation") == MANUAL:
            data["manual"] = self.manual_amounts(self.payment.program_account_id)
            if not data["manual"] and not self.errors:
                self.add_error(
                    "allocation", _("Enter the amount to apply to at least one statement.")
                )
        else:
            data["manual"] = None
        return data


class PaymentStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[
            (Payment.Status.CLEARED, _("Cleared: CBSA has it")),
            (Payment.Status.RETURNED, _("Returned: the bank refused or reversed it")),
        ],
    )
    returned_on = forms.DateField(
        label=_("Returned on"), required=False, widget=DateInput(), validators=[business_date]
    )

    def __init__(self, *args: Any, payment: Payment | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if payment is not None and payment.status == Payment.Status.CLEARED:
            field = self.fields["status"]
            assert isinstance(field, forms.ChoiceField)  # declared above as one
            # Read back, a ChoiceField's choices are the list it was given; the stubs type the
            # property with everything its setter accepts.
            choices = cast("list[tuple[str, str]]", field.choices)
            field.choices = [c for c in choices if c[0] == Payment.Status.RETURNED]


class SecurityForm(forms.ModelForm):
    class Meta:
        model = FinancialSecurity
        fields = [
            "program_account",
            "kind",
            "surety_company",
            "bond_number",
            "amount",
            "effective_date",
            "expiry_date",
            "status",
            "notes",
        ]
        widgets = {
            "effective_date": DateInput(),
            "expiry_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, importer: Importer, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.importer = importer
        account = self.fields["program_account"]
        assert isinstance(account, forms.ModelChoiceField)  # the model's foreign key's form field
        account.queryset = importer.program_accounts.order_by("bn15")
        self.fields["program_account"].help_text = _("Security is posted per RM program account.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        try:
            cleaned = validate_security(
                program_account=data.get("program_account"),
                importer=self.importer,
                kind=data.get("kind"),
                surety_company=data.get("surety_company") or "",
                bond_number=data.get("bond_number") or "",
                amount=data.get("amount"),
                effective_date=data.get("effective_date"),
                expiry_date=data.get("expiry_date"),
                status=data.get("status"),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        else:
            data.update(cleaned)
            self.instance.surety_company = cleaned["surety_company"]
            self.instance.bond_number = cleaned["bond_number"]
        return data


class InterestRateForm(forms.ModelForm):
    class Meta:
        model = InterestRate
        fields = ["effective_from", "annual_rate", "note"]
        widgets = {"effective_from": DateInput()}

    def clean_annual_rate(self) -> Decimal:
        value = self.cleaned_data["annual_rate"]
        if value < 0 or value > 100:
            raise ValidationError(_("Enter a rate between 0 and 100 %."))
        return value


class BankAccountForm(forms.ModelForm):
    # Wider than the stored columns: people type "12-345"; clean() keeps the digits.
    institution_number = forms.CharField(
        label=_("Institution number"), max_length=10, help_text=_("3 digits, e.g. 003.")
    )
    transit_number = forms.CharField(
        label=_("Transit (branch) number"), max_length=12, help_text=_("5 digits.")
    )
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_(
            "5 to 12 digits. Stored encrypted; only the importer's BAMs can see it in full."
        ),
    )

    class Meta:
        model = BankAccount
        fields = [
            "label",
            "holder_name",
            "institution_number",
            "transit_number",
            "pad_agreement_on",
        ]
        widgets = {"pad_agreement_on": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # Editing: the number is typed again only to change it; the page never prints it.
            field = self.fields["account_number"]
            field.required = False
            field.label = _("New account number")
            field.help_text = _(
                "Leave blank to keep the number ending in %(digits)s. 5 to 12 digits, stored "
                "encrypted; only the importer's BAMs can see it in full."
            ) % {"digits": self.instance.account_last_digits}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        number = data.get("account_number") or ""
        try:
            cleaned = validate_bank_account(
                institution_number=data.get("institution_number") or "",
                transit_number=data.get("transit_number") or "",
                # A blank number on an existing account keeps the stored one.
                account_number=None if not number and self.instance.pk else number,
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        else:
            data.update(cleaned)
            self.instance.institution_number = cleaned["institution_number"]
            self.instance.transit_number = cleaned["transit_number"]
        return data


# --- Filters -------------------------------------------------------------------------------------


class PaymentFilterForm(forms.Form):
    q = forms.CharField(label=_("Importer, BN15 or reference"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Payment.Status.choices]
    )
    method = forms.ChoiceField(
        label=_("Method"), required=False, choices=[("", _("Any method")), *Payment.Method.choices]
    )
    unapplied = forms.BooleanField(label=_("With money not applied"), required=False)
    importer = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(
            self.data.get(name) for name in ("q", "status", "method", "unapplied", "importer")
        )


class SecurityFilterForm(forms.Form):
    q = forms.CharField(label=_("Importer, BN15 or bond number"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Any kind")), *FinancialSecurity.Kind.choices],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *FinancialSecurity.Status.choices],
    )
    expiring_within = forms.IntegerField(
        label=_("Expiring within (days)"), required=False, min_value=0, max_value=3650
    )
    importer = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(
            self.data.get(name) for name in ("q", "kind", "status", "expiring_within", "importer")
        )


class SecurityReviewForm(forms.Form):
    """The requirement CBSA set for an RM account at an annual review, from its notice."""

    review_date = forms.DateField(
        label=_("Review date"),
        widget=DateInput(),
        validators=[business_date],
        help_text=_("CBSA reviews every RM account on 20 October."),
    )
    required_bond = money_field(
        _("Required as a surety bond"), help_text=_("The figure on CBSA's notice.")
    )
    required_cash = money_field(
        _("Required as a cash deposit"),
        required=False,
        help_text=_("Blank: twice the bond, within the $5,000 to $10,000,000 limits."),
    )
    cbsa_reference = forms.CharField(label=_("CBSA reference"), max_length=80, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_review_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["review_date"]
        try:
            validate_review_date(value, today=self.today)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        bond = data.get("required_bond")
        if bond is None:
            return data
        try:
            data["required_cash"] = validate_review_amounts(bond, data.get("required_cash"))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data
