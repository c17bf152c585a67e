"""Keep each importer's onboarding checklist in step with the records it is derived from.

Signals rather than calls in each form, so that a change made in the Django admin, the API or a
data fix re-derives the checklist too. The refresh runs in the same transaction as the change:
a rolled-back change rolls back its checklist update with it.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from clients import access
from clients.models import Importer, Membership, PortalUser, ProgramAccount
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


# --- Separation of duties: broker staff never hold a membership ----------------------------------
# The rule is access.may_hold_membership; these receivers refuse every save that would break it,
# whatever writes it (the admin, the API, a shell). Forms check first and show the refusal.


def _refuse_broker_membership(user: object) -> None:
    raise ValidationError(
        _(
            "%(user)s is broker staff: a broker-staff account cannot be an importer's member "
            "(members may see bank account numbers that the broker must not)."
        )
        % {"user": user}
    )


@receiver(pre_save, sender=Membership)
def membership_saving(
    sender: type, instance: Membership, raw: bool = False, **kwargs: object
) -> None:
    if not raw and not access.may_hold_membership(instance.user):
        _refuse_broker_membership(instance.user)


@receiver(pre_save, sender=get_user_model())
def user_saving(sender: type, instance: Any, raw: bool = False, **kwargs: object) -> None:
    """A superuser counts as broker admin: an importer's member may not become one."""
    if (
        not raw
        and instance.pk
        and access.is_broker_account(instance)
        and instance.memberships.exists()
    ):
        _refuse_broker_membership(instance)


@receiver(m2m_changed, sender=get_user_model().groups.through)
def user_groups_changing(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """Joining a broker group is refused to anyone who holds a membership (either side of the
    relation: ``user.groups.add(group)`` or ``group.user_set.add(user)``)."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # instance is a group, pk_set are users
        if instance.name not in access.BROKER_GROUP_NAMES:
            return
        member = Membership.objects.filter(user_id__in=pk_set).select_related("user").first()
        if member is not None:
            _refuse_broker_membership(member.user)
    elif (
        Group.objects.filter(pk__in=pk_set, name__in=access.BROKER_GROUP_NAMES).exists()
        and instance.memberships.exists()
    ):
        _refuse_broker_membership(instance)
