"""The payments CBSA shows on statements: ``sync_posted_payments`` reads their PAYMENT lines.

A line matching a payment recorded here (same account and amount, paid on or before it was posted,
preferably the same reference) marks that payment cleared and posted; a line matching none is a
payment nobody recorded here (made before the portal, or by someone else) and becomes a
``Payment`` found on the statement, applied by CBSA's rule (``payments/allocation.py``) — so a
statement paid long ago never shows as owing. The balances of the statements touched are then
refreshed (``payments/balances.py``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from carm_portal.bulk import copy_rows, snapshot_history
from payments.allocation import Plan, open_statements_for, plan_default, take
from payments.balances import refresh_balances
from payments.models import Payment, PaymentAllocation
from statements.models import StatementLine

MATCH_WINDOW_DAYS = 60  # a posted payment matches a recorded one paid at most this long before


@dataclass
class SyncResult:
    matched: int = 0
    created: int = 0
    skipped: int = 0
    touched: set[int] = field(default_factory=set)  # statements whose allocations changed


def _unposted_lines(statement_ids: Collection[int] | None, importer_ids: Collection[int] | None):
    lines = StatementLine.objects.filter(
        line_type=StatementLine.LineType.PAYMENT, payment__isnull=True, amount__lt=0
    )
    if statement_ids is not None:
        lines = lines.filter(statement_id__in=list(statement_ids))
    if importer_ids is not None:
        lines = lines.filter(statement__program_account__importer_id__in=list(importer_ids))
    return lines.select_related("statement__program_account").order_by(
        "posted_on", "statement__statement_date", "position", "id"
    )


def sync_posted_payments(
    *,
    statement_ids: Collection[int] | None = None,
    importer_ids: Collection[int] | None = None,
    refresh: bool = True,
) -> SyncResult:
    """Match the PAYMENT lines of these statements (all when None) to payments: set-based.

    Matching marks a recorded payment cleared and posted; a line matching none becomes a payment
    found on the statement, applied oldest first among the statements issued up to the one it is
    on. Idempotent: a line is linked to one payment (a unique column), so a rerun finds nothing.

    The balances of the statements it touched are refreshed, unless ``refresh`` is False: a
    caller about to refresh other statements anyway refreshes ``result.touched`` with them, once.
    """
    result = SyncResult()
    lines = list(_unposted_lines(statement_ids, importer_ids))
    if not lines:
        return result
    accounts = {line.statement.program_account_id for line in lines}
    recorded: dict[tuple[int, int], list[Payment]] = defaultdict(list)
    for payment in (
        Payment.objects.filter(
            program_account_id__in=accounts, statement_line=None, source=Payment.Source.RECORDED
        )
        .exclude(status=Payment.Status.RETURNED)
        .order_by("paid_on", "id")
    ):
        recorded[(payment.program_account_id, int(payment.amount * 100))].append(payment)
    opens = open_statements_for(accounts)

    now = timezone.now()
    matched: list[Payment] = []
    created: list[tuple[Payment, Plan]] = []
    for line in lines:
        account = line.statement.program_account
        amount = -line.amount
        candidates = [
            p
            for p in recorded.get((account.pk, int(amount * 100)), [])
            if line.posted_on - dt.timedelta(days=MATCH_WINDOW_DAYS) <= p.paid_on <= line.posted_on
        ]
        if candidates:
            reference = line.reference.strip().upper()
            best = next(
                (p for p in candidates if reference and p.reference.strip().upper() == reference),
                candidates[0],
            )
            recorded[(account.pk, int(amount * 100))].remove(best)
            best.statement_line = line
            if best.status == Payment.Status.PENDING:
                best.status = Payment.Status.CLEARED
            best.updated_at = now
            best._change_reason = _("Posted on the statement of %(day)s") % {
                "day": line.statement.statement_date.isoformat()
            }
            matched.append(best)
            continue
        payment = Payment(
            importer_id=account.importer_id,
            program_account=account,
            amount=amount,
            method=Payment.Method.UNKNOWN,
            paid_on=line.posted_on,
            reference=line.reference,
            status=Payment.Status.CLEARED,
            source=Payment.Source.STATEMENT,
            statement_line=line,
            notes=_("Found on the statement of %(day)s (row %(row)d).")
            % {"day": line.statement.statement_date.isoformat(), "row": line.position},
        )
        eligible = [
            s
            for s in opens.get(account.pk, [])
            if s.statement_date <= line.statement.statement_date
        ]
        plan = plan_default(amount=amount, open_statements=eligible, on=line.posted_on)
        if plan.parts:
            opens[account.pk] = take(opens[account.pk], plan)
        created.append((payment, plan))

    touched: set[int] = set()
    if matched:
        bulk_update_with_history(
            matched, Payment, ["statement_line", "status", "updated_at"], batch_size=1000
        )
        touched.update(
            PaymentAllocation.objects.filter(payment__in=matched).values_list(
                "statement_id", flat=True
            )
        )
    if created:
        touched.update(_write_found_payments(created, now=now))
    if touched and refresh:
        refresh_balances(statement_ids=touched)
    result.matched, result.created, result.touched = len(matched), len(created), touched
    return result


PAYMENT_COLUMNS = [
    "importer_id",
    "program_account_id",
    "amount",
    "method",
    "paid_on",
    "reference",
    "status",
    "source",
    "statement_line_id",
    "bank_account_id",
    "returned_on",
    "notes",
    "recorded_by_id",
    "created_at",
    "updated_at",
]
ALLOCATION_COLUMNS = [
    "payment_id",
    "statement_id",
    "amount",
    "manual",
    "allocated_by_id",
    "created_at",
]


def _write_found_payments(created: list[tuple[Payment, Plan]], *, now: dt.datetime) -> set[int]:
    """Write the payments found on statements and their allocations set-based; the statements
    they pay.

    The first check over a portfolio finds a payment line on nearly every statement (20,000 at
    10,000 accounts): ``COPY`` the payments, read their ids back by the unique statement line,
    ``COPY`` the allocations, then one ``INSERT … SELECT`` history snapshot per table, the
    records the ORM's bulk helpers would have written (created, no user, at ``now``).
    """
    copy_rows(
        Payment,
        PAYMENT_COLUMNS,
        (
            (
                p.importer_id,
                p.program_account_id,
                p.amount,
                p.method,
                p.paid_on,
                p.reference,
                p.status,
                p.source,
                p.statement_line_id,
                None,
                None,
                p.notes,
                None,
                now,
                now,
            )
            for p, _plan in created
        ),
    )
    # Only these rows are found payments stamped ``now`` (the check holds its lock; a clash
    # with a recording at the same microsecond would only add that payment's snapshot).
    written = Payment.objects.filter(source=Payment.Source.STATEMENT, created_at=now)
    payment_ids: dict[int | None, int] = dict(written.values_list("statement_line_id", "id"))
    touched: set[int] = set()

    def allocations():
        for payment, plan in created:
            for statement_id, value in plan.parts:
                touched.add(statement_id)
                yield (
                    payment_ids[payment.statement_line_id],
                    statement_id,
                    value,
                    False,
                    None,
                    now,
                )

    copy_rows(PaymentAllocation, ALLOCATION_COLUMNS, allocations())
    snapshot_history(written, history_type="+", when=now)
    if touched:
        snapshot_history(
            PaymentAllocation.objects.filter(
                created_at=now, payment__source=Payment.Source.STATEMENT, payment__created_at=now
            ),
            history_type="+",
            when=now,
        )
    return touched
