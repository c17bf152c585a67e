"""Keep each importer's onboarding checklist in step with the records it is derived from.

Signals rather than calls in each form, so that a change made in the Django admin, the API or a
data fix re-derives the checklist too. The refresh runs in the same transaction as the change:
a rolled-back change rolls back its checklist update with it.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from clients.models import Importer, PortalUser, ProgramAccount
from clients.onboarding import refresh_checklists


@receiver(post_save, sender=Importer)
def importer_saved(sender: type, instance: Importer, raw: bool = False, **kwargs: object) -> None:
    if not raw:
        refresh_checklists([instance])


@receiver([post_save, post_delete], sender=PortalUser)
@receiver([post_save, post_delete], sender=ProgramAccount)
def related_changed(
    sender: type, instance: PortalUser | ProgramAccount, raw: bool = False, **kwargs: object
) -> None:
    if raw:
        return
    importer = Importer.objects.filter(pk=instance.importer_id).first()
    if importer is not None:  # None while the importer itself is being deleted (cascade)
        refresh_checklists([importer])
