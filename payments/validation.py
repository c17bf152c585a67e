"""The rules of a payment, a security and a bank account record, in one place for pages and API.

Each ``validate_*`` takes the values a write would store and raises a Django
``ValidationError({field: [messages]})`` naming every rule broken at once; field names are the
model's, so a form shows each message under its field and the API answers ``{field: [...]}``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from carm_portal.dates import check_business_date
from carm_portal.money import ZERO, format_money, from_cents, sum_cents
from clients.models import Importer, ProgramAccount
from payments import crypto
from payments.allocation import broker_needs_hand
from payments.models import BankAccount, FinancialSecurity, Payment
from payments.rules import CASH_DEPOSIT, REVIEW_DAY, REVIEW_MONTH, SURETY_BOND
from payments.security import FACTORS, MAXIMUM, MINIMUM, requirement_from_peak
from statements.billing import billing_period


def credit_card_room(
    *, program_account: ProgramAccount, paid_on: dt.date, exclude_payment_id: int | None = None
) -> tuple[Decimal, Decimal]:
    """(already paid by card, still allowed) in the billing cycle holding ``paid_on``."""
    period = billing_period(paid_on)
    used = Payment.objects.filter(
        program_account=program_account,
        method=Payment.Method.CREDIT_CARD,
        paid_on__gte=period.start,
        paid_on__lte=period.end,
    ).exclude(status=Payment.Status.RETURNED)
    if exclude_payment_id:
        used = used.exclude(pk=exclude_payment_id)
    total = from_cents(used.aggregate(total=sum_cents("amount"))["total"])
    return total, max(settings.PAYMENTS_CREDIT_CARD_LIMIT - total, ZERO)


def validate_payment(
    *,
    importer: Importer,
    program_account: ProgramAccount | None,
    amount: Decimal | None,
    method: str | None,
    paid_on: dt.date | None,
    bank_account: BankAccount | None,
    manual: bool,
    today: dt.date,
    exclude_payment_id: int | None = None,
) -> None:
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if program_account is not None and program_account.importer_id != importer.pk:
        refuse(
            "program_account",
            _("%(bn15)s is not a program account of this importer.")
            % {"bn15": program_account.bn15},
        )
    if amount is not None and amount <= ZERO:
        refuse("amount", _("Enter an amount greater than zero."))
    if paid_on is not None and paid_on > today:
        refuse("paid_on", _("A payment cannot be dated in the future: record it once it is made."))
    if method == Payment.Method.UNKNOWN:
        refuse("method", _("Choose how the payment was made."))
    if bank_account is not None:
        if method != Payment.Method.PAD:
            refuse("bank_account", _("A bank account goes with a pre-authorized debit only."))
        if bank_account.importer_id != importer.pk:
            refuse("bank_account", _("This bank account is not the importer's."))
        elif bank_account.status != BankAccount.Status.ACTIVE:
            refuse("bank_account", _("This bank account is no longer used."))
    if method == Payment.Method.BROKER and not manual:
        refuse("allocation", broker_needs_hand())
    if (
        method == Payment.Method.CREDIT_CARD
        and program_account is not None
        and paid_on is not None
        and amount is not None
        and amount > ZERO
    ):
        used, room = credit_card_room(
            program_account=program_account, paid_on=paid_on, exclude_payment_id=exclude_payment_id
        )
        if amount > room:
            period = billing_period(paid_on)
            refuse(
                "amount",
                _(
                    "CBSA accepts at most %(limit)s by credit card per billing cycle per program "
                    "account. %(used)s was already paid by card on %(bn15)s in the cycle "
                    "%(start)s – %(end)s, so at most %(room)s more can be: pay the rest another "
                    "way (online banking, pre-authorized debit)."
                )
                % {
                    "limit": format_money(settings.PAYMENTS_CREDIT_CARD_LIMIT),
                    "used": format_money(used),
                    "bn15": program_account.bn15,
                    "start": period.start.isoformat(),
                    "end": period.end.isoformat(),
                    "room": format_money(room),
                },
            )
    if errors:
        raise ValidationError(errors)


def validate_return(*, payment: Payment, returned_on: dt.date, today: dt.date) -> None:
    """A payment comes back after it was made, and not in the future."""
    if returned_on < payment.paid_on:
        raise ValidationError(
            {
                "returned_on": [
                    _("A payment cannot come back before it was made (%(paid_on)s).")
                    % {"paid_on": payment.paid_on.isoformat()}
                ]
            }
        )
    if returned_on > today:
        raise ValidationError(
            {"returned_on": [_("Record a returned payment once it has come back, not before.")]}
        )


def validate_security(
    *,
    program_account: ProgramAccount | None,
    importer: Importer | None,
    kind: str | None,
    surety_company: str,
    bond_number: str,
    amount: Decimal | None,
    effective_date: dt.date | None,
    expiry_date: dt.date | None,
    status: str | None,
) -> dict[str, str]:
    """Check a security record; returns the text fields cleaned (a cash deposit has no surety)."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if (
        importer is not None
        and program_account is not None
        and program_account.importer_id != importer.pk
    ):
        refuse(
            "program_account",
            _("%(bn15)s is not a program account of this importer.")
            % {"bn15": program_account.bn15},
        )
    surety_company, bond_number = surety_company.strip(), bond_number.strip().upper()
    if kind == FinancialSecurity.Kind.SURETY_BOND:
        if not surety_company:
            refuse("surety_company", _("Name the surety company that issued the bond."))
        if not bond_number and status == FinancialSecurity.Status.ACTIVE:
            refuse("bond_number", _("Enter the bond number of a bond in force."))
    elif kind == FinancialSecurity.Kind.CASH_DEPOSIT:
        surety_company, bond_number = "", ""
    if amount is not None and amount <= ZERO:
        refuse("amount", _("Enter an amount greater than zero."))
    if status == FinancialSecurity.Status.ACTIVE and effective_date is None:
        refuse("effective_date", _("Enter the date the security took effect."))
    if effective_date and expiry_date and expiry_date < effective_date:
        refuse("expiry_date", _("The expiry date cannot come before the effective date."))
    if errors:
        raise ValidationError(errors)
    return {"surety_company": surety_company, "bond_number": bond_number}


def validate_bank_account(
    *, institution_number: str, transit_number: str, account_number: str | None
) -> dict[str, str]:
    """Digits only: institution 3, transit 5, account 5 to 12. Returns them normalised."""
    errors: dict[str, list[str]] = {}
    institution = "".join(institution_number.split())
    transit = "".join(transit_number.replace("-", "").split())
    if not (institution.isdigit() and len(institution) == 3):
        errors["institution_number"] = [_("An institution number is 3 digits, e.g. 001.")]
    if not (transit.isdigit() and len(transit) == 5):
        errors["transit_number"] = [_("A transit (branch) number is 5 digits.")]
    number = ""
    if account_number is not None:
        try:
            number = crypto.normalize_account_number(account_number)
        except ValueError:
            errors["account_number"] = [_("An account number is 5 to 12 digits.")]
    if errors:
        raise ValidationError(errors)
    return {"institution_number": institution, "transit_number": transit, "account_number": number}


def validate_review_date(review_date: dt.date, *, today: dt.date) -> None:
    """An annual review is held on 20 October, and one in the future has not set anything yet."""
    check_business_date(review_date)
    if (review_date.month, review_date.day) != (REVIEW_MONTH, REVIEW_DAY):
        raise ValidationError(
            _("CBSA's annual review is on 20 October: enter the 20 October of the review's year.")
        )
    if review_date > today:
        raise ValidationError(_("This review has not taken place yet."))


def validate_review_amounts(bond: Decimal, cash: Decimal | None) -> Decimal:
    """The cash figure of a review (twice the bond when not given, the rule of
    ``requirement_from_peak``); both within CBSA's $5,000 – $10,000,000 per RM account."""
    if cash is None:
        cash = requirement_from_peak(bond / FACTORS[SURETY_BOND], CASH_DEPOSIT)
    limits = {"minimum": format_money(MINIMUM), "maximum": format_money(MAXIMUM)}
    for value in (bond, cash):
        if not MINIMUM <= value <= MAXIMUM:
            raise ValidationError(
                _("CBSA requires between %(minimum)s and %(maximum)s per RM account.") % limits
            )
    if cash < bond:
        raise ValidationError(_("A cash deposit is never required for less than a surety bond."))
    return cash
