"""Writing payments, securities and bank accounts: the one path the pages and the API take.

Each function expects values already checked by ``payments/validation.py``, writes with who did it
(for the audit history), and re-runs what depends on the change in the same transaction: the
allocation and the statements' balances for a payment, the checklist (step 1, by signal) and the
account's security alerts for a security or an annual-review figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from carm_portal.calendar import cbsa_today
from carm_portal.models import User
from clients.models import Importer, ProgramAccount
from payments import crypto
from payments.allocation import AllocationError, Plan, allocate_payment, lock_account
from payments.balances import refresh_balances
from payments.models import BankAccount, FinancialSecurity, Payment, SecurityReview
from payments.posted_payments import sync_posted_payments
from payments.rules import review_of
from payments.validation import validate_return


@transaction.atomic
def record_payment(
    *,
    importer: Importer,
    program_account: ProgramAccount,
    amount: Decimal,
    method: str,
    paid_on: dt.date,
    by: User | None,
    reference: str = "",
    status: str = Payment.Status.PENDING,
    bank_account: BankAccount | None = None,
    notes: str = "",
    manual: Mapping[int, Decimal] | None = None,
) -> tuple[Payment, Plan]:
    """Record a payment and apply it (CBSA's rule, or ``manual``); all or nothing.

    Payments CBSA already shows on the account's statements are taken into account first, so a
    new payment is not applied to a statement an earlier one already paid.
    """
    lock_account(program_account.pk)
    sync_posted_payments(importer_ids=[importer.pk])
    payment = Payment(
        importer=importer,
        program_account=program_account,
        amount=amount,
        method=method,
        paid_on=paid_on,
        reference=reference.strip(),
        status=status,
        bank_account=bank_account,
        notes=notes,
        recorded_by=by,
    )
    payment._history_user = by
    payment.save()
    plan = allocate_payment(payment=payment, by=by, manual=manual)
    return payment, plan


TRANSITIONS: dict[str, set[str]] = {
    Payment.Status.PENDING: {Payment.Status.CLEARED, Payment.Status.RETURNED},
    Payment.Status.CLEARED: {Payment.Status.RETURNED},
    Payment.Status.RETURNED: set(),
}


@transaction.atomic
def set_payment_status(
    *, payment: Payment, status: str, by: User | None, on: dt.date | None = None
) -> Payment:
    """In transit -> cleared or returned; cleared -> returned. A returned payment pays nothing:
    its statements owe again (their alerts come back at the next check)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if status not in TRANSITIONS[payment.status]:
        raise AllocationError(
            _("A payment %(now)s cannot become %(then)s.")
            % {
                "now": payment.get_status_display().lower(),
                "then": Payment.Status(status).label.lower(),
            }
        )
    if status == Payment.Status.RETURNED:
        today = cbsa_today()
        validate_return(payment=payment, returned_on=on or today, today=today)
        payment.returned_on = on or today
    payment.status = status
    payment._history_user = by
    payment.save()
    refresh_balances(statement_ids=list(payment.allocations.values_list("statement_id", flat=True)))
    return payment


@transaction.atomic
def save_security(
    *, security: FinancialSecurity, by: User | None, today: dt.date | None = None
) -> FinancialSecurity:
    """Save a checked security, then re-check the account's security alerts."""
    from payments.checks import run_security_checks

    if security.pk is None:
        security.recorded_by = by
    security._history_user = by
    security.save()
    run_security_checks(
        today=today or cbsa_today(), importer_ids=[security.program_account.importer_id]
    )
    return security


@transaction.atomic
def enter_security_review(
    *,
    program_account: ProgramAccount,
    review_date: dt.date,
    required_bond: Decimal,
    required_cash: Decimal,
    cbsa_reference: str,
    notes: str,
    by: User | None,
    today: dt.date | None = None,
) -> SecurityReview:
    """Record (or correct) the requirement CBSA set at an annual review, from its notice, then
    re-check the importer's security against it (alerts and forecast).

    It replaces the figure the daily check computed for that review, and the check never
    overwrites it (``payments.reviews.record_annual_reviews``).
    """
    from payments.checks import run_security_checks

    review = SecurityReview.objects.filter(
        program_account=program_account, review_date=review_date
    ).first()
    if review is None:
        review = SecurityReview(program_account=program_account, review_date=review_date)
        review._change_reason = _("Entered from CBSA's notice")
    elif review.source == SecurityReview.Source.ENTERED:
        review._change_reason = _("Corrected")
    else:
        review._change_reason = _("CBSA's figure replaces the computed one")
    review.required_bond = required_bond
    review.required_cash = required_cash
    review.top_up_by = review_of(review_date.year).top_up_by
    review.source = SecurityReview.Source.ENTERED
    review.cbsa_reference = cbsa_reference
    review.notes = notes
    review.recorded_by = by
    review._history_user = by
    review.save()
    run_security_checks(today=today or cbsa_today(), importer_ids=[program_account.importer_id])
    return review


@transaction.atomic
def save_bank_account(
    *, bank_account: BankAccount, account_number: str | None, by: User | None
) -> BankAccount:
    """Save a bank account; ``account_number`` (plain) is encrypted before it reaches the row.

    On an existing account a blank ``account_number`` keeps the stored one. A new number is noted
    as a reason in the history, since the history holds only the last digits (which may not move).
    """
    if account_number:
        if bank_account.pk is not None and _number_changed(bank_account, account_number):
            bank_account._change_reason = _("Account number changed")
        crypto.set_account_number(bank_account, account_number)
    if not bank_account.account_number_encrypted:
        raise ValueError("A bank account needs its account number.")
    if bank_account.pk is None:
        bank_account.created_by = by
    bank_account._history_user = by
    bank_account.save()
    return bank_account


def _number_changed(bank_account: BankAccount, account_number: str) -> bool:
    stored = BankAccount.objects.filter(pk=bank_account.pk).values_list(
        "account_number_encrypted", flat=True
    )
    token = stored.first()
    if not token:
        return True
    try:
        return crypto.decrypt(token) != crypto.normalize_account_number(account_number)
    except crypto.UnreadableToken:
        return True


@transaction.atomic
def set_bank_account_status(*, bank_account: BankAccount, status: str, by: User | None) -> bool:
    """Deactivate (no longer offered for new payments) or reactivate an account; False when it
    already had that status. Payments already made from it keep pointing at it (history)."""
    account = BankAccount.objects.select_for_update().get(pk=bank_account.pk)
    if account.status == status:
        return False
    account.status = status
    account._history_user = by
    account._change_reason = (
        _("Deactivated") if status == BankAccount.Status.INACTIVE else _("Reactivated")
    )
    account.save(update_fields=["status", "updated_at"])
    bank_account.status = status
    return True
