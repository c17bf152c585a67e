"""What the compliance work observes in the statements app (connected in ``ServicesConfig.ready``).

Both receivers run inside the sender's transaction, so a correction opens or is filed together
with the resolution or the import that caused it, or not at all.
"""

from __future__ import annotations

from django.dispatch import receiver

from carm_portal.models import User
from services.compliance.corrections import file_from_batch, open_from_reconciliation
from statements.models import ImportBatch, ReconciliationItem
from statements.signals import correction_requested, entries_imported


@receiver(correction_requested, dispatch_uid="compliance_open_correction")
def open_requested_correction(
    sender: type, item: ReconciliationItem, user: User | None = None, **kwargs: object
) -> None:
    open_from_reconciliation(item=item, by=user)


@receiver(entries_imported, dispatch_uid="compliance_file_corrections")
def file_corrections(sender: type, batch: ImportBatch, **kwargs: object) -> None:
    file_from_batch(batch)
