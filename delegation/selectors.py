"""Reading delegations for the list page and the API: one filter for both.

The page's form and the API's FilterSet pass the same names to ``filter_delegations``, so the
same filter returns the same rows on both. Every function takes an already scoped queryset
(``clients.access``); none decides who may see what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from carm_portal.models import User
from carm_portal.severity import severity_order, severity_rank
from clients import access
from clients.models import Importer
from clients.search import importer_search
from delegation.models import Delegation, DelegationAlert, RenewalRequest
from delegation.rules import Kind, kind_label


def family_match(family: str) -> Q:
    """Alerts of a kind family: ``expires_within`` stands for ``expires_within_30``, ``_14``…"""
    if family == Kind.EXPIRES_SOON:
        return Q(kind__startswith=f"{Kind.EXPIRES_SOON}_")
    return Q(kind=family)


def expiring_within(*, today: dt.date, days: int) -> Q:
    """Expiring from today to today + ``days``, both inclusive (already expired ones are not)."""
    return Q(expiry_date__gte=today, expiry_date__lte=today + dt.timedelta(days=days))


def filter_delegations(
    delegations: QuerySet[Delegation],
    *,
    today: dt.date,
    q: str = "",
    status: str = "",
    finding: str = "",
    expiring_within_days: int | None = None,
    agent: User | None = None,
    renewal_open: bool = False,
) -> QuerySet[Delegation]:
    """Delegations matching every filter given (an empty one is no filter).

    ``q``: the importer by name or number (``clients.search``); ``finding``: with an open alert of
    that kind family; ``agent``: of the importers that agent looks after; ``renewal_open``: with
    a renewal the broker asked for and the importer has not confirmed yet.
    """
    if q := q.strip():
        delegations = delegations.filter(importer_search(q, importer="importer__"))
    if status:
        delegations = delegations.filter(status=status)
    if finding:
        alerts = DelegationAlert.objects.filter(
            family_match(finding), delegation=OuterRef("pk"), resolved_at=None
        )
        delegations = delegations.filter(Exists(alerts))
    if expiring_within_days is not None:
        delegations = delegations.filter(expiring_within(today=today, days=expiring_within_days))
    if agent is not None:
        mine = Importer.objects.filter(access.my_clients_filter(agent)).values("pk")
        delegations = delegations.filter(importer__in=mine)
    if renewal_open:
        renewals = RenewalRequest.objects.filter(
            delegation=OuterRef("pk"), status=RenewalRequest.Status.OPEN
        )
        delegations = delegations.filter(Exists(renewals))
    return delegations


def open_alerts_prefetch() -> Prefetch:
    """A delegation's unresolved alerts, most severe first, as ``delegation.open_alerts`` (the
    list page and the API)."""
    return Prefetch(
        "alerts",
        queryset=DelegationAlert.objects.filter(resolved_at=None).order_by(severity_order(), "id"),
        to_attr="open_alerts",
    )


def open_alert_badges(delegation_ids: Collection[int]) -> dict[int, list[tuple[str, str]]]:
    """Each delegation's open alerts as (severity, label), most severe first then by id: what
    ``open_alerts_prefetch`` gives, for a list that only shows them as badges.

    One query of four columns sorted here by ``severity_rank``: the prefetch's model instances,
    related-manager machinery and SQL ``CASE`` ordering were a tenth of the list page's Python.
    """
    badges: dict[int, list[tuple[str, str]]] = {pk: [] for pk in delegation_ids}
    if not badges:
        return badges
    rows = DelegationAlert.objects.filter(delegation__in=list(badges), resolved_at=None)
    for delegation_id, _pk, severity, kind in sorted(
        rows.order_by().values_list("delegation_id", "id", "severity", "kind"),
        key=lambda row: (severity_rank(row[2]), row[1]),
    ):
        badges[delegation_id].append((severity, kind_label(kind)))
    return badges


def listed_bn15(delegation_ids: Collection[int]) -> dict[int, list[str]]:
    """The BN15 of each delegation's listed program accounts, in order (one query of two columns,
    no model instances: the list shows only the numbers)."""
    numbers: dict[int, list[str]] = {pk: [] for pk in delegation_ids}
    if not numbers:
        return numbers
    through = Delegation.program_accounts.through
    for delegation_id, bn15 in (
        through.objects.filter(delegation_id__in=list(numbers))
        .order_by("programaccount__bn15")
        .values_list("delegation_id", "programaccount__bn15")
    ):
        numbers[delegation_id].append(bn15)
    return numbers


def open_alerts_of(
    importer: Importer,
    delegations: list[Delegation],
    *,
    alerts: Iterable[DelegationAlert] | None = None,
) -> list[DelegationAlert]:
    """The open alerts of ``delegations`` set on each as ``open_alerts`` (most severe first),
    and the importer's own open alerts (about no delegation, newest first) returned, each alert
    with its ``label``.

    ``alerts``: the importer's open alerts when the page has read them already (the importer's
    home reads them for its attention card), so no query; else one query for both kinds.
    """
    open_alerts: dict[int, list[DelegationAlert]] = {d.pk: [] for d in delegations}
    if alerts is None:
        alerts = DelegationAlert.objects.filter(
            Q(delegation__in=list(open_alerts)) | Q(importer=importer, delegation=None),
            resolved_at=None,
        )
    importer_alerts = []
    for alert in alerts:
        alert.label = kind_label(alert.kind)
        if alert.delegation_id is None:
            importer_alerts.append(alert)
        elif alert.delegation_id in open_alerts:
            open_alerts[alert.delegation_id].append(alert)
    for d in delegations:
        d.open_alerts = sorted(  # type: ignore[attr-defined]  # for the template
            open_alerts[d.pk], key=lambda a: (severity_rank(a.severity), a.pk)
        )
    # The model's order for the importer's own (all open): newest raised first, then by id.
    importer_alerts.sort(key=lambda a: a.pk)
    importer_alerts.sort(key=lambda a: a.raised_at, reverse=True)
    return importer_alerts


def open_renewals(importer_ids: Collection[int]) -> list[RenewalRequest]:
    """Renewals the broker asked for and the importers have not confirmed yet, oldest first (one
    query): the importer's home lists them as things to do, the delegation panel with its form."""
    return list(
        RenewalRequest.objects.filter(
            delegation__importer_id__in=list(importer_ids), status=RenewalRequest.Status.OPEN
        )
        .select_related("delegation", "requested_by")
        .order_by("requested_at", "id")
    )
