"""Reading reconciliations: the current run, a live run, current items, open exceptions, the
statements pending a run, and when a running run counts as abandoned. The pages, the worklist, the
API, the command and ``runs`` read through these."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

from carm_portal.money import ZERO
from statements.models import EntriesReceived, ReconciliationItem, ReconciliationRun, Statement

Run = ReconciliationRun


def current_run(statement: Statement | int) -> ReconciliationRun | None:
    """The statement's current run (the latest that succeeded), or None."""
    statement_id = statement if isinstance(statement, int) else statement.pk
    return Run.objects.filter(statement_id=statement_id, is_current=True).first()


def live_run(statement: Statement | int) -> ReconciliationRun | None:
    """A run of the statement waiting for or in the hands of a worker (not stale), or None."""
    statement_id = statement if isinstance(statement, int) else statement.pk
    return (
        Run.objects.filter(statement_id=statement_id)
        .filter(live_q())
        .order_by("-created_at", "-pk")
        .first()
    )


def current_items(items: QuerySet[ReconciliationItem] | None = None) -> QuerySet:
    """Items of current runs only (what pages, worklist and reports show)."""
    items = ReconciliationItem.objects.all() if items is None else items
    return items.filter(run__is_current=True)


def unresolved_exceptions(items: QuerySet[ReconciliationItem]) -> QuerySet[ReconciliationItem]:
    """The exceptions among ``items`` that still wait for a person (no resolution yet)."""
    return items.filter(is_exception=True, resolution="")


def open_exceptions(items: QuerySet[ReconciliationItem] | None = None) -> QuerySet:
    """Exceptions of current runs nobody has resolved yet (the worklist), oldest first.

    Scope ``items`` with ``clients.access`` first (``importer`` is denormalised on the item). An
    exception of a replaced run is marked ``superseded`` (``ReconciliationItem``): the same
    rows as ``current_items``, without joining the runs.
    """
    items = ReconciliationItem.objects.all() if items is None else items
    return unresolved_exceptions(items.filter(superseded=False)).order_by(
        "first_seen_at", "statement_id", "position"
    )


def amount_at_risk() -> Case:
    """What an exception puts at stake, signed: for a line charged twice, the amount charged
    again (its difference to our entry is 0.00: the entry matches the first line), else the
    difference, statement minus entry."""
    return Case(
        When(
            status=ReconciliationItem.Code.DUPLICATE,
            then=Coalesce(F("statement_amount"), Value(ZERO)),
        ),
        default=F("difference"),
        output_field=ReconciliationItem._meta.get_field("difference"),
    )


def with_amount_at_risk(items: QuerySet[ReconciliationItem]) -> QuerySet[ReconciliationItem]:
    """``items`` with ``at_risk`` (signed) and ``abs_at_risk`` (to sort and filter by size)."""
    return items.annotate(at_risk=amount_at_risk(), abs_at_risk=Abs(amount_at_risk()))


def sum_at_risk(**kwargs: Any) -> Coalesce:
    """The aggregate adding up items' amounts at risk, whatever their sign (0 when none): the
    worklist's total, and the reports' totals by status (``kwargs``: ``filter``)."""
    field = ReconciliationItem._meta.get_field("difference")
    return Coalesce(
        Sum(Abs(amount_at_risk()), output_field=field, **kwargs), Value(ZERO), output_field=field
    )


def total_at_risk(items: QuerySet[ReconciliationItem]) -> Decimal:
    """The amount at risk of every item of ``items``, whatever its sign, in one query."""
    return count_and_total_at_risk(items)[1]


def count_and_total_at_risk(items: QuerySet[ReconciliationItem]) -> tuple[int, Decimal]:
    """How many ``items`` there are and their amount at risk, in one pass (the worklist's
    paginator and its total read the same rows)."""
    row = items.order_by().aggregate(n=Count("pk"), total=sum_at_risk())
    return row["n"], row["total"] if row["total"] is not None else ZERO


def pending_q() -> Q:
    """The rule of a statement a reconciliation should (re)visit, for ``refresh_pending``: no
    current run (never reconciled, or every run failed: ``Statement.reconciled_at`` unset), or an
    entries file accepted after the current run started (``Statement.reconciled_from``) brought an
    entry of the statement's program account (the import keeps when that last happened per
    account: ``statements.entries_received``)."""
    newer_entries = EntriesReceived.objects.filter(
        program_account_id=OuterRef("program_account_id"), at__gt=OuterRef("reconciled_from")
    )
    return Q(reconciled_at=None) | Q(Exists(newer_entries))


def pending_statements(statements: QuerySet[Statement] | None = None) -> QuerySet[Statement]:
    """Statements a reconciliation should (re)visit: ``manage.py reconcile --all-pending``.

    Pending means: no current run (never reconciled, or every run failed), or an entries file
    accepted after the current run started brought an entry of the statement's program account
    (a new version, a new CAD: the comparison may have changed). Statement lines never change
    once imported, so they need no such test. Paid statements are included: what was paid may
    still have been wrong, and a run never changes a paid statement's status. Read off the
    statement's kept ``reconciliation_pending`` (``pending_q`` is the rule).
    """
    statements = Statement.objects.all() if statements is None else statements
    return statements.filter(reconciliation_pending=True).order_by("pk")


def pending_count(statements: QuerySet[Statement] | None = None) -> int:
    """How many of ``statements`` are pending (``pending_statements``)."""
    statements = Statement.objects.all() if statements is None else statements
    return statements.order_by().filter(reconciliation_pending=True).count()


def reconciled_since(statements: QuerySet[Statement], since: dt.datetime) -> QuerySet[Statement]:
    """``statements`` reconciled at or after ``since``: their current run (the latest that
    succeeded) finished then or later, which is whether any run of theirs succeeded since. Read
    off ``Statement.reconciled_at``, without the runs."""
    return statements.filter(reconciled_at__gte=since)


def stale_before() -> dt.datetime:
    """Runs left ``running`` since before this instant belong to a worker that died."""
    return timezone.now() - dt.timedelta(seconds=settings.RECONCILIATION_STALE_SECONDS)


def live_q() -> Q:
    """Runs waiting for a worker, or in the hands of one that is still alive."""
    return Q(status=Run.Status.QUEUED) | Q(
        status=Run.Status.RUNNING, started_at__gte=stale_before()
    )
