"""Signals the statements app sends, for the apps built on it (payments keeps its balances) and for
its own task layer (the importer does not import the tasks that run it)."""

from django.dispatch import Signal

# Sent inside the import's transaction once a statement file is accepted: ``batch`` (ImportBatch).
statements_imported = Signal()
# Sent inside the import's transaction once an entries file is accepted: ``batch`` (ImportBatch).
entries_imported = Signal()
# Sent inside the request's transaction when an upload is kept for a worker: ``batch``
# (ImportBatch, queued). ``statements.tasks.queue_import`` hands it to the heavy queue on commit.
upload_queued = Signal()
# Sent after commit once reconciliation runs are queued together: ``run_ids`` (list of ints) and
# ``task_id`` (the id their one Celery task is sent with). ``statements.tasks`` sends that task.
reconciliations_queued = Signal()
