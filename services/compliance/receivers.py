"""What the compliance work observes in the statements app (connected in ``ServicesConfig.ready``).

The correction receivers run inside the sender's transaction, so a correction opens or is filed
together with the resolution or the import that caused it, or not at all. The filing receivers
run after the sender committed (statement files, generated PDFs): the import or the report stands
even if filing fails, which is logged rather than raised into a finished request or task.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.dispatch import receiver
from django.utils.translation import gettext as _

from carm_portal.models import User
from services.compliance.corrections import file_from_batch, open_from_reconciliation
from services.compliance.documents import Stored, file_stored, file_stored_many, is_filed
from services.models import DocumentType
from statements.importing.received import ReceivedFile
from statements.models import ImportBatch, ReconciliationItem, ReconciliationRun, Statement
from statements.signals import (
    correction_requested,
    entries_imported,
    keep_file,
    report_generated,
    statement_file_received,
)

log = logging.getLogger(__name__)


@receiver(correction_requested, dispatch_uid="compliance_open_correction")
def open_requested_correction(
    sender: type, item: ReconciliationItem, user: User | None = None, **kwargs: object
) -> None:
    open_from_reconciliation(item=item, by=user)


@receiver(entries_imported, dispatch_uid="compliance_file_corrections")
def file_corrections(sender: type, batch: ImportBatch, **kwargs: object) -> None:
    file_from_batch(batch)


@receiver(statement_file_received, dispatch_uid="compliance_file_statement")
def file_statements(
    sender: type, batch: ImportBatch, received: Sequence[ReceivedFile], **kwargs: object
) -> None:
    """An accepted statement file is each importer's SOA record, dated by its period's end; a
    part that brought one statement is that statement's record (still there: one query)."""
    alone = {item.statement_ids[0] for item in received if len(item.statement_ids) == 1}
    still_there = set(Statement.objects.filter(pk__in=alone).values_list("pk", flat=True))
    try:
        file_stored_many(
            [
                Stored(
                    importer_id=item.importer_id,
                    path=item.path,
                    name=item.name,
                    document_type=DocumentType.SOA,
                    record_date=item.record_date,
                    statement_id=_only_statement(item, still_there),
                )
                for item in received
            ],
            by=batch.uploaded_by,
            description=_("Statement file imported (import #%(batch)d)") % {"batch": batch.pk},
        )
    except Exception:
        log.exception("Filing statement file of batch %s failed", batch.pk)


def _only_statement(item: ReceivedFile, still_there: set[int]) -> int | None:
    """The one statement a part brought, if it is still there (a part with several is the
    importer's record, not one statement's)."""
    if len(item.statement_ids) == 1 and item.statement_ids[0] in still_there:
        return item.statement_ids[0]
    return None


@receiver(report_generated, dispatch_uid="compliance_file_report")
def file_report(
    sender: type,
    run: ReconciliationRun,
    path: str,
    name: str,
    record_date: dt.date,
    user: User | None = None,
    **kwargs: object,
) -> None:
    """A generated reconciliation PDF is filed with the importer's records, dated the day it was
    generated and linked to its statement."""
    statement = run.statement
    try:
        file_stored(
            importer=statement.program_account.importer,
            path=path,
            name=name,
            document_type=DocumentType.RECONCILIATION_REPORT,
            record_date=record_date,
            by=user,
            description=_("Reconciliation report of the statement of %(date)s (run #%(run)d)")
            % {"date": statement.statement_date.isoformat(), "run": run.pk},
            statement=statement,
        )
    except Exception:
        log.exception("Filing report %s of run %s failed", path, run.pk)


@receiver(keep_file, dispatch_uid="compliance_keep_filed")
def keep_filed(sender: type, path: str, **kwargs: object) -> bool:
    """A file filed as a compliance record outlives what statements deletes."""
    return is_filed(path)
