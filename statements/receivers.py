"""Reconciling automatically after an import (``RECONCILIATION_AFTER_IMPORT``), and keeping each
statement's ``balance_differs`` when one is saved or deleted outside the import.

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
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from statements import balance
from statements.models import BrokerEntry, ImportBatch, ReconciliationRun, Statement, StatementLine
from statements.reconciliation.rules import MATCHABLE_TYPES
from statements.reconciliation.runs import start_reconciliations
from statements.signals import entries_imported, statements_imported

_state = threading.local()

# The fields a statement's balance check reads (and the account and date that place it).
BALANCE_FIELDS = {
    "program_account",
    "statement_date",
    "opening_balance",
    "closing_balance",
    "stated_closing_balance",
}


@receiver(post_save, sender=Statement, dispatch_uid="statement_balance_differs_saved")
def statement_saved(
    sender: type, instance: Statement, update_fields: frozenset[str] | None = None, **kwargs: object
) -> None:
    """A statement created or changed one by one (the admin, a factory): its account's checks
    (its own and its successor's) are brought up to date. The import writes in bulk and refreshes
    the accounts it touched itself."""
    if update_fields is not None and not BALANCE_FIELDS & set(update_fields):
        return
    balance.refresh_accounts([instance.program_account_id])


@receiver(post_delete, sender=Statement, dispatch_uid="statement_balance_differs_deleted")
def statement_deleted(sender: type, instance: Statement, **kwargs: object) -> None:
    """A deleted statement leaves its successor comparing with the one before it."""
    balance.refresh_accounts([instance.program_account_id])


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
