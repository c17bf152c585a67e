"""Step 1 of the onboarding checklist is derived from the importer's securities: keep it current.

A signal rather than a call in each form, so that a change made in the Django admin, the API or a
data fix re-derives the checklist too (in the same transaction as the change).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from clients.models import Importer
from clients.onboarding import refresh_checklists
from payments.balances import refresh_balances, stale_statement_ids
from payments.models import FinancialSecurity
from payments.posted_payments import sync_posted_payments
from statements.models import ImportBatch
from statements.signals import statements_imported


@receiver([post_save, post_delete], sender=FinancialSecurity)
def security_changed(
    sender: type, instance: FinancialSecurity, raw: bool = False, **kwargs: object
) -> None:
    if raw:
        return
    importer = Importer.objects.filter(program_accounts__pk=instance.program_account_id).first()
    if importer is not None:
        refresh_checklists([importer])


@receiver(statements_imported)
def statements_arrived(sender: type, batch: ImportBatch, **kwargs: object) -> None:
    """New statements: match their payment lines and compute their balances now, so worklists
    and overdue lists show them at once rather than after the next daily check. The refresh also
    sets ``Statement.status`` to paid (or back to open) from the balances (``sync_paid_status``),
    so the statements list's overdue badge follows at once too."""
    importer_ids = list(
        Importer.objects.filter(program_accounts__statements__source_batch=batch)
        .values_list("pk", flat=True)
        .distinct()
    )
    if importer_ids:
        synced = sync_posted_payments(importer_ids=importer_ids, refresh=False)
        stale = stale_statement_ids(importer_ids=importer_ids)
        refresh_balances(statement_ids={*stale, *synced.touched})  # each one once
