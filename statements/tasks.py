"""Celery tasks of the statements app: thin wrappers over ``statements/importing/`` (imports),
``statements/reconciliation/`` (reconciliation runs) and ``statements/reports.py`` (stored PDFs).

The domain modules queue these tasks by name (``statements/enqueue.py``) rather than importing
this module, so the imports go one way: tasks -> domain.

A task whose name starts with ``heavy_`` is routed to the ``heavy`` queue
(``CELERY_TASK_ROUTES``), so a million-line statement never delays an expiry alert.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from statements import redispatch, reports
from statements.importing import batches, received
from statements.reconciliation import runs as reconciliation_runs


@shared_task(acks_late=True)
def heavy_import_batch(batch_id: int) -> str:
    """Import an uploaded file: claim its batch (once), run it, record the outcome on the row."""
    batch = batches.claim(batch_id)
    if batch is None:  # gone, already done, or being run by another worker
        return ""
    batch = batches.run_batch(batch=batch)
    if batches.to_file(batch):  # already on a worker: file it here, once the import has committed
        batches.file_now(batch.pk)
    return batch.message


@shared_task(acks_late=True)
def heavy_file_statement_batch(batch_id: int) -> str:
    """File an accepted statement file as its importers' records (``importing.received``), after
    its import; a batch already filed is skipped, so a message delivered twice files once."""
    return f"{len(received.file_batch(batch_id))} filed"


@shared_task(acks_late=True)
def heavy_render_reconciliation_pdf(run_id: int) -> str:
    """Render a large reconciliation report and store it on its run (claimed once; see
    ``statements.reports.render_stored_pdf``). Returns the stored file's name, or "" if there was
    nothing to do."""
    return reports.render_stored_pdf(run_id=run_id)


# --- Reconciliation (statements/reconciliation/) -------------------------------------------------

RECONCILE_MAX_RETRIES = 3


@shared_task(bind=True, acks_late=True, max_retries=RECONCILE_MAX_RETRIES)
def heavy_reconcile_statement(self, run_id: int) -> str:
    """Reconcile one statement: claim its queued run (once) and run it."""
    return _reconcile(self, [run_id])


@shared_task(bind=True, acks_late=True, max_retries=RECONCILE_MAX_RETRIES)
def heavy_reconcile_runs(self, run_ids: list[int]) -> str:
    """Reconcile a group of statements queued together (after an import), set-based."""
    return _reconcile(self, run_ids)


def _reconcile(task, run_ids: list[int]) -> str:
    """Claim what is still queued (or stale), run it; retry later on a transient database error.

    A run claimed by another worker, or already finished, is skipped: a message delivered twice
    (``acks_late`` after a worker died) does no harm. A run left ``running`` by a killed worker can
    be claimed again once ``RECONCILIATION_STALE_SECONDS`` have passed.
    """
    runs = reconciliation_runs.claim(run_ids)
    if not runs:
        return ""
    claimed = [run.pk for run in runs]
    try:
        reconciliation_runs.run_claimed(claimed)
    except reconciliation_runs.ReconciliationError as exc:
        if isinstance(exc.__cause__, OperationalError | InterfaceError) and (
            task.request.retries < task.max_retries
        ):
            reconciliation_runs.requeue(claimed)
            raise task.retry(exc=exc, countdown=10 * 2**task.request.retries) from exc
        raise
    return f"{len(claimed)} reconciled"


# --- Dispatch (carm_portal/dispatch.py, statements/redispatch.py) ---------------------------------


@shared_task
def redispatch_queued_jobs() -> str:
    """Send again the imports and runs whose message never reached a worker (beat, every minute).
    On the default queue: it must not wait behind the very imports it is rescuing."""
    done = redispatch.redispatch()
    return (
        f"{done.batches} batches, {done.filings} filings, {done.runs} runs, {done.pdfs} PDFs "
        "re-sent; "
        f"{done.unreachable} unreachable"
    )
