"""Step 1 of the onboarding checklist is derived from the importer's securities: keep it current.

A signal rather than a call in each form, so that a change made in the Django admin, the API or a
data fix re-derives the checklist too (in the same transaction as the change).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from clients.models import Importer
from clients.onboarding import refresh_checklists
from payments.models import FinancialSecurity


@receiver([post_save, post_delete], sender=FinancialSecurity)
def security_changed(
    sender: type, instance: FinancialSecurity, raw: bool = False, **kwargs: object
) -> None:
    if raw:
        return
    importer = Importer.objects.filter(program_accounts__pk=instance.program_account_id).first()
    if importer is not None:
        refresh_checklists([importer])
