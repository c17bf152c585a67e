"""Step 7 of the onboarding checklist is derived from the importer's delegations: keep it current."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from clients.models import Importer
from clients.onboarding import refresh_checklists
from delegation.models import Delegation


def _refresh(importer_id: int) -> None:
    importer = Importer.objects.filter(pk=importer_id).first()
    if importer is not None:
        refresh_checklists([importer])


@receiver([post_save, post_delete], sender=Delegation)
def delegation_changed(
    sender: type, instance: Delegation, raw: bool = False, **kwargs: object
) -> None:
    if not raw:
        _refresh(instance.importer_id)


@receiver(m2m_changed, sender=Delegation.program_accounts.through)
def accounts_changed(sender: type, instance: object, action: str, **kwargs: object) -> None:
    if action in {"post_add", "post_remove", "post_clear"} and isinstance(instance, Delegation):
        _refresh(instance.importer_id)
