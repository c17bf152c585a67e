"""Celery tasks of the statements app: thin wrappers over ``statements/importing.py``.

A task whose name starts with ``heavy_`` is routed to the ``heavy`` queue
(``CELERY_TASK_ROUTES``), so a million-line statement never delays an expiry alert.
"""

from __future__ import annotations

from celery import shared_task

from statements import importing


@shared_task(acks_late=True)
def heavy_import_batch(batch_id: int) -> str:
    """Import an uploaded file: claim its batch (once), run it, record the outcome on the row."""
    batch = importing.claim(batch_id)
    if batch is None:  # gone, already done, or being run by another worker
        return ""
    return importing.run_batch(batch=batch).message
