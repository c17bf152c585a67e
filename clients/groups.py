"""The broker's client groups and moving importers between groups and agents in bulk.

A group's agents look after its importers ("my clients", ``clients.access.my_clients_filter``).
Moves are one UPDATE however many importers, each importer getting a history record that names
who moved it; every change is also written to ``StaffEvent``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal.bulk import snapshot_history
from clients.models import ClientGroup, Importer, StaffEvent
from clients.staff import record

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from carm_portal.models import User

KEEP = object()  # a move that leaves the group (or the agent) as it is


@transaction.atomic
def save_group(
    *, group: ClientGroup | None, name: str, agents: Iterable[User], by: User
) -> ClientGroup:
    """Create a group, or rename it and set its agents."""
    name = name.strip()
    clash = ClientGroup.objects.filter(name__iexact=name)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if not name or clash.exists():
        raise ValidationError(_("A client group needs a name no other group has."))
    created = group is None
    if group is None:
        group = ClientGroup.objects.create(name=name)
    old_name = group.name
    group.name = name
    group.save()
    group.agents.set(list(agents))
    names = ", ".join(a.email for a in group.agents.all()) or "—"
    if created:
        record(
            by=by, action=StaffEvent.Action.GROUP_CREATED, group=group, detail=f"{name}: {names}"
        )
    else:
        detail = f"{old_name} → {name}: {names}" if old_name != name else f"{name}: {names}"
        record(by=by, action=StaffEvent.Action.GROUP_CHANGED, group=group, detail=detail)
    return group


@transaction.atomic
def move_importers(
    importers: QuerySet[Importer], *, group: object = KEEP, agent: object = KEEP, by: User
) -> int:
    """Put ``importers`` in ``group`` and/or under ``agent`` (``None`` clears; ``KEEP`` leaves)."""
    changes: dict[str, object] = {}
    if group is not KEEP:
        changes["client_group"] = group
    if agent is not KEEP:
        changes["assigned_agent"] = agent
    if not changes:
        raise ValidationError(_("Choose a group or an agent to move the importers to."))
    ids = list(importers.values_list("pk", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    Importer.objects.filter(pk__in=ids).update(**changes, updated_at=now)
    snapshot_history(
        Importer.objects.filter(pk__in=ids),
        history_type="~",
        when=now,
        reason="Moved in bulk",
        user_id=by.pk,
    )
    where = []
    if "client_group" in changes:
        where.append(str(group) if group is not None else _("no group"))
    if "assigned_agent" in changes:
        where.append(getattr(agent, "email", None) or _("no agent"))
    record(
        by=by,
        action=StaffEvent.Action.IMPORTERS_MOVED,
        group=group if isinstance(group, ClientGroup) else None,
        detail=_("%(n)d importers to %(where)s") % {"n": len(ids), "where": ", ".join(where)},
    )
    return len(ids)
