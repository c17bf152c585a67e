"""Signals the statements app sends, for the apps built on it (payments keeps its balances) and for
its own task layer (the importer does not import the tasks that run it)."""

from django.dispatch import Signal

# Sent inside the import's transaction once a statement file is accepted: ``batch`` (ImportBatch).
statements_imported = Signal()
# Sent inside the import's transaction once an entries file is accepted: ``batch`` (ImportBatch).
entries_imported = Signal()
# Sent inside ``workflow.resolve``'s transaction when an exception is resolved as "correction
# requested": ``item`` (ReconciliationItem) and ``user``. The compliance work (services) opens the
# correction from it; statements never import the apps built on it.
correction_requested = Signal()

# Sent by the filing job after an accepted statement file's import (``importing.received``), once
# for the whole file: ``batch`` (ImportBatch) and ``received`` (a list of
# ``statements.importing.received.ReceivedFile``, one per importer the file concerns: the importer,
# the stored path, the file name, the record date and the statements it brought). The compliance
# work (services) files each as the importer's record; the import does not wait on it and is not
# undone if filing fails.
statement_file_received = Signal()
# Sent once a generated report's PDF is stored and committed: ``run`` (ReconciliationRun),
# ``path`` (its name in the default storage), ``name``, ``record_date`` and ``user`` (or None).
report_generated = Signal()
# Asked before statements deletes a stored file it wrote: ``path``. A receiver answering True keeps
# the file (a compliance record points at it).
keep_file = Signal()
