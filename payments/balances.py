"""Per-statement balances.

``StatementBalance`` keeps, per statement, what it billed and what our payments cover, so the
worklists (due this week, overdue) and the daily check read one indexed table instead of summing
millions of statement lines. Every write that changes an allocation refreshes the statements it
touches; the daily check refreshes the rest: statements new or changed since their balance was
computed, and statements whose payments changed outside the portal's own functions.

``sync_paid_status`` keeps ``Statement.status`` at ``paid`` exactly while a statement's balance
says it is paid in full, as part of every refresh: payments decide *which* statements are paid in
full (``paid_in_full``, from these balances) and the statements app, which owns the column, writes
it (``statements.status.set_paid``).

The payments CBSA shows on statements are matched in ``payments/posted_payments.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from carm_portal.bulk import chunks, update_rows
from carm_portal.money import ZERO, from_cents, sum_cents
from payments.models import Payment, PaymentAllocation, StatementBalance
from payments.security import CHARGE_TYPES
from statements.models import Statement, StatementLine
from statements.status import set_paid

# Lines that are not a charge of the statement: what was owed before it, and payments.
NOT_BILLED = (StatementLine.LineType.OPENING_BALANCE, StatementLine.LineType.PAYMENT)


def stale_statement_ids(*, importer_ids: Collection[int] | None = None) -> list[int]:
    """Statements whose balance is missing, older than the statement, or older than a payment."""
    statements = Statement.objects.all()
    allocations = PaymentAllocation.objects.all()
    if importer_ids is not None:
        statements = statements.filter(program_account__importer_id__in=list(importer_ids))
        allocations = allocations.filter(payment__importer_id__in=list(importer_ids))
    missing = statements.filter(balance__isnull=True).values_list("id", flat=True)
    changed = statements.filter(balance__computed_at__lt=F("updated_at")).values_list(
        "id", flat=True
    )
    paid = (
        allocations.filter(
            Q(created_at__gt=F("statement__balance__computed_at"))
            | Q(payment__updated_at__gt=F("statement__balance__computed_at"))
        )
        .values_list("statement_id", flat=True)
        .distinct()
    )
    return sorted({*missing, *changed, *paid})


def refresh_balances(*, statement_ids: Collection[int] | None = None) -> int:
    """Recompute the balances of ``statement_ids`` (the stale ones when None); rows written."""
    ids = stale_statement_ids() if statement_ids is None else sorted(set(statement_ids))
    now = timezone.now()
    written = 0
    for chunk in chunks(ids):
        billed: dict[int, tuple] = defaultdict(lambda: (ZERO, ZERO))
        lines = (
            StatementLine.objects.filter(statement_id__in=chunk)
            .exclude(line_type__in=NOT_BILLED)
            .values("statement_id")
            .annotate(
                billed=sum_cents("amount"),
                charges=sum_cents("amount", filter=Q(line_type__in=CHARGE_TYPES)),
            )
            .values_list("statement_id", "billed", "charges")
            .order_by()
        )
        for statement_id, total, charges in lines:
            billed[statement_id] = (from_cents(total), from_cents(charges))
        earlier = Statement.objects.filter(
            program_account_id=OuterRef("program_account_id"),
            statement_date__lt=OuterRef("statement_date"),
        )
        for statement_id, opening in (
            Statement.objects.filter(pk__in=chunk)
            .exclude(Exists(earlier))
            .exclude(opening_balance=0)
            .values_list("pk", "opening_balance")
        ):  # the account's earliest statement on record carries what was owed before it
            total, charges = billed[statement_id]
            billed[statement_id] = (total + opening, charges)
        covered: dict[int, dict[str, object]] = defaultdict(dict)
        allocations = (
            PaymentAllocation.objects.filter(statement_id__in=chunk)
            .exclude(payment__status=Payment.Status.RETURNED)
            .values("statement_id", "payment__status")
            .annotate(total=sum_cents("amount"))
            .values_list("statement_id", "payment__status", "total")
            .order_by()
        )
        for statement_id, status, total in allocations:
            covered[statement_id][status] = from_cents(total)
        existing = {
            row[0]: row[1:]
            for row in StatementBalance.objects.filter(statement_id__in=chunk).values_list(
                "statement_id", "billed", "charges", "paid", "in_transit", "outstanding"
            )
        }
        known = {
            pk: (importer_id, due)
            for pk, importer_id, due in Statement.objects.filter(pk__in=chunk).values_list(
                "pk", "program_account__importer_id", "due_date"
            )
        }
        new_rows, changed = [], []
        for statement_id in chunk:
            if statement_id not in known:
                continue
            total, charges = billed[statement_id]
            paid = covered[statement_id].get(Payment.Status.CLEARED, ZERO)
            in_transit = covered[statement_id].get(Payment.Status.PENDING, ZERO)
            outstanding = max(total - paid - in_transit, ZERO)
            importer_id, due_date = known[statement_id]
            values = (total, charges, paid, in_transit, outstanding)
            if statement_id not in existing:
                new_rows.append(
                    StatementBalance(
                        statement_id=statement_id,
                        importer_id=importer_id,
                        due_date=due_date,
                        billed=total,
                        charges=charges,
                        paid=paid,
                        in_transit=in_transit,
                        outstanding=outstanding,
                        computed_at=now,
                    )
                )
            else:
                changed.append((*values, importer_id, due_date, now, statement_id))
        if new_rows:
            StatementBalance.objects.bulk_create(new_rows, ignore_conflicts=True)
        if changed:
            update_rows(
                StatementBalance,
                [
                    "billed",
                    "charges",
                    "paid",
                    "in_transit",
                    "outstanding",
                    "importer_id",
                    "due_date",
                    "computed_at",
                ],
                changed,
            )
        written += len(new_rows) + len(changed)
        sync_paid_status(chunk, now=now)
    return written


def paid_in_full() -> Q:
    """Statements (filter on ``Statement``) whose balance says they are paid in full.

    Nothing outstanding, and something was asked for: a closing balance, charges, or an amount
    billed. A statement with nothing to pay (all zero, or only credits) is not "paid"."""
    return Q(balance__outstanding__lte=0) & (
        Q(closing_balance__gt=0) | Q(balance__charges__gt=0) | Q(balance__billed__gt=0)
    )


def sync_paid_status(statement_ids: Collection[int], *, now: dt.datetime) -> tuple[int, int]:
    """Set ``Statement.status`` from the balances just computed: (marked paid, reopened).

    ``open`` or ``reconciled`` -> ``paid`` when paid in full (``paid_in_full``: our cleared payments
    and those in transit cover what it billed, as the worklists count it); ``paid`` -> ``open``
    when it no longer is. The statements app writes the column (``statements.status.set_paid``,
    set-based, with history; see there how ``paid`` shares it with reconciliation).
    """
    return set_paid(statement_ids=statement_ids, paid=paid_in_full(), now=now)
