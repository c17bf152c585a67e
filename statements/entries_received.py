"""When new entries of a program account were last accepted (``models.EntriesReceived``).

Written by the entries import, in its transaction, for the accounts whose entries it added (not
those whose rows it skipped as already stored); their statements' ``reconciliation_pending`` is
refreshed with it (``reconciliation.pending``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Max

from statements.models import BrokerEntry, EntriesReceived, ImportBatch, Statement
from statements.reconciliation.pending import refresh_pending


def note_entries_received(account_ids: Iterable[int], at: dt.datetime) -> int:
    """Record that new entries of ``account_ids`` were accepted at ``at`` (the batch's finish);
    an account keeps its latest time. Returns the accounts written."""
    ids = sorted(set(account_ids))
    if not ids:
        return 0
    kept = dict(
        EntriesReceived.objects.filter(program_account_id__in=ids).values_list(
            "program_account_id", "at"
        )
    )
    rows = [
        EntriesReceived(program_account_id=pk, at=at)
        for pk in ids
        if pk not in kept or kept[pk] < at
    ]
    EntriesReceived.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["program_account"], update_fields=["at"]
    )
    refresh_pending(
        Statement.objects.filter(program_account_id__in=[row.program_account_id for row in rows])
    )
    return len(rows)


def entries_received_from_entries() -> dict[int, dt.datetime]:
    """account id -> the finish of the latest accepted entries file that brought one of its
    entries, read from the entries themselves (the migration's backfill, and tests' outside
    figure for what the import keeps)."""
    return dict(
        BrokerEntry.objects.filter(
            source_batch__kind=ImportBatch.Kind.ENTRIES,
            source_batch__status=ImportBatch.Status.ACCEPTED,
        )
        .values("program_account_id")
        .annotate(at=Max("source_batch__finished_at"))
        .values_list("program_account_id", "at")
        .order_by()
    )
