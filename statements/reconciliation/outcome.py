"""A run's outcome: the counts and totals by status (its ``summary``), the balance check, and the
run row moved to ``succeeded`` and current, for a whole group of runs at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Max, OuterRef, Q, Subquery

from carm_portal.bulk import update_rows
from carm_portal.money import ZERO, from_cents, sum_cents, to_money
from statements import balance as statement_balance
from statements.models import ReconciliationItem, ReconciliationRun, Statement, StatementLine
from statements.reconciliation.pending import refresh_pending
from statements.reconciliation.rules import OPENING, Code
from statements.selectors import BalanceCheck

Run = ReconciliationRun


@dataclass
class Balance:
    """A statement's lines (other than the opening balance) and opening-balance lines, summed."""

    lines: Decimal
    opening_lines: Decimal


def summaries(run_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Counts and totals by status code, for each run, in one ``GROUP BY``."""
    rows = (
        ReconciliationItem.objects.filter(run_id__in=run_ids)
        .values("run_id", "status")
        .annotate(
            n=Count("pk"),
            exceptions=Count("pk", filter=Q(is_exception=True)),
            open=Count("pk", filter=Q(is_exception=True, resolution="")),
            flagged_n=Count("pk", filter=Q(flagged=True)),
            statement_cents=sum_cents("statement_amount"),
            entry_cents=sum_cents("entry_amount"),
            difference_cents=sum_cents("difference"),
        )
        .order_by()
    )
    return summaries_from(
        run_ids,
        [
            (
                row["run_id"],
                row["status"],
                row["n"],
                row["exceptions"],
                row["open"],
                row["flagged_n"],
                from_cents(row["statement_cents"]),
                from_cents(row["entry_cents"]),
                from_cents(row["difference_cents"]),
            )
            for row in rows
        ],
    )


def summaries_from(run_ids: list[int], rows: Iterable[tuple]) -> dict[int, dict[str, dict]]:
    """The ``summary`` JSON of each run from rows of (run, status, count, exceptions, open,
    flagged, statement total, entry total, difference total)."""
    summaries: dict[int, dict[str, dict[str, Any]]] = {pk: {} for pk in run_ids}
    for run_id, status, n, exceptions, still_open, flagged, stated, entered, diff in rows:
        statement_amount, entry_amount = to_money(stated), to_money(entered)
        summaries[run_id][status] = {
            "count": n,
            # What is at stake: the line's amount, or the entry's where there is no line.
            "amount": str(
                entry_amount if status == Code.MISSING_ON_STATEMENT else statement_amount
            ),
            "statement_amount": str(statement_amount),
            "entry_amount": str(entry_amount),
            "difference": str(to_money(diff)),
            "exceptions": exceptions,
            "open": still_open,
            "flagged": flagged,
        }
    return summaries


def balances(statement_ids: list[int]) -> dict[int, Balance]:
    """Each statement's lines (other than the opening balance) and opening-balance lines, summed
    in cents, in one ``GROUP BY``: the figures of ``selectors.BalanceCheck``."""
    rows = (
        StatementLine.objects.filter(statement_id__in=statement_ids)
        .values("statement_id")
        .annotate(
            lines=sum_cents("amount", filter=~Q(line_type=OPENING)),
            opening=sum_cents("amount", filter=Q(line_type=OPENING)),
        )
        .order_by()
    )
    balances = {pk: Balance(ZERO, ZERO) for pk in statement_ids}
    for row in rows:
        balances[row["statement_id"]] = Balance(
            from_cents(row["lines"]), from_cents(row["opening"])
        )
    return balances


# The key of a balance difference's item: the same check keeps the same key on every run.
BALANCE_KEYS = {
    statement_balance.CLOSING_DIFFERS: "balance:closing",
    statement_balance.OPENING_DIFFERS: "balance:opening",
}


# Runs read by ``balance_runs``: with the annotations of ``balance.with_previous_closing``.
BalanceRuns = list[Any]


def balance_runs(run_ids: list[int]) -> BalanceRuns:
    """The runs with their statements and what the balance check needs of the previous statement
    (``statements/balance.py``), in one query."""
    return list(
        statement_balance.with_previous_closing(
            Run.objects.filter(pk__in=run_ids).select_related("statement__program_account"),
            outer="statement__",
        )
    )


def insert_balance_items(runs: BalanceRuns, *, now: dt.datetime) -> list[tuple]:
    """One ``balance_difference`` item per differing balance check of each run (stated closing vs
    opening + lines; opening vs the previous statement's closing), written after the engine's
    items, so a difference is an exception worked like any other. The carry-over is the
    engine's (``rules``): the previous current run's item of the same key (the check) keeps its
    resolution while its difference is the same. Answers the summary rows of these items
    (``summaries_from``). No query when nothing differs."""
    found = [
        (run, finding)
        for run in runs
        for finding in statement_balance.figures(
            run.statement, run.previous_id, run.previous_date, run.previous_closing
        ).differences
    ]
    if not found:
        return []
    Item = ReconciliationItem
    code = Item.Code.BALANCE_DIFFERENCE
    run_ids = sorted({run.pk for run, _ in found})
    last = dict(
        Item.objects.filter(run_id__in=run_ids)
        .values("run_id")
        .annotate(last=Max("position"))
        .values_list("run_id", "last")
        .order_by()
    )
    previous = {
        (item.statement_id, item.key): item
        for item in Item.objects.filter(
            run__statement_id__in={run.statement_id for run, _ in found},
            run__is_current=True,
            status=code,
        ).exclude(run_id__in=run_ids)
    }
    items = []
    for run, finding in found:
        last[run.pk] = position = (last.get(run.pk) or 0) + 1
        key = BALANCE_KEYS[finding.code]
        item = Item(
            run_id=run.pk,
            statement_id=run.statement_id,
            importer_id=run.statement.program_account.importer_id,
            position=position,
            status=code,
            is_exception=True,
            key=key,
            line_type=finding.line_type,
            statement_amount=finding.stated,
            entry_amount=finding.expected,
            difference=finding.difference,
            first_seen_at=now,
        )
        before = previous.get((run.statement_id, key))
        if before is not None:
            item.first_seen_at = before.first_seen_at
            item.note = before.note
            item.assigned_to_id = before.assigned_to_id
            if before.difference == finding.difference:
                item.resolution = before.resolution
                item.resolved_by_id = before.resolved_by_id
                item.resolved_at = before.resolved_at
                item.reopened = before.reopened
            else:
                item.reopened = before.resolution != ""
        items.append(item)
    Item.objects.bulk_create(items)
    rows: dict[int, list] = {}
    for item in items:
        row = rows.setdefault(item.run_id, [item.run_id, code, 0, 0, 0, 0, ZERO, ZERO, ZERO])
        row[2] += 1
        row[3] += 1
        row[4] += item.resolution == ""
        row[6] += item.statement_amount or ZERO
        row[7] += item.entry_amount or ZERO
        row[8] += item.difference
    return [tuple(row) for row in rows.values()]


def finish_runs(
    runs: BalanceRuns,
    summaries: dict[int, dict[str, dict[str, Any]]],
    balances: dict[int, Balance],
    *,
    now: dt.datetime,
) -> dict[int, bool]:
    """Move ``is_current`` to the new runs and record their outcome (one ``executemany``, values
    per run sent together), and stamp their statements with when the run started and finished
    (``Statement.reconciled_from``, ``reconciled_at``). Answers, per statement, whether it is now
    clean: balance checks out and no open exception.

    ``runs``: from ``balance_runs``. The balance check also compares the closing balance the
    statement states, and its opening balance with the previous statement's closing
    (``statements/balance.py``): the balance does not check out while one differs. Each
    difference is an item of its own (``insert_balance_items``), counted among the exceptions
    with the other items: not a second time here."""
    run_ids = [run.pk for run in runs]
    statement_ids = [run.statement_id for run in runs]
    replaced = list(
        Run.objects.filter(statement_id__in=statement_ids, is_current=True)
        .exclude(pk__in=run_ids)
        .values_list("pk", flat=True)
    )
    if replaced:
        Run.objects.filter(pk__in=replaced).update(is_current=False)
        ReconciliationItem.objects.filter(
            run_id__in=replaced, is_exception=True, superseded=False
        ).update(superseded=True)
    rows = []
    clean: dict[int, bool] = {}
    for run in runs:
        summary = summaries[run.pk]
        balance = balances[run.statement_id]
        check = BalanceCheck(
            opening=run.statement.opening_balance,
            lines=balance.lines,
            closing=run.statement.closing_balance,
            opening_matches=balance.opening_lines == run.statement.opening_balance,
        )
        balance_ok = (
            check.ok
            and statement_balance.figures(
                run.statement, run.previous_id, run.previous_date, run.previous_closing
            ).ok
        )
        clean[run.statement_id] = balance_ok and not any(v["open"] for v in summary.values())
        rows.append(
            (
                Run.Status.SUCCEEDED,
                True,
                connection.ops.adapt_json_value(summary, None),
                sum(s["count"] for s in summary.values()),
                sum(s["exceptions"] for s in summary.values()),
                check.lines,
                check.computed,
                check.difference,
                balance_ok,
                "",
                100,
                "",
                now,
                run.pk,
            )
        )
    columns = [
        "status",
        "is_current",
        "summary",
        "item_count",
        "exception_count",
        "line_total",
        "computed_closing",
        "balance_difference",
        "balance_ok",
        "phase",
        "percent",
        "error",
        "finished_at",
    ]
    update_rows(Run, columns, rows)
    began = Run.objects.filter(statement=OuterRef("pk"), is_current=True).values("started_at")
    stamped = Statement.objects.filter(pk__in=statement_ids)
    stamped.update(reconciled_at=now, reconciled_from=Subquery(began[:1]))
    # Pending again at once if an entries file was accepted after the run began.
    refresh_pending(stamped)
    return clean
