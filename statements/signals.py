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
