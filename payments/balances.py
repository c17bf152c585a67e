"""Per-statement balances, and the payments CBSA shows on statements.

``StatementBalance`` keeps, per statement, what it billed and what our payments cover, so the
worklists (due this week, overdue) and the daily check read one indexed table instead of summing
millions of statement lines. Every write that changes an allocation refreshes the statements it
touches; the daily check refreshes the rest: statements new or changed since their balance was
computed, and statements whose payments changed outside the portal's own functions.

``sync_paid_status`` keeps ``Statement.status`` at ``paid`` exactly while a statement's balance
says it is paid in full, as part of every refresh (see its docstring for the rule and for how it
shares the column with reconciliation).

``sync_posted_payments`` reads the PAYMENT lines of statements: a line matching a payment recorded
here (same account and amount, paid on or before it was posted, preferably the same reference)
marks that payment cleared and posted; a line matching none is a payment nobody recorded here
(made before the portal, or by someone else) and becomes a ``Payment`` found on the statement,
applied by CBSA's rule — so a statement paid long ago never shows as owing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from carm_portal.bulk import chunks, copy_rows, snapshot_history, update_rows
from carm_portal.money import ZERO, from_cents, sum_cents
from payments.allocation import NOT_BILLED, Plan, open_statements_for, plan_default, take
from payments.models import Payment, PaymentAllocation, StatementBalance
from payments.security import CHARGE_TYPES
from statements.models import Statement, StatementLine

MATCH_WINDOW_DAYS = 60  # a posted payment matches a recorded one paid at most this long before


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
        known = set(Statement.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        new_rows, changed = [], []
        for statement_id in chunk:
            if statement_id not in known:
                continue
            total, charges = billed[statement_id]
            paid = covered[statement_id].get(Payment.Status.CLEARED, ZERO)
            in_transit = covered[statement_id].get(Payment.Status.PENDING, ZERO)
            outstanding = max(total - paid - in_transit, ZERO)
            values = (total, charges, paid, in_transit, outstanding)
            if statement_id not in existing:
                new_rows.append(
                    StatementBalance(
                        statement_id=statement_id,
                        billed=total,
                        charges=charges,
                        paid=paid,
                        in_transit=in_transit,
                        outstanding=outstanding,
                        computed_at=now,
                    )
                )
            else:
                changed.append((*values, now, statement_id))
        if new_rows:
            StatementBalance.objects.bulk_create(new_rows, ignore_conflicts=True)
        if changed:
            update_rows(
                StatementBalance,
                ["billed", "charges", "paid", "in_transit", "outstanding", "computed_at"],
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

    * ``open`` or ``reconciled`` -> ``paid`` when paid in full (``paid_in_full``): our cleared
      payments and those in transit cover what it billed, as the worklists count it;
    * ``paid`` -> ``open`` when it no longer is: an allocation removed or moved, a payment
      returned. Payments own ``paid``; the reconciliation engine (``statements/reconcile.py``)
      owns ``open`` <-> ``reconciled`` and never touches ``paid``, so a reopened statement is
      handed straight to ``refresh_statement_status``, which makes it ``reconciled`` again when
      its current run is clean (rather than leaving it ``open`` until its next run).

    Set-based: one ``UPDATE … WHERE id IN (SELECT …)`` per direction and one ``INSERT … SELECT``
    history snapshot each, whatever the number of statements. ``updated_at`` is set to ``now``,
    the balances' ``computed_at``, so the change does not make the balances look stale.
    """
    ids = list(statement_ids)
    statements = Statement.objects.filter(pk__in=ids)
    is_paid = Q(status=Statement.Status.PAID)
    moves = (
        (~is_paid, statements.filter(paid_in_full()), Statement.Status.PAID, _("Paid in full")),
        (
            is_paid,
            statements.exclude(paid_in_full()),
            Statement.Status.OPEN,
            _("No longer paid in full"),
        ),
    )
    counts = []
    for current, candidates, status, reason in moves:
        # The status test on the updated table itself, not only in the subquery: PostgreSQL
        # re-checks it if a concurrent reconciliation changed the row meanwhile.
        changed = (
            Statement.objects.filter(current)
            .filter(pk__in=candidates.values("pk"))
            .update(status=status, updated_at=now)
        )
        if changed:  # the rows just moved are the ones of that status stamped ``now``
            snapshot_history(
                statements.filter(status=status, updated_at=now),
                history_type="~",
                when=now,
                reason=str(reason),
            )
        counts.append(changed)
    if counts[1]:
        from statements.reconcile import refresh_statement_status

        refresh_statement_status(
            statements.filter(status=Statement.Status.OPEN, updated_at=now).values_list(
                "pk", flat=True
            )
        )
    return counts[0], counts[1]


# --- Payments found on statements ----------------------------------------------------------------


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
