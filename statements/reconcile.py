"""Reconciling a statement of account with the broker's entries: what CBSA charged against what the
broker declared, and why they differ.

The rules (``docs/formats.md``, "Reconciliation export"), for one statement:

* ``CAD`` and ``ADJUSTMENT`` lines are compared with the **highest version** of the entry of the same
  program account (BN15) and transaction number, whatever that version's ``accounted_on`` (a line
  may charge an entry accepted in an earlier period, or be compared with an amendment accepted
  after the 17th). Equal in the total and in every component, to the cent: ``matched``. Differing
  by no more than the run's tolerance in the total *and* in every component:
  ``matched_within_tolerance``, with the differing components listed. Otherwise
  ``amount_mismatch``, with each differing component as ``{"statement", "entry", "difference"}``
  (strings, two places). A line with no entry is ``other_broker`` when the transaction number's
  first five digits (its ASEC) are not in ``BROKER_ASECS``, else ``unexpected_on_statement``.
* A transaction number on more than one ``CAD``/``ADJUSTMENT`` line of the statement: every such
  line is ``duplicate``, none is matched (each still shows its entry and difference). Two entries
  of the same version cannot exist: the unique constraint ``one_entry_per_transaction_version``
  (and the entries import before it) refuses them, so entry-side duplicates never reach this code.
* ``INTEREST``, ``PENALTY``, ``MISC``, ``PAYMENT`` and ``CREDIT`` lines are ``posted_by_cbsa``;
  interest and penalties are ``flagged``.
* The highest version of an entry accounted in the statement's billing period with no
  ``CAD``/``ADJUSTMENT`` line of its transaction number: ``missing_on_statement``.
* ``OPENING_BALANCE`` lines are not items; they feed the balance check, which is the statement
  page's (``selectors.BalanceCheck``): opening balance + the other lines = closing balance, and
  the ``OPENING_BALANCE`` line equals the statement's opening balance.

``difference`` is always statement amount − entry amount, a missing side counted as 0.

**Exceptions** (``is_exception``): every item but ``matched``, ``matched_within_tolerance`` and the
unflagged ``posted_by_cbsa`` items (payments, credits, misc charges are listed for review but
need no one's decision); interest and penalties are exceptions to review.

**Keys** identify a finding across runs of one statement: ``txn:<number>`` for a line with a
transaction number, ``txn:<number>#<n>`` for the n-th duplicate line (file order), ``line:<row>``
for a line posted by CBSA (statement lines never change once imported, so the row is stable),
``entry:<number>`` for an entry missing on the statement.

**Carry-over.** A rerun copies ``resolution``, ``note``, ``assigned_to``, ``resolved_by``,
``resolved_at``, ``first_seen_at`` and ``reopened`` from the previous current run's item with the
same key, status, difference and differing components. When the key is the same but any of those
changed, ``first_seen_at``, ``note`` and ``assigned_to`` still carry over (the person working the
finding keeps it, with its note), the resolution is cleared and ``reopened`` is set if it had
been resolved and is still an exception. This happens inside the ``INSERT … SELECT`` that
writes the items.

**Set-based.** A run is a fixed number of SQL statements whatever the number of lines: one
``INSERT … SELECT`` writes every item (window functions number duplicates and positions), a
``GROUP BY`` gives the balance and another the summary (on PostgreSQL the summary comes from the
``INSERT`` itself, ``RETURNING`` grouped in a CTE), a few ``UPDATE``s finish. Many statements are
reconciled together by ``reconcile_statements`` in chunks of ``CHUNK_STATEMENTS``, each in one
transaction with the same statements. The SQL is the same on SQLite (>= 3.33) and PostgreSQL
except small vendor pieces: amounts compared in cents on SQLite (it stores decimals as floating
point), the money-as-text and JSON-building functions, the previous items looked up ``LATERAL``
and the summary ``RETURNING`` on PostgreSQL, and no JIT there for the run's transaction.
Measured in ``bench/bench_reconcile.py``.

**Safety.** The run row is committed as ``running`` first; then one transaction locks the
statement rows (``SELECT … FOR UPDATE``; SQLite serializes writers anyway), writes the items, moves
``is_current`` from the previous run to the new one and records the outcome. If anything fails,
that transaction rolls back (the previous current run and its items are untouched) and the run is
marked failed outside it. Progress (phase, percent) is written on PostgreSQL from a side
connection in autocommit, as ``statements/importing.py`` does, so a page polling the run row sees
it while the transaction is open.

Items are written by SQL, so simple-history records no "created" row for them: the run is the
record of what was found; history starts with the first change a person makes.

The raw SQL (``# noqa: S608``) builds only identifiers from the models' own table and column names
and the component list; every value is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal.bulk import chunks, snapshot_history, update_rows
from carm_portal.money import CENT, ZERO, from_cents, sum_cents, to_money
from carm_portal.progress import SideWriter
from clients.models import ProgramAccount
from statements.models import (
    COMPONENTS,
    BrokerEntry,
    ImportBatch,
    ReconciliationItem,
    ReconciliationRun,
    Statement,
    StatementLine,
)
from statements.selectors import BalanceCheck

if TYPE_CHECKING:
    from carm_portal.models import User

log = logging.getLogger(__name__)

Code = ReconciliationItem.Code
Run = ReconciliationRun
MATCHABLE_TYPES = (StatementLine.LineType.CAD, StatementLine.LineType.ADJUSTMENT)
POSTED_TYPES = (
    StatementLine.LineType.INTEREST,
    StatementLine.LineType.PENALTY,
    StatementLine.LineType.MISC,
    StatementLine.LineType.PAYMENT,
    StatementLine.LineType.CREDIT,
)
FLAGGED_TYPES = (StatementLine.LineType.INTEREST, StatementLine.LineType.PENALTY)
OPENING = StatementLine.LineType.OPENING_BALANCE
CHUNK_STATEMENTS = 2000  # statements per transaction (reconcile_statements) and per task
WORK_MEM = "128MB"  # PostgreSQL sort memory for a run's transaction


class ReconciliationError(Exception):
    """A run that could not complete; the run row says why (``error``)."""


# --- Selectors for the pages, the worklist and the API ----------------------------------------------


def current_run(statement: Statement | int) -> ReconciliationRun | None:
    """The statement's current run (the latest that succeeded), or None."""
    statement_id = statement if isinstance(statement, int) else statement.pk
    return Run.objects.filter(statement_id=statement_id, is_current=True).first()


def live_run(statement: Statement | int) -> ReconciliationRun | None:
    """A run of the statement waiting for or in the hands of a worker (not stale), or None."""
    statement_id = statement if isinstance(statement, int) else statement.pk
    return (
        Run.objects.filter(statement_id=statement_id)
        .filter(_live_q())
        .order_by("-created_at", "-pk")
        .first()
    )


def current_items(items: QuerySet[ReconciliationItem] | None = None) -> QuerySet:
    """Items of current runs only (what pages, worklist and reports show)."""
    items = ReconciliationItem.objects.all() if items is None else items
    return items.filter(run__is_current=True)


def open_exceptions(items: QuerySet[ReconciliationItem] | None = None) -> QuerySet:
    """Exceptions of current runs nobody has resolved yet (the worklist), oldest first.

    Scope ``items`` with ``clients.access`` first (``importer`` is denormalised on the item).
    """
    return (
        current_items(items)
        .filter(is_exception=True, resolution="")
        .order_by("first_seen_at", "statement_id", "position")
    )


def pending_statements(statements: QuerySet[Statement] | None = None) -> QuerySet[Statement]:
    """Statements a reconciliation should (re)visit: ``manage.py reconcile --all-pending``.

    Pending means: no current run (never reconciled, or every run failed), or an entries file
    accepted after the current run started brought an entry of the statement's program account
    (a new version, a new CAD: the comparison may have changed). Statement lines never change
    once imported, so they need no such test. Paid statements are included: what was paid may
    still have been wrong, and a run never changes a paid statement's status.
    """
    statements = Statement.objects.all() if statements is None else statements
    current = Run.objects.filter(statement=OuterRef("pk"), is_current=True)
    newer_entries = ImportBatch.objects.filter(
        kind=ImportBatch.Kind.ENTRIES,
        status=ImportBatch.Status.ACCEPTED,
        finished_at__gt=Subquery(
            Run.objects.filter(statement=OuterRef(OuterRef("pk")), is_current=True).values(
                "started_at"
            )[:1]
        ),
        entries__program_account=OuterRef("program_account"),
    )
    return statements.filter(~Exists(current) | Exists(newer_entries)).order_by("pk")


# --- Starting runs (the page's button, the API, the after-import hook) -----------------------------


def _create_runs(
    statement_ids: Sequence[int],
    *,
    run_by: Any,
    trigger: str,
    tolerance: Decimal,
    **state: Any,
) -> list[ReconciliationRun]:
    """One run row per statement, in one INSERT (queued for a worker, or running here)."""
    return Run.objects.bulk_create(
        [
            Run(statement_id=pk, run_by=run_by, trigger=trigger, tolerance=tolerance, **state)
            for pk in statement_ids
        ]
    )


def stale_before() -> dt.datetime:
    """Runs left ``running`` since before this instant belong to a worker that died."""
    return timezone.now() - dt.timedelta(seconds=settings.RECONCILIATION_STALE_SECONDS)


def _live_q() -> Q:
    return Q(status=Run.Status.QUEUED) | Q(
        status=Run.Status.RUNNING, started_at__gte=stale_before()
    )


def start_reconciliation(
    *,
    statement: Statement,
    run_by: User | None = None,
    trigger: str = Run.Trigger.PAGE,
    tolerance: Decimal | None = None,
) -> ReconciliationRun:
    """Queue a reconciliation of ``statement`` for a worker (on commit), or return the run already
    queued or running for it: two clicks make one run."""
    return start_reconciliations(
        Statement.objects.filter(pk=statement.pk),
        run_by=run_by,
        trigger=trigger,
        tolerance=tolerance,
    )[0]


def start_reconciliations(
    statements: QuerySet[Statement],
    *,
    run_by: User | None = None,
    trigger: str = Run.Trigger.PAGE,
    tolerance: Decimal | None = None,
) -> list[ReconciliationRun]:
    """Queue one run per statement (reusing live ones) and, once the caller's transaction commits,
    hand them to workers in groups of ``CHUNK_STATEMENTS`` (one task each). Three queries plus
    one insert, whatever the number of statements."""
    tolerance = clean_tolerance(tolerance)
    ids = list(statements.order_by("pk").values_list("pk", flat=True))
    live: dict[int, ReconciliationRun] = {}
    if ids:
        for run in (
            Run.objects.filter(statement_id__in=ids).filter(_live_q()).order_by("created_at")
        ):
            live.setdefault(run.statement_id, run)
    todo = [pk for pk in ids if pk not in live]
    created: dict[int, ReconciliationRun] = {}
    for group in chunks(todo, CHUNK_STATEMENTS):
        task_id = uuid.uuid4().hex  # one task per group; its runs share the task id
        runs = _create_runs(
            group,
            run_by=run_by,
            trigger=trigger,
            tolerance=tolerance,
            status=Run.Status.QUEUED,
            task_id=task_id,
            phase=_("queued"),
        )
        created.update((run.statement_id, run) for run in runs)
        run_ids = [run.pk for run in runs]
        transaction.on_commit(lambda ids=run_ids, tid=task_id: _enqueue(ids, tid))
    return [live.get(pk) or created[pk] for pk in ids]


def _enqueue(run_ids: list[int], task_id: str) -> None:
    from statements.enqueue import heavy_reconcile_runs, heavy_reconcile_statement

    if len(run_ids) == 1:
        heavy_reconcile_statement.apply_async(kwargs={"run_id": run_ids[0]}, task_id=task_id)
    else:
        heavy_reconcile_runs.apply_async(kwargs={"run_ids": run_ids}, task_id=task_id)


def claim(run_ids: Sequence[int]) -> list[ReconciliationRun]:
    """Take queued runs (or runs left running by a worker that died) for this worker."""
    now = timezone.now()
    claimable = Q(status=Run.Status.QUEUED) | Q(
        status=Run.Status.RUNNING, started_at__lt=stale_before()
    )
    with transaction.atomic():
        ids = list(
            Run.objects.select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked
            )
            .filter(claimable, pk__in=run_ids)
            .values_list("pk", flat=True)
        )
        Run.objects.filter(pk__in=ids).update(
            status=Run.Status.RUNNING, started_at=now, phase=_("starting"), percent=0, error=""
        )
    return list(Run.objects.filter(pk__in=ids).select_related("statement").order_by("pk"))


def requeue(run_ids: Sequence[int]) -> None:
    """Put failed runs back in the queue (a worker retrying after a transient database error)."""
    Run.objects.filter(pk__in=run_ids, status=Run.Status.FAILED).update(
        status=Run.Status.QUEUED, phase=_("queued"), finished_at=None
    )


# --- Running -------------------------------------------------------------------------------------


def clean_tolerance(value: Decimal | str | None) -> Decimal:
    """A tolerance in dollars (default ``RECONCILIATION_TOLERANCE``): at least 0, in whole cents."""
    if value is None:
        value = settings.RECONCILIATION_TOLERANCE
    if isinstance(value, float):
        raise TypeError("A tolerance is never a float: pass a Decimal or a string.")
    try:
        tolerance = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(_("The tolerance must be an amount, such as 0.05.")) from None
    if not tolerance.is_finite() or tolerance < 0:
        raise ValueError(_("The tolerance must be an amount of 0 or more, such as 0.05."))
    if tolerance != tolerance.quantize(CENT) or tolerance >= Decimal("1e12"):
        raise ValueError(_("The tolerance must be an amount in dollars and cents, such as 0.05."))
    return tolerance.quantize(CENT)


def reconcile_statement(
    *,
    statement: Statement,
    run_by: User | None = None,
    tolerance: Decimal | None = None,
    trigger: str = Run.Trigger.COMMAND,
    run: ReconciliationRun | None = None,
) -> ReconciliationRun:
    """Reconcile one statement now, in this process; returns the succeeded run.

    ``run``: a run already claimed (``claim``) by a worker; otherwise a new one is recorded. On
    failure the run is marked failed, the previous current run stays current, and
    ``ReconciliationError`` is raised (from the original error).
    """
    if run is None:
        run = Run.objects.create(
            statement=statement,
            run_by=run_by,
            trigger=trigger,
            tolerance=clean_tolerance(tolerance),
            status=Run.Status.RUNNING,
            started_at=timezone.now(),
            phase=_("starting"),
        )
    _execute([run.pk])
    run.refresh_from_db()
    return run


def reconcile_statements(
    statements: Iterable[Statement] | QuerySet[Statement],
    *,
    run_by: User | None = None,
    tolerance: Decimal | None = None,
    trigger: str = Run.Trigger.COMMAND,
    chunk_size: int = CHUNK_STATEMENTS,
) -> list[ReconciliationRun]:
    """Reconcile many statements now, ``chunk_size`` per transaction, set-based across each chunk.

    Returns every run, succeeded or failed: a chunk that fails is marked failed and the others
    still run (the error is logged and kept on the runs).
    """
    tolerance = clean_tolerance(tolerance)
    if isinstance(statements, QuerySet):
        ids = list(statements.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted({s.pk for s in statements})
    run_ids: list[int] = []
    for group in chunks(ids, chunk_size):
        now = timezone.now()
        runs = _create_runs(
            group,
            run_by=run_by,
            trigger=trigger,
            tolerance=tolerance,
            status=Run.Status.RUNNING,
            started_at=now,
            phase=_("starting"),
        )
        group_ids = [run.pk for run in runs]
        run_ids += group_ids
        try:
            _execute(group_ids)
        except ReconciliationError:
            log.warning("Reconciliation of statements %s..%s failed", group[0], group[-1])
    return list(Run.objects.filter(pk__in=run_ids).order_by("statement_id"))


def run_claimed(run_ids: Sequence[int]) -> None:
    """Run runs a worker has claimed (``claim``), in chunks; raises on the first failed chunk."""
    failed: ReconciliationError | None = None
    for group in chunks(list(run_ids), CHUNK_STATEMENTS):
        try:
            _execute(list(group))
        except ReconciliationError as exc:
            failed = failed or exc
    if failed is not None:
        raise failed


def _execute(run_ids: list[int]) -> None:
    """The one transaction of a group of runs (one per statement), or failure recorded outside it."""
    progress = _Progress.for_runs(run_ids)
    try:
        with transaction.atomic():
            _reconcile_group(run_ids, progress)
    except Exception as exc:
        log.exception("Reconciliation runs %s failed", run_ids[:5])
        _fail(run_ids, exc)
        raise ReconciliationError(str(exc)) from exc
    finally:
        progress.close()


def _fail(run_ids: list[int], exc: Exception) -> None:
    message = _(
        "The reconciliation stopped on an unexpected error; the previous result is unchanged."
    )
    Run.objects.filter(pk__in=run_ids).exclude(status=Run.Status.SUCCEEDED).update(
        status=Run.Status.FAILED,
        is_current=False,
        phase="",
        error=f"{message} ({type(exc).__name__}: {exc})"[:2000],
        finished_at=timezone.now(),
    )


def _reconcile_group(run_ids: list[int], progress: _Progress) -> None:
    """Everything a group of runs writes, inside the caller's transaction."""
    progress.update(_("waiting for the statement"), 5, force=True)
    _tune_transaction()
    _lock_statements(run_ids)
    # A run reclaimed as stale while its first worker was only slow: whoever got the lock
    # second finds it finished and leaves it alone. Two runs of one statement in a group: the
    # newer does the work, the older is superseded.
    latest: dict[int, int] = {}
    for pk, statement_id in Run.objects.filter(
        pk__in=run_ids, status=Run.Status.RUNNING
    ).values_list("pk", "statement_id"):
        latest[statement_id] = max(pk, latest.get(statement_id, 0))
    if not latest:
        return
    superseded = Run.objects.filter(pk__in=run_ids, status=Run.Status.RUNNING).exclude(
        pk__in=latest.values()
    )
    superseded.update(
        status=Run.Status.FAILED,
        phase="",
        error=_("Superseded by a newer run of the same statement."),
        finished_at=timezone.now(),
    )
    statement_ids = sorted(latest)
    run_ids = [latest[pk] for pk in statement_ids]
    progress.narrow(run_ids)  # this transaction now holds the superseded rows: never wait on them
    progress.update(_("matching lines and entries"), 10, force=True)
    now = timezone.now()
    returned = _insert_items(run_ids, now=now)
    progress.update(_("adding up"), 70, force=True)
    summaries = _summaries(run_ids) if returned is None else _summaries_from(run_ids, returned)
    balances = _balances(statement_ids)
    progress.update(_("recording the result"), 90, force=True)
    clean = _finish_runs(run_ids, summaries, balances, now=now)
    _set_statement_status(clean, now=now)


def _tune_transaction() -> None:
    """PostgreSQL, for this transaction only: no JIT (compiling the big INSERT took longer than
    running it) and room to sort a chunk's lines in memory rather than on disk."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)",
                [WORK_MEM],
            )


def _lock_statements(run_ids: list[int]) -> list[int]:
    """Lock the statements of these runs, in id order (two workers never deadlock), so two runs of
    one statement serialize; the second then sees the first's items as the previous ones."""
    statement_ids = list(
        Run.objects.filter(pk__in=run_ids).order_by().values_list("statement_id", flat=True)
    )
    return list(
        Statement.objects.select_for_update()
        .filter(pk__in=statement_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- The SQL ---------------------------------------------------------------------------------------


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _cents(expr: str) -> str:
    """An amount as compared: exact NUMERIC on PostgreSQL, whole cents on SQLite (floats there)."""
    if connection.vendor == "postgresql":
        return f"({expr})"
    return f"ROUND(({expr}) * 100)"


def _money_text(expr: str) -> str:
    """An amount (two places) as the text the JSON of differing components holds."""
    if connection.vendor == "postgresql":
        return f"(({expr})::numeric(14, 2))::text"
    return f"printf('%%.2f', ROUND(({expr}) * 100) / 100.0)"


def _json_differing(side: str, entry: str) -> str:
    """``{component: {"statement", "entry", "difference"}}`` for the components that differ."""
    parts = []
    for name in COMPONENTS:
        s, e = f"{side}.{name}", f"{entry}.e_{name}"
        differs = f"{_cents(s)} <> {_cents(e)}"
        if connection.vendor == "postgresql":
            value = (
                f"CASE WHEN {differs} THEN jsonb_build_object('statement', {_money_text(s)}, "
                f"'entry', {_money_text(e)}, 'difference', {_money_text(f'{s} - {e}')}) END"
            )
        else:
            value = (
                f"json(CASE WHEN {differs} THEN json_object('statement', {_money_text(s)}, "
                f"'entry', {_money_text(e)}, 'difference', "
                f"printf('%%.2f', ({_cents(s)} - {_cents(e)}) / 100.0)) END)"
            )
        parts.append(f"'{name}', {value}")
    if connection.vendor == "postgresql":
        return f"jsonb_strip_nulls(jsonb_build_object({', '.join(parts)}))"
    # SQLite has no strip-nulls; a JSON merge patch into {} drops the keys whose value is null.
    return f"json_patch('{{}}', json_object({', '.join(parts)}))"


def _empty_json() -> str:
    return "'{}'::jsonb" if connection.vendor == "postgresql" else "'{}'"


def _json_equal(a: str, b: str) -> str:
    if connection.vendor == "postgresql":
        return f"{a} = {b}"
    return f"json({a}) = json({b})"  # the ORM may have re-serialised the previous one


def _difference(statement: str, entry: str) -> str:
    """statement − entry (a missing side is 0), two places, on both databases."""
    if connection.vendor == "postgresql":
        return f"(COALESCE({statement}, 0) - COALESCE({entry}, 0))"
    return f"((ROUND(COALESCE({statement}, 0) * 100) - ROUND(COALESCE({entry}, 0) * 100)) / 100.0)"


def _items_sql(asec_count: int, run_count: int, previous_count: int) -> str:
    """One ``INSERT … SELECT`` writing every item of the runs in ``run_ids`` (a parameter list).

    CTEs, in order: ``scope`` (each run with its statement, account, importer, period, tolerance
    and the statement's current run before this one, whose items carry over); ``latest`` (the
    highest version of each transaction of those accounts); ``lines`` (CAD/adjustment lines,
    with how often their transaction number occurs on the statement and which occurrence each
    is); ``compared`` (each such line beside its entry: equal, within tolerance); ``found`` (the
    union of matchable lines, lines posted by CBSA and entries missing on the statement). The
    final SELECT numbers the items of each run in a stable order (status, as the export lists
    them; file row; the missing entries by transaction number) and joins the previous run's item
    of the same key.
    """
    comps = COMPONENTS
    run_placeholders = ", ".join(["%s"] * run_count)
    line_t, entry_t = _table(StatementLine), _table(BrokerEntry)
    run_t, stmt_t = _table(Run), _table(Statement)
    acct_t, item_t = _table(ProgramAccount), _table(ReconciliationItem)
    previous_join = _previous_items_join(item_t, previous_count)
    # Items are numbered by status, in the order of the status table of docs/formats.md (the
    # export's order), then by row in the file, then missing entries by transaction number.
    rank = "CASE f.status " + " ".join(f"WHEN '{c}' THEN {n}" for n, c in enumerate(Code.values))
    rank += " END"
    matchable = ", ".join(f"'{t}'" for t in MATCHABLE_TYPES)
    posted = ", ".join(f"'{t}'" for t in POSTED_TYPES)
    flagged = ", ".join(f"'{t}'" for t in FLAGGED_TYPES)
    ours = (
        f"SUBSTR(c.transaction_number, 1, 5) IN ({', '.join(['%s'] * asec_count)})"
        if asec_count
        else "FALSE"
    )
    equal = " AND ".join(f"{_cents(f'l.{n}')} = {_cents(f'e.{n}')}" for n in (*comps, "amount"))
    within = " AND ".join(
        f"ABS({_cents(f'l.{n}')} - {_cents(f'e.{n}')}) <= {_cents('l.tolerance')}"
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
    line_cols = ", ".join(f"l.{n}" for n in comps)
    entry_cols = ", ".join(f"e.{n} AS e_{n}" for n in comps)
    same = (
        f"(p.id IS NOT NULL AND p.status = f.status AND "
        f"{_cents('p.difference')} = {_cents('f.difference')} AND "
        f"{_json_equal('p.components_differing', 'f.components_differing')})"
    )
    not_exception = (
        f"f.status IN ('{Code.MATCHED}', '{Code.MATCHED_WITHIN_TOLERANCE}') "
        f"OR (f.status = '{Code.POSTED_BY_CBSA}' AND NOT f.flagged)"
    )
    return f"""
WITH scope AS (
    SELECT r.id AS run_id, r.statement_id, r.tolerance, s.program_account_id, a.importer_id,
           s.period_start, s.period_end, prev.id AS prev_run_id
    FROM {run_t} r
    JOIN {stmt_t} s ON s.id = r.statement_id
    JOIN {acct_t} a ON a.id = s.program_account_id
    LEFT JOIN {run_t} prev ON prev.statement_id = r.statement_id AND prev.is_current
    WHERE r.id IN ({run_placeholders})
),
latest AS (
    SELECT * FROM (
        SELECT e.id, e.program_account_id, e.transaction_number, e.version, e.accounted_on,
               e.amount, {", ".join(f"e.{n}" for n in comps)},
               ROW_NUMBER() OVER (PARTITION BY e.program_account_id, e.transaction_number
                                  ORDER BY e.version DESC) AS newest
        FROM {entry_t} e
        WHERE e.program_account_id IN (SELECT program_account_id FROM scope)
    ) ranked
    WHERE ranked.newest = 1
),
lines AS (
    SELECT sc.run_id, sc.statement_id, sc.importer_id, sc.program_account_id, sc.tolerance,
           sc.prev_run_id, l.id AS line_id, l.position AS line_position, l.line_type,
           l.transaction_number, l.amount, {line_cols},
           COUNT(*) OVER (PARTITION BY l.statement_id, l.transaction_number) AS same_count,
           ROW_NUMBER() OVER (PARTITION BY l.statement_id, l.transaction_number
                              ORDER BY l.position) AS nth
    FROM scope sc
    JOIN {line_t} l ON l.statement_id = sc.statement_id
    WHERE l.line_type IN ({matchable})
),
compared AS (
    SELECT l.*, e.id AS entry_id, e.version AS entry_version, e.amount AS e_amount, {entry_cols},
           {equal} AS is_equal, {within} AS is_within
    FROM lines l
    LEFT JOIN latest e ON e.program_account_id = l.program_account_id
                      AND e.transaction_number = l.transaction_number
),
found AS (
    SELECT c.run_id, c.statement_id, c.importer_id, c.prev_run_id, 0 AS grp,
           c.line_position AS ord, c.transaction_number, {status} AS status, FALSE AS flagged,
           {key} AS item_key, c.line_type, c.line_id, c.entry_id, c.entry_version,
           c.amount AS statement_amount, c.e_amount AS entry_amount,
           {_difference("c.amount", "c.e_amount")} AS difference,
           CASE WHEN c.entry_id IS NULL OR c.is_equal THEN {_empty_json()}
                ELSE {_json_differing("c", "c")} END AS components_differing
    FROM compared c
    UNION ALL
    SELECT sc.run_id, sc.statement_id, sc.importer_id, sc.prev_run_id, 0, l.position,
           l.transaction_number, '{Code.POSTED_BY_CBSA}', l.line_type IN ({flagged}),
           'line:' || CAST(l.position AS TEXT), l.line_type, l.id, NULL, NULL, l.amount, NULL,
           {_difference("l.amount", "NULL")}, {_empty_json()}
    FROM scope sc
    JOIN {line_t} l ON l.statement_id = sc.statement_id
    WHERE l.line_type IN ({posted})
    UNION ALL
    SELECT sc.run_id, sc.statement_id, sc.importer_id, sc.prev_run_id, 1, 0,
           e.transaction_number, '{Code.MISSING_ON_STATEMENT}', FALSE,
           'entry:' || e.transaction_number, 'CAD', NULL, e.id, e.version, NULL, e.amount,
           {_difference("NULL", "e.amount")}, {_empty_json()}
    FROM scope sc
    JOIN latest e ON e.program_account_id = sc.program_account_id
                 AND e.accounted_on BETWEEN sc.period_start AND sc.period_end
    WHERE NOT EXISTS (
        SELECT 1 FROM lines l
        WHERE l.statement_id = sc.statement_id AND l.transaction_number = e.transaction_number
    )
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


def _previous_items_join(item_t: str, previous_count: int) -> str:
    """The previous run's item of the same key, ``p`` (all NULL when there is none).

    The previous runs' ids are passed as values (known once the statements are locked). With
    none, there is nothing to join. On PostgreSQL a ``LATERAL`` lookup per item goes through the
    (run, key) index whatever the table's statistics say (right after a million-item run they
    are stale, and the planner then scanned the whole table); SQLite's planner uses the index
    for a plain join.
    """
    columns = "p.id, p.status, p.difference, p.components_differing, p.resolution, p.note, " + (
        "p.assigned_to_id, p.resolved_by_id, p.resolved_at, p.first_seen_at, p.reopened"
    )
    if not previous_count:
        return f"LEFT JOIN (SELECT {columns} FROM {item_t} p WHERE FALSE) p ON TRUE"  # noqa: S608
    ids = ", ".join(["%s"] * previous_count)
    if connection.vendor == "postgresql":
        return (
            f"LEFT JOIN LATERAL (SELECT {columns} FROM {item_t} p "  # noqa: S608
            f"WHERE p.run_id = f.prev_run_id AND p.key = f.item_key AND p.run_id IN ({ids})) p "
            "ON TRUE"
        )
    return (
        f"LEFT JOIN {item_t} p ON p.run_id = f.prev_run_id AND p.key = f.item_key "
        f"AND p.run_id IN ({ids})"
    )


def _insert_items(run_ids: list[int], *, now: dt.datetime) -> list[tuple] | None:
    """Write every item of the runs, with the carry-over, in one statement (and one query for the
    ids of the runs that are current until this one commits).

    On PostgreSQL the same statement also answers the counts and totals by run and status
    (``INSERT … RETURNING`` in a CTE, grouped): a million items are not read back a second
    time. Elsewhere it answers None and ``_summaries`` reads them.
    """
    asecs = [str(a) for a in settings.BROKER_ASECS]
    previous = list(
        Run.objects.filter(
            statement_id__in=Run.objects.filter(pk__in=run_ids).values("statement_id"),
            is_current=True,
        ).values_list("pk", flat=True)
    )
    # Parameters in textual order: the run ids (scope), the ASECs (in the status CASE, written
    # once), the first-seen instant of new findings, the previous runs.
    params: list[Any] = [
        *run_ids,
        *asecs,
        connection.ops.adapt_datetimefield_value(now),
        *previous,
    ]
    sql = _items_sql(len(asecs), len(run_ids), len(previous))
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return None
        cursor.execute(_summarised(sql), params)
        return cursor.fetchall()


def _summarised(sql: str) -> str:
    """The items ``INSERT`` turned into a data-modifying CTE whose rows are grouped as
    ``_summaries`` groups them (PostgreSQL)."""
    head, insert = sql.split("\nINSERT INTO ", 1)
    return (
        f"{head},\ninserted AS (\nINSERT INTO {insert}\n"
        "RETURNING run_id, status, is_exception, resolution, flagged, statement_amount, "
        "entry_amount, difference\n)\n"
        "SELECT run_id, status, COUNT(*), "
        "COUNT(*) FILTER (WHERE is_exception), "
        "COUNT(*) FILTER (WHERE is_exception AND resolution = ''), "
        "COUNT(*) FILTER (WHERE flagged), "
        "COALESCE(SUM(statement_amount), 0), COALESCE(SUM(entry_amount), 0), "
        "COALESCE(SUM(difference), 0) "
        "FROM inserted GROUP BY run_id, status"
    )


@dataclass
class _Balance:
    lines: Decimal
    opening_lines: Decimal


def _summaries(run_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
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
    return _summaries_from(
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


def _summaries_from(run_ids: list[int], rows: Iterable[tuple]) -> dict[int, dict[str, dict]]:
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


def _balances(statement_ids: list[int]) -> dict[int, _Balance]:
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
    balances = {pk: _Balance(ZERO, ZERO) for pk in statement_ids}
    for row in rows:
        balances[row["statement_id"]] = _Balance(
            from_cents(row["lines"]), from_cents(row["opening"])
        )
    return balances


def _finish_runs(
    run_ids: list[int],
    summaries: dict[int, dict[str, dict[str, Any]]],
    balances: dict[int, _Balance],
    *,
    now: dt.datetime,
) -> dict[int, bool]:
    """Move ``is_current`` to the new runs and record their outcome (one ``executemany``, values
    per run sent together). Answers, per statement, whether it is now clean: balance checks out
    and no open exception."""
    runs = list(Run.objects.filter(pk__in=run_ids).select_related("statement"))
    statement_ids = [run.statement_id for run in runs]
    Run.objects.filter(statement_id__in=statement_ids, is_current=True).exclude(
        pk__in=run_ids
    ).update(is_current=False)
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
        clean[run.statement_id] = check.ok and not any(v["open"] for v in summary.values())
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
                check.ok,
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
    return clean


def _set_statement_status(clean: dict[int, bool], *, now: dt.datetime) -> int:
    """``reconciled`` for the clean statements, ``open`` again for the others that were
    reconciled; paid ones stay paid. One read, then per direction one UPDATE and one history
    snapshot, whatever the number of statements."""
    statuses = dict(
        Statement.objects.filter(pk__in=list(clean)).values_list("pk", "status").order_by()
    )
    changes = {
        Statement.Status.RECONCILED: [
            pk for pk, ok in clean.items() if ok and statuses.get(pk) == Statement.Status.OPEN
        ],
        Statement.Status.OPEN: [
            pk
            for pk, ok in clean.items()
            if not ok and statuses.get(pk) == Statement.Status.RECONCILED
        ],
    }
    return _apply_statement_status(changes, now=now)


def _apply_statement_status(changes: dict[str, list[int]], *, now: dt.datetime) -> int:
    changed = 0
    for status, ids in changes.items():
        if ids:
            # Checked again in the UPDATE itself: a payment refresh may have marked one paid
            # since the ids were read, and paid belongs to the payments app.
            updated = Statement.objects.filter(pk__in=ids).exclude(status=Statement.Status.PAID)
            changed += updated.update(status=status, updated_at=now)
            snapshot_history(
                Statement.objects.filter(pk__in=ids, status=status),
                history_type="~",
                when=now,
                reason="Reconciliation",
            )
    return changed


def _refresh_statement_status(statement_ids: Sequence[int], *, now: dt.datetime) -> int:
    """Mark ``reconciled`` the statements whose current run has no open exception and whose
    balance checks out, and ``open`` again those that no longer qualify; paid ones stay paid.
    Each change gets a history record."""
    current = Run.objects.filter(statement=OuterRef("pk"), is_current=True)
    clean = Exists(current.filter(balance_ok=True)) & ~Exists(
        ReconciliationItem.objects.filter(
            run__statement=OuterRef("pk"), run__is_current=True, is_exception=True, resolution=""
        )
    )
    statements = Statement.objects.filter(pk__in=statement_ids).exclude(
        status=Statement.Status.PAID
    )
    changes = {
        Statement.Status.RECONCILED: list(
            statements.filter(clean)
            .exclude(status=Statement.Status.RECONCILED)
            .values_list("pk", flat=True)
        ),
        Statement.Status.OPEN: list(
            statements.filter(~clean)
            .filter(status=Statement.Status.RECONCILED)
            .values_list("pk", flat=True)
        ),
    }
    return _apply_statement_status(changes, now=now)


def refresh_statement_status(statements: Iterable[Statement | int]) -> int:
    """Re-derive ``reconciled``/``open`` after people resolved or reopened items (the workflow)."""
    ids = [s if isinstance(s, int) else s.pk for s in statements]
    return _refresh_statement_status(ids, now=timezone.now())


# --- Progress --------------------------------------------------------------------------------------


class _Progress:
    """Writes phase and percent onto the run rows where the statement page polls them.

    The run works in one transaction, invisible until it commits, so the writes go through
    ``carm_portal.progress`` (a side connection on PostgreSQL; elsewhere, or inside a caller's
    transaction, the outcome alone is written).
    """

    def __init__(self, run_ids: list[int]):
        self._side = SideWriter(what=f"reconciliation runs {run_ids[:5]}")
        self.narrow(run_ids)

    def narrow(self, run_ids: list[int]) -> None:
        """Write to these runs only from now on."""
        self.run_ids = list(run_ids)
        placeholders = ", ".join(["%s"] * len(run_ids))
        self.sql = (
            f"UPDATE {_table(Run)} SET phase = %s, percent = %s "  # noqa: S608
            f"WHERE id IN ({placeholders}) AND status = 'running'"
        )

    @classmethod
    def for_runs(cls, run_ids: list[int]) -> _Progress:
        return cls(run_ids)

    @property
    def live(self) -> bool:
        return self._side.live

    def update(self, phase: str, percent: int, *, force: bool = False) -> None:
        self._side.write(self.sql, [phase[:60], percent, *self.run_ids], force=force)

    def close(self) -> None:
        self._side.close()


# --- Reading a run back (the command, tests) ----------------------------------------------------


def describe(run: ReconciliationRun) -> str:
    """One line on a run: counts by status and the balance check."""
    if run.status == Run.Status.FAILED:
        return run.error
    labels = dict(Code.choices)
    counts = ", ".join(
        f"{labels.get(code, code)}: {run.summary[code]['count']}"
        for code in Code.values
        if code in run.summary
    )
    balance = (
        _("balance checks out")
        if run.balance_ok
        else _("balance off by %(difference)s") % {"difference": run.balance_difference}
    )
    return _("%(items)d items (%(counts)s); %(exceptions)d exceptions; %(balance)s.") % {
        "items": run.item_count,
        "counts": counts or _("none"),
        "exceptions": run.exception_count,
        "balance": balance,
    }


def totals_by_status(run: ReconciliationRun) -> dict[str, Decimal]:
    """Differences by status code, as Decimals (for charts)."""
    return {code: Decimal(values["difference"]) for code, values in run.summary.items()}
