"""The life of a reconciliation run: queued (the page's button, the API, the after-import hook),
claimed by a worker, run in one transaction per group of statements, succeeded or failed.

Many statements are reconciled together in chunks of ``CHUNK_STATEMENTS``, each in one
transaction with the same statements; ``engine`` writes the items, ``outcome`` records the result,
``status`` moves ``Statement.status``.

**Safety.** The run row is committed as ``running`` first; then one transaction locks the
statement rows (``SELECT … FOR UPDATE``; SQLite serializes writers anyway), writes the items, moves
``is_current`` from the previous run to the new one and records the outcome. If anything fails,
that transaction rolls back (the previous current run and its items are untouched) and the run is
marked failed outside it. Progress (phase, percent) is written on PostgreSQL from a side
connection in autocommit (``progress``), so a page polling the run row sees it while the
transaction is open.

**Queueing.** Once the caller's transaction commits, queued runs go to a worker through
``statements.enqueue`` (the tasks by their registered names): this module never imports the
tasks (they import it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.bulk import chunks
from carm_portal.dispatch import send
from carm_portal.notification_models import Kind
from carm_portal.notifications import notify
from statements.enqueue import heavy_reconcile_runs, heavy_reconcile_statement
from statements.models import ReconciliationRun, Statement
from statements.reconciliation import engine, outcome, status
from statements.reconciliation.dialect import for_connection
from statements.reconciliation.progress import RunProgress
from statements.reconciliation.rules import clean_tolerance
from statements.reconciliation.selectors import live_q, stale_before

if TYPE_CHECKING:
    from carm_portal.models import User

log = logging.getLogger(__name__)

Run = ReconciliationRun
CHUNK_STATEMENTS = 2000  # statements per transaction (reconcile_statements) and per task


class ReconciliationError(Exception):
    """A run that could not complete; the run row says why (``error``)."""


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
        for run in Run.objects.filter(statement_id__in=ids).filter(live_q()).order_by("created_at"):
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
        transaction.on_commit(partial(_enqueue, run_ids, task_id), robust=True)
    return [live.get(pk) or created[pk] for pk in ids]


def _enqueue(run_ids: list[int], task_id: str) -> bool:
    """Send runs queued together (after commit) to a worker as one task, under the id their rows
    record (through ``statements.enqueue``: this module does not import the tasks); note on the
    rows when the broker took it. A broker that cannot be reached leaves them queued, unsent, for
    ``statements.redispatch``: never an error for the page or import that queued them."""
    return dispatch(run_ids, task_id)


def dispatch(run_ids: Sequence[int], task_id: str) -> bool:
    """Send queued runs to a worker now, as one task; returns whether the broker took it."""
    ids = list(run_ids)

    def sent() -> None:
        Run.objects.filter(pk__in=ids).update(dispatched_at=timezone.now())

    if len(ids) == 1:
        return send(
            heavy_reconcile_statement, kwargs={"run_id": ids[0]}, task_id=task_id, on_sent=sent
        )
    return send(heavy_reconcile_runs, kwargs={"run_ids": ids}, task_id=task_id, on_sent=sent)


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
    progress = RunProgress.for_runs(run_ids)
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


def _reconcile_group(run_ids: list[int], progress: RunProgress) -> None:
    """Everything a group of runs writes, inside the caller's transaction."""
    progress.update(_("waiting for the statement"), 5, force=True)
    for_connection().tune_transaction()
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
    returned = engine.insert_items(run_ids, now=now)
    # A balance difference is an item too, written by the run right after the engine's.
    runs = outcome.balance_runs(run_ids)
    balance_rows = outcome.insert_balance_items(runs, now=now)
    progress.update(_("adding up"), 70, force=True)
    summaries = (
        outcome.summaries(run_ids)
        if returned is None
        else outcome.summaries_from(run_ids, [*returned, *balance_rows])
    )
    balances = outcome.balances(statement_ids)
    progress.update(_("recording the result"), 90, force=True)
    clean = outcome.finish_runs(runs, summaries, balances, now=now)
    status.set_statement_status(clean, now=now)
    transaction.on_commit(partial(_tell_exceptions, run_ids))  # outside the runs' transaction


def _tell_exceptions(run_ids: list[int]) -> None:
    """Who ran a reconciliation that left exceptions hears of it; a run nobody started (after an
    import) is told to the importer's assigned agent. Once per run."""
    finished = Run.objects.filter(
        pk__in=run_ids, status=Run.Status.SUCCEEDED, exception_count__gt=0
    ).select_related("statement__program_account__importer")
    for run in finished:
        account = run.statement.program_account
        recipient = run.run_by_id or account.importer.assigned_agent_id
        if recipient is None:
            continue
        notify(
            kind=Kind.RECONCILIATION_EXCEPTIONS,
            recipients=[recipient],
            key=f"run:{run.pk}",
            text=later.ngettext(
                "The reconciliation of %(importer)s, %(bn15)s, finished with %(n)s exception.",
                "The reconciliation of %(importer)s, %(bn15)s, finished with %(n)s exceptions.",
                run.exception_count,
                {
                    "importer": account.importer.legal_name,
                    "bn15": account.bn15,
                    "n": run.exception_count,
                },
            ),
            url=run.get_absolute_url(),
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
