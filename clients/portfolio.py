"""Which part of the portfolio a broker page shows: "mine", one client group, one agent's, or all.

The Today view and every worklist it links to read the same query parameters, so a number on
Today and the list behind it always count the same importers, and either URL can be bookmarked:

- ``mine=1``: the importers assigned to the signed-in user, directly or through a client group;
- ``group=<id>``: the importers of one client group;
- ``agent=<id>``: the importers an agent looks after (directly or through a group);
- none of them: the whole portfolio the user may see (``clients.access`` scopes it first).

The filter works on any queryset through the path to its importer (``importer_field``), and
through a subquery of importer ids, so the many-to-many join from groups to agents never
duplicates a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from clients import access
from clients.models import ClientGroup, Importer

if TYPE_CHECKING:
    from carm_portal.models import User

M = TypeVar("M", bound=Model)

ALL, MINE, GROUP, AGENT = "all", "mine", "group", "agent"


@dataclass(frozen=True)
class Portfolio:
    """One slice of the portfolio; ``params`` rebuilds its query string for the links."""

    kind: str = ALL
    agent: User | None = None
    group: ClientGroup | None = None

    @property
    def params(self) -> dict[str, str]:
        if self.kind == MINE:
            return {"mine": "1"}
        if self.kind == GROUP and self.group is not None:
            return {"group": str(self.group.pk)}
        if self.kind == AGENT and self.agent is not None:
            return {"agent": str(self.agent.pk)}
        return {"show": ALL}

    @property
    def query(self) -> str:
        """``mine=1``, ``group=3``, ``agent=7`` or ``show=all``: to append to a worklist URL."""
        return urlencode(self.params)

    @property
    def label(self) -> str:
        if self.kind == MINE:
            return _("My clients")
        if self.kind == GROUP and self.group is not None:
            return _("Client group %(name)s") % {"name": self.group.name}
        if self.kind == AGENT and self.agent is not None:
            return _("Clients of %(name)s") % {"name": self.agent.get_full_name() or self.agent}
        return _("All clients")

    @property
    def is_all(self) -> bool:
        return self.kind == ALL

    def importers(self) -> QuerySet[Importer] | None:
        """The importers of this slice (``None``: no limit)."""
        if self.kind in (MINE, AGENT) and self.agent is not None:
            return Importer.objects.filter(access.my_clients_filter(self.agent))
        if self.kind == GROUP and self.group is not None:
            return Importer.objects.filter(client_group=self.group)
        return None

    def apply(self, queryset: QuerySet[M], *, importer_field: str = "importer") -> QuerySet[M]:
        """``queryset`` limited to this slice (``importer_field``: the path to the importer,
        ``"pk"`` for importers themselves)."""
        if self.kind == GROUP and self.group is not None:  # a foreign key: a join, no subquery
            path = "client_group" if importer_field == "pk" else f"{importer_field}__client_group"
            return queryset.filter(**{path: self.group})
        if self._importer_ids is None:
            return queryset
        return queryset.filter(**{f"{importer_field}__in": self._importer_ids})

    def q(self, *, importer_field: str = "importer") -> Q:
        """As ``apply``, as a ``Q`` (for conditional aggregates)."""
        if self._importer_ids is None:
            return Q()
        return Q(**{f"{importer_field}__in": self._importer_ids})

    @cached_property
    def _importer_ids(self) -> QuerySet[Importer, Any] | None:
        """The slice's importer ids as a subquery, built once per slice: Today applies the slice
        to a dozen querysets, and building the agent's filter again for each cost more than half
        of each figure's query building. Never evaluated: a filter clones it into its SQL."""
        importers = self.importers()
        return None if importers is None else importers.values("pk")


def portfolio_from(params: Mapping[str, Any], *, user: Any, default: str = ALL) -> Portfolio:
    """The slice named by the query parameters; ``default`` when none is given (or one is
    invalid). Only broker staff have a portfolio: anyone else gets "all" (their own importers,
    which ``clients.access`` has already scoped)."""
    if not access.is_broker(user):
        return Portfolio()
    if params.get("mine") in ("1", "on", "true"):
        return Portfolio(kind=MINE, agent=user)
    group_id = str(params.get("group") or "")
    if group_id.isdigit():
        group = ClientGroup.objects.filter(pk=int(group_id)).first()
        if group is not None:
            return Portfolio(kind=GROUP, group=group)
    agent_id = str(params.get("agent") or "")
    if agent_id.isdigit():
        agent = access.broker_staff(active_only=False).filter(pk=int(agent_id)).first()
        if agent is not None:
            return Portfolio(kind=AGENT, agent=agent)
    if params.get("show") == ALL or default == ALL:
        return Portfolio()
    return Portfolio(kind=MINE, agent=user)


def default_slice(user: Any) -> str:
    """An agent starts the day with their own clients; finance and admins with everything."""
    return (
        MINE
        if access.is_broker_agent(user)
        and not access.can_global(user, access.GlobalPerm.MANAGE_USERS)
        else ALL
    )
