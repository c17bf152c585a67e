"""Reconciling automatically after an import (``RECONCILIATION_AFTER_IMPORT``).

Both receivers run inside the import's transaction and only *queue* runs, handed to the ``heavy``
queue once the import commits (``reconciliation.runs.start_reconciliations``): an import never waits for a
reconciliation, and a refused import queues nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.dispatch import receiver

from statements.models import BrokerEntry, ImportBatch, ReconciliationRun, Statement, StatementLine
from statements.reconciliation.rules import MATCHABLE_TYPES
from statements.reconciliation.runs import start_reconciliations
from statements.signals import entries_imported, statements_imported

_state = threading.local()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Imports inside this block queue no reconciliation (the demo reconciles by itself)."""
    previous = getattr(_state, "paused", False)
    _state.paused = True
    try:
        yield
    finally:
        _state.paused = previous


def _enabled() -> bool:
    return settings.RECONCILIATION_AFTER_IMPORT and not getattr(_state, "paused", False)


@receiver(statements_imported, dispatch_uid="reconcile_imported_statements")
def reconcile_imported_statements(sender: type, batch: ImportBatch, **kwargs: object) -> None:
    """A statement file was accepted: reconcile each of its statements."""
    if _enabled():
        start_reconciliations(
            Statement.objects.filter(source_batch=batch),
            run_by=batch.uploaded_by,
            trigger=ReconciliationRun.Trigger.IMPORT,
        )


@receiver(entries_imported, dispatch_uid="reconcile_after_entries")
def reconcile_after_entries(sender: type, batch: ImportBatch, **kwargs: object) -> None:
    """An entries file was accepted: rerun the reconciled statements it may change."""
    if _enabled():
        start_reconciliations(
            touched_statements(batch),
            run_by=batch.uploaded_by,
            trigger=ReconciliationRun.Trigger.IMPORT,
        )


def touched_statements(batch: ImportBatch) -> QuerySet[Statement]:
    """Statements with a current run that an entries batch may change: those of the batch's
    program accounts whose billing period holds an ``accounted_on`` of the batch for that
    account, and those with a CAD/adjustment line of a transaction the batch brought (an
    amendment accepted after the period still changes the comparison). One query, whatever the
    batch's size."""
    brought = BrokerEntry.objects.filter(source_batch=batch)
    in_period = brought.filter(
        program_account=OuterRef("program_account"),
        accounted_on__gte=OuterRef("period_start"),
        accounted_on__lte=OuterRef("period_end"),
    )
    charged = StatementLine.objects.filter(
        statement=OuterRef("pk"),
        line_type__in=MATCHABLE_TYPES,
        transaction_number__in=brought.filter(
            program_account=OuterRef(OuterRef("program_account"))
        ).values("transaction_number"),
    )
    return Statement.objects.filter(
        program_account__in=brought.values("program_account_id"),
        reconciliation_runs__is_current=True,
    ).filter(Exists(in_period) | Exists(charged))
