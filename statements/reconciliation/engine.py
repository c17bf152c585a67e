"""The set-based engine: every item of a group of runs written by a fixed number of SQL statements,
at a cost linear in the group's lines and entries whatever the statements' sizes.

**Shape.** Two staging statements, one ``INSERT … SELECT``:

1. ``reconcile_latest`` (temporary table): the highest version of each transaction of the runs'
   accounts (a window over the accounts' entries, read through the account).
2. ``reconcile_work`` (temporary table): one row per line of the runs' statements (a CAD or
   adjustment, ``LINE``; a line posted by CBSA, ``POSTED``) and one per entry of
   ``reconcile_latest`` accounted in a statement's period (``CANDIDATE``), with two windows over
   (statement, transaction number), computed by one sort: how many CAD/adjustment lines the
   statement has for that number (``same_count``: duplicates for a line, *missing on statement*
   for a candidate when it is 0) and which occurrence a line is (``nth``).
3. Both tables are described to the planner (``Dialect.describe_staged``: ``ANALYZE`` of their
   keys on PostgreSQL), then one ``INSERT … SELECT`` compares each line with its entry (one hash
   join on account and transaction number), adds the posted lines and the missing entries (plain
   filters of ``reconcile_work``: no join at all), numbers the items of each run and carries the
   previous run's work over (``rules``); on PostgreSQL it also answers the summary.

**Why this shape** (issue 14). The previous engine was one statement of CTEs. Right after an import
nothing is analysed, and the planner guessed its CTEs at ~10 rows: "missing on statement" (an
anti-join of the period's entries against the statement's lines) ran as a nested loop, quadratic
in a statement's size: 5.4 s for 10,000 lines, 139 s for 40,000; even ``ANALYZE`` of the tables
left 71 s, because a join filter on a date range is still guessed at one row. Measured with
``EXPLAIN ANALYZE`` on one 10,000-line statement of a 1,000,000-line table: the anti-join over an
analysed temporary table still became a ``Nested Loop Anti Join`` (outer guessed 1 row, 9,697
actual; 19 s), which is why missing entries are now found by the window of step 2 instead of a
join. What remains are joins between sets whose sizes the planner reads from ``ANALYZE`` (hash
joins), lookups through an index (a statement's lines, an account's entries, the previous run's
items), sorts and filters: nothing whose cost can grow with the square of a statement. A rerun of
one 10,000-line statement in a table of a million lines takes ~0.6 s; the growth from 250,000 to
1,000,000 lines in one statement is ~4x (``bench/bench_reconcile_shapes.py``).
``SET enable_nestloop = off`` alone would have hidden the symptom while still trusting the
guesses, and would also have penalised the index lookups a rerun of one statement relies on.

The SQL text is the same on SQLite and PostgreSQL except the pieces ``dialect`` gives. The raw SQL
(``# noqa: S608``) builds only identifiers from the models' own table and column names and the
component list; every value is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from clients.models import ProgramAccount
from statements.models import (
    COMPONENTS,
    BrokerEntry,
    ReconciliationItem,
    ReconciliationRun,
    Statement,
    StatementLine,
)
from statements.reconciliation.dialect import Dialect, for_connection
from statements.reconciliation.rules import FLAGGED_TYPES, MATCHABLE_TYPES, POSTED_TYPES, Code

Run = ReconciliationRun


# The working set of a group, staged in temporary tables (dropped when the transaction ends, and
# explicitly once the items are written: a test's transaction may hold several runs).
LATEST, WORK = "reconcile_latest", "reconcile_work"
# The rows of ``reconcile_work``: a CAD/adjustment line, a line posted by CBSA, an entry accounted
# in the statement's period (missing if no line of the statement has its transaction number).
LINE, POSTED, CANDIDATE = 1, 2, 3


def insert_items(run_ids: list[int], *, now: dt.datetime) -> list[tuple] | None:
    """Write every item of the runs, with the carry-over: two staging statements, one
    ``INSERT … SELECT`` (and one query for the ids of the runs that are current until this one
    commits).

    Answers the counts and totals by run and status when the database gives them from the same
    statement (PostgreSQL), else None: ``outcome.summaries`` then reads them.
    """
    db = for_connection()
    asecs = [str(a) for a in settings.BROKER_ASECS]
    previous = list(
        Run.objects.filter(
            statement_id__in=Run.objects.filter(pk__in=run_ids).values("statement_id"),
            is_current=True,
        ).values_list("pk", flat=True)
    )
    stage(db, run_ids)
    # Parameters in textual order: the ASECs (in the status CASE, written once), the first-seen
    # instant of new findings, the previous runs.
    params: list[Any] = [
        *asecs,
        db.connection.ops.adapt_datetimefield_value(now),
        *previous,
    ]
    returned = db.insert_items(items_sql(db, len(asecs), len(previous)), params)
    with db.connection.cursor() as cursor:
        for statement in db.drop_staged((WORK, LATEST)):
            cursor.execute(statement)
    return returned


def scope_sql(db: Dialect, run_count: int) -> str:
    """``scope``: each run (``run_count`` ids as parameters) with its statement, account,
    importer, period, tolerance and the statement's current run before this one (whose items
    carry over). A handful of rows, read by primary key: the planner counts them right."""
    run_t, stmt_t, acct_t = db.table(Run), db.table(Statement), db.table(ProgramAccount)
    return f"""WITH scope AS (
    SELECT r.id AS run_id, r.statement_id, r.tolerance, s.program_account_id, a.importer_id,
           s.period_start, s.period_end, prev.id AS prev_run_id
    FROM {run_t} r
    JOIN {stmt_t} s ON s.id = r.statement_id
    JOIN {acct_t} a ON a.id = s.program_account_id
    LEFT JOIN {run_t} prev ON prev.statement_id = r.statement_id AND prev.is_current
    WHERE r.id IN ({", ".join(["%s"] * run_count)})
)"""  # noqa: S608


def stage(db: Dialect, run_ids: list[int]) -> None:
    """Steps 1-3 of the module docstring: ``reconcile_latest`` and ``reconcile_work`` written and
    described to the planner. Their inputs are read through the run ids (primary key), the
    statements' lines (by statement) and the accounts' entries (by account), so the planner can
    only choose between an index and one pass; their sizes and the distinct values of their keys
    are then known to the ``INSERT`` that reads them."""
    comps = COMPONENTS
    line_t, entry_t = db.table(StatementLine), db.table(BrokerEntry)
    matchable = ", ".join(f"'{t}'" for t in MATCHABLE_TYPES)
    items = ", ".join(f"'{t}'" for t in (*MATCHABLE_TYPES, *POSTED_TYPES))
    scope = scope_sql(db, len(run_ids))
    latest = f"""{scope}
    SELECT id, program_account_id, transaction_number, version, accounted_on, amount,
           {", ".join(comps)}
    FROM (
        SELECT e.id, e.program_account_id, e.transaction_number, e.version, e.accounted_on,
               e.amount, {", ".join(f"e.{n}" for n in comps)},
               ROW_NUMBER() OVER (PARTITION BY e.program_account_id, e.transaction_number
                                  ORDER BY e.version DESC) AS newest
        FROM {entry_t} e
        WHERE e.program_account_id IN (SELECT program_account_id FROM scope)
    ) ranked
    WHERE ranked.newest = 1"""  # noqa: S608
    line_components = ", ".join(f"l.{n}" for n in comps)
    no_components = ", ".join(f"NULL AS {n}" for n in comps)
    work = f"""{scope}
    SELECT u.*,
           SUM(CASE WHEN u.kind = {LINE} THEN 1 ELSE 0 END)
               OVER (PARTITION BY u.statement_id, u.transaction_number) AS same_count,
           ROW_NUMBER() OVER (PARTITION BY u.statement_id, u.transaction_number, u.kind
                              ORDER BY u.line_position) AS nth
    FROM (
        SELECT sc.run_id, sc.statement_id, sc.importer_id, sc.program_account_id, sc.tolerance,
               sc.prev_run_id,
               CASE WHEN l.line_type IN ({matchable}) THEN {LINE} ELSE {POSTED} END AS kind,
               l.id AS line_id, l.position AS line_position, l.line_type, l.transaction_number,
               l.amount, {line_components},
               CAST(NULL AS BIGINT) AS candidate_id, CAST(NULL AS INTEGER) AS candidate_version
        FROM scope sc
        JOIN {line_t} l ON l.statement_id = sc.statement_id
        WHERE l.line_type IN ({items})
        UNION ALL
        SELECT sc.run_id, sc.statement_id, sc.importer_id, sc.program_account_id, sc.tolerance,
               sc.prev_run_id, {CANDIDATE}, NULL, 0, 'CAD', e.transaction_number, e.amount,
               {no_components}, e.id, e.version
        FROM scope sc
        JOIN {LATEST} e ON e.program_account_id = sc.program_account_id
                       AND e.accounted_on BETWEEN sc.period_start AND sc.period_end
    ) u"""  # noqa: S608
    with db.connection.cursor() as cursor:
        cursor.execute(db.create_staged(LATEST, latest), run_ids)
        cursor.execute(db.create_staged(WORK, work), run_ids)
        for statement in db.describe_staged(
            {
                LATEST: ("program_account_id", "transaction_number"),
                WORK: ("statement_id", "transaction_number", "kind", "same_count"),
            }
        ):
            cursor.execute(statement)


def items_sql(db: Dialect, asec_count: int, previous_count: int) -> str:
    """One ``INSERT … SELECT`` writing every item of the staged runs.

    CTEs: ``compared`` (each CAD/adjustment line beside its entry: equal, within tolerance);
    ``found`` (the union of those lines, the lines posted by CBSA and the candidates no line of
    their statement charges: missing on statement). The final SELECT numbers the items of each
    run in a stable order (status, as the export lists them; file row; the missing entries by
    transaction number) and joins the previous run's item of the same key.
    """
    comps = COMPONENTS
    item_t = db.table(ReconciliationItem)
    previous_join = db.previous_items_join(item_t, previous_count)
    # Items are numbered by status, in the order of the status table of docs/formats.md (the
    # export's order), then by row in the file, then missing entries by transaction number.
    rank = "CASE f.status " + " ".join(f"WHEN '{c}' THEN {n}" for n, c in enumerate(Code.values))
    rank += " END"
    flagged = ", ".join(f"'{t}'" for t in FLAGGED_TYPES)
    ours = (
        f"SUBSTR(c.transaction_number, 1, 5) IN ({', '.join(['%s'] * asec_count)})"
        if asec_count
        else "FALSE"
    )
    equal = " AND ".join(f"{db.cents(f'l.{n}')} = {db.cents(f'e.{n}')}" for n in (*comps, "amount"))
    within = " AND ".join(
        f"ABS({db.cents(f'l.{n}')} - {db.cents(f'e.{n}')}) <= {db.cents('l.tolerance')}"
        for n in (*comps, "amount")
    )
    status = (
        f"CASE WHEN c.same_count > 1 THEN '{Code.DUPLICATE}' "
        f"WHEN c.entry_id IS NULL THEN CASE WHEN {ours} THEN '{Code.UNEXPECTED_ON_STATEMENT}' "
        f"ELSE '{Code.OTHER_BROKER}' END "
        f"WHEN c.is_equal THEN '{Code.MATCHED}' "
        f"WHEN c.is_within THEN '{Code.MATCHED_WITHIN_TOLERANCE}' "
        f"ELSE '{Code.AMOUNT_MISMATCH}' END"
    )
    key = (
        "CASE WHEN c.same_count > 1 THEN 'txn:' || c.transaction_number || '#' || "
        "CAST(c.nth AS TEXT) ELSE 'txn:' || c.transaction_number END"
    )
    entry_cols = ", ".join(f"e.{n} AS e_{n}" for n in comps)
    same = (
        f"(p.id IS NOT NULL AND p.status = f.status AND "
        f"{db.cents('p.difference')} = {db.cents('f.difference')} AND "
        f"{db.json_equal('p.components_differing', 'f.components_differing')})"
    )
    not_exception = (
        f"f.status IN ('{Code.MATCHED}', '{Code.MATCHED_WITHIN_TOLERANCE}') "
        f"OR (f.status = '{Code.POSTED_BY_CBSA}' AND NOT f.flagged)"
    )
    return f"""
WITH compared AS (
    SELECT l.*, e.id AS entry_id, e.version AS entry_version, e.amount AS e_amount, {entry_cols},
           {equal} AS is_equal, {within} AS is_within
    FROM {WORK} l
    LEFT JOIN {LATEST} e ON e.program_account_id = l.program_account_id
                      AND e.transaction_number = l.transaction_number
    WHERE l.kind = {LINE}
),
found AS (
    SELECT c.run_id, c.statement_id, c.importer_id, c.prev_run_id, 0 AS grp,
           c.line_position AS ord, c.transaction_number, {status} AS status, FALSE AS flagged,
           {key} AS item_key, c.line_type, c.line_id, c.entry_id, c.entry_version,
           c.amount AS statement_amount, c.e_amount AS entry_amount,
           {db.difference("c.amount", "c.e_amount")} AS difference,
           CASE WHEN c.entry_id IS NULL OR c.is_equal THEN {db.empty_json()}
                ELSE {db.json_differing("c", "c")} END AS components_differing
    FROM compared c
    UNION ALL
    SELECT l.run_id, l.statement_id, l.importer_id, l.prev_run_id, 0, l.line_position,
           l.transaction_number, '{Code.POSTED_BY_CBSA}', l.line_type IN ({flagged}),
           'line:' || CAST(l.line_position AS TEXT), l.line_type, l.line_id, NULL, NULL,
           l.amount, NULL, {db.difference("l.amount", "NULL")}, {db.empty_json()}
    FROM {WORK} l
    WHERE l.kind = {POSTED}
    UNION ALL
    SELECT w.run_id, w.statement_id, w.importer_id, w.prev_run_id, 1, 0,
           w.transaction_number, '{Code.MISSING_ON_STATEMENT}', FALSE,
           'entry:' || w.transaction_number, 'CAD', NULL, w.candidate_id, w.candidate_version,
           NULL, w.amount, {db.difference("NULL", "w.amount")}, {db.empty_json()}
    FROM {WORK} w
    WHERE w.kind = {CANDIDATE} AND w.same_count = 0
)
INSERT INTO {item_t} (
    run_id, statement_id, importer_id, position, status, is_exception, flagged, key,
    transaction_number, line_type, statement_line_id, entry_id, entry_version,
    statement_amount, entry_amount, difference, components_differing,
    resolution, note, assigned_to_id, resolved_by_id, resolved_at, first_seen_at, reopened
)
SELECT f.run_id, f.statement_id, f.importer_id,
       ROW_NUMBER() OVER (PARTITION BY f.run_id ORDER BY {rank}, f.grp, f.ord, f.transaction_number),
       f.status, NOT ({not_exception}), f.flagged, f.item_key, f.transaction_number, f.line_type,
       f.line_id, f.entry_id, f.entry_version, f.statement_amount, f.entry_amount, f.difference,
       f.components_differing,
       CASE WHEN {same} THEN p.resolution ELSE '' END,
       COALESCE(p.note, ''),
       p.assigned_to_id,
       CASE WHEN {same} THEN p.resolved_by_id END,
       CASE WHEN {same} THEN p.resolved_at END,
       COALESCE(p.first_seen_at, %s),
       CASE WHEN p.id IS NULL THEN FALSE WHEN {same} THEN p.reopened
            ELSE p.resolution <> '' AND NOT ({not_exception}) END
FROM found f
{previous_join}
"""  # noqa: S608
