"""The broker's staff: invite, grant and remove roles, deactivate and hand a portfolio over.

Roles are Django groups, changed only through ``clients.access.set_broker_role``. Separation of
duties holds here as everywhere: an address that belongs to an importer's person is never made
broker staff (``clients.signals`` also refuses it on every save), and two-factor authentication
is asked of every staff account at its first sign-in (``carm_portal.mfa``). Every change is
written to ``StaffEvent``; importers handed over get a history record naming who did it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal.bulk import snapshot_history
from clients import access
from clients.access import BROKER_ROLE_LABELS, BrokerRole
from clients.models import ClientGroup, Importer, Membership, StaffEvent

if TYPE_CHECKING:
    from carm_portal.models import User

Action = StaffEvent.Action


def record(
    *,
    by: User,
    action: str,
    subject: User | None = None,
    group: ClientGroup | None = None,
    detail: str = "",
) -> StaffEvent:
    return StaffEvent.objects.create(
        by=by, action=action, subject=subject, group=group, detail=detail[:300]
    )


@transaction.atomic
def invite_staff(*, email: str, full_name: str, roles: Iterable[BrokerRole], by: User) -> User:
    """A new staff account with ``roles`` and no password yet: the caller sends the link to set
    one. Refused for an address already in use (staff or an importer's person)."""
    email = email.strip().lower()
    users = get_user_model().objects
    if users.filter(email__iexact=email).exists():
        if Membership.objects.filter(user__email__iexact=email).exists():
            raise ValidationError(
                _("This address belongs to an importer's person: broker staff use another.")
            )
        raise ValidationError(_("An account with this address exists already."))
    roles = list(roles)
    if not roles:
        raise ValidationError(_("Choose at least one role."))
    user = users.create_user(email=email, full_name=full_name.strip())
    user.set_unusable_password()
    user.save(update_fields=["password"])
    for role in roles:
        access.set_broker_role(user, role, granted=True)
    record(by=by, action=Action.INVITED, subject=user, detail=_role_names(roles))
    return user


@transaction.atomic
def set_roles(*, user: User, roles: Iterable[BrokerRole], by: User) -> None:
    """Give ``user`` exactly ``roles`` (at least one), recording each grant and removal."""
    wanted = frozenset(roles)
    if not wanted:
        raise ValidationError(_("Choose at least one role; to remove every role, deactivate."))
    if user == by and not access.roles_grant(wanted, access.GlobalPerm.MANAGE_USERS):
        raise ValidationError(_("You cannot remove your own admin role."))
    if Membership.objects.filter(user=user).exists():
        raise ValidationError(_("An importer's person cannot be made broker staff."))
    held = access.staff_roles_of(user)
    for role in sorted(wanted - held):
        access.set_broker_role(user, role, granted=True)
        record(
            by=by, action=Action.ROLE_GRANTED, subject=user, detail=str(BROKER_ROLE_LABELS[role])
        )
    for role in sorted(held - wanted):
        access.set_broker_role(user, role, granted=False)
        record(
            by=by, action=Action.ROLE_REMOVED, subject=user, detail=str(BROKER_ROLE_LABELS[role])
        )


@transaction.atomic
def deactivate(*, user: User, successor: User | None, by: User) -> int:
    """Deactivate ``user`` and hand their importers and client groups to ``successor``, all or
    nothing; returns the number of importers handed over."""
    if user == by:
        raise ValidationError(_("You cannot deactivate yourself."))
    if not user.is_active:
        raise ValidationError(_("This account is already deactivated."))
    importers = Importer.objects.filter(assigned_agent=user)
    groups = list(ClientGroup.objects.filter(agents=user))
    if (importers.exists() or groups) and successor is None:
        raise ValidationError(_("Choose who takes over this person's clients."))
    if successor is not None and (
        successor == user or not access.assignable_agents().filter(pk=successor.pk).exists()
    ):
        raise ValidationError(_("The successor must be another active agent or admin."))
    ids = list(importers.values_list("pk", flat=True))
    if ids:
        now = timezone.now()
        Importer.objects.filter(pk__in=ids).update(assigned_agent=successor, updated_at=now)
        snapshot_history(
            Importer.objects.filter(pk__in=ids),
            history_type="~",
            when=now,
            reason=f"Handed over from {user.email}",
            user_id=by.pk,
        )
    for group in groups:
        group.agents.remove(user)
        if successor is not None:
            group.agents.add(successor)
    user.is_active = False
    user.save(update_fields=["is_active"])
    record(by=by, action=Action.DEACTIVATED, subject=user)
    if successor is not None and (ids or groups):
        record(
            by=by,
            action=Action.HANDED_OVER,
            subject=user,
            detail=_("%(n)d importers and %(g)d client groups to %(to)s")
            % {"n": len(ids), "g": len(groups), "to": successor.email},
        )
    return len(ids)


def _role_names(roles: Iterable[BrokerRole]) -> str:
    return ", ".join(str(BROKER_ROLE_LABELS[r]) for r in roles)
