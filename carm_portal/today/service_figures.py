"""The broker's services on the staff Today view: prospects to contact, walk-throughs today,
requests assigned to me, charges to bill.

Kept apart from ``figures`` (the portfolio's numbers) because these are not importer-sliced:
prospects have no importer yet, and "assigned to me" is already one person's. Each number is
counted with the very queryset function its worklist lists (``services.pipeline.pipeline``,
``services.walkthroughs.booked_on``, ``services.requests_flow.worklist``, the charge list's
status filter), and links to that list with the same filters, a bookmarkable URL. At most four
queries whatever the number of rows; a figure shows only to the staff whose role may open its
list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from carm_portal.money import ZERO
from carm_portal.today.figures import Figure
from clients import access
from clients.access import GlobalPerm
from clients.portfolio import MINE, Portfolio
from services import requests_flow
from services.models import Charge, RequestKind, Stage
from services.pipeline import Filters, pipeline
from services.walkthroughs import booked_on


def _url(name: str, **params: Any) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def service_figures(*, user: Any, portfolio: Portfolio, today: dt.date) -> list[Figure]:
    """The services' numbers ``user`` may act on; ``portfolio`` "mine" narrows the walk-throughs
    to the user's own slots."""
    mine = portfolio.kind == MINE
    figures: list[Figure] = []
    if access.can_global(user, GlobalPerm.MANAGE_PROSPECTS):
        figures += _prospects(today=today)
    if access.can_global(user, GlobalPerm.DELIVER_SERVICES):
        figures += _delivery(user=user, mine=mine, today=today)
    if access.can_global(user, GlobalPerm.BILL_CHARGES):
        figures.append(_to_bill())
    return figures


def _prospects(*, today: dt.date) -> list[Figure]:
    """Prospects are the whole team's: not narrowed to "mine" (an owner may not be set yet)."""
    return [
        Figure(
            "new_prospects",
            _("New prospects awaiting contact"),
            pipeline(Filters(stage=Stage.NEW)).count(),
            _url("services:prospect_list", stage=Stage.NEW),
        ),
        Figure(
            "prospect_actions_due",
            _("Prospect next actions due"),
            pipeline(Filters(stage="open", due_by=today)).count(),
            _url("services:prospect_list", stage="open", due_by=today.isoformat()),
            severity="warning",
        ),
    ]


def _delivery(*, user: Any, mine: bool, today: dt.date) -> list[Figure]:
    walkthroughs = booked_on(today, agent=user if mine else None).count()
    help_kind = Q(kind=RequestKind.HELP)
    requests = requests_flow.worklist(assignee=user).aggregate(
        services=Count("id", filter=~help_kind), help=Count("id", filter=help_kind)
    )
    day = {"day": today.isoformat(), **({"agent": "me"} if mine else {})}
    return [
        Figure(
            "walkthroughs_today",
            _("My walk-throughs today") if mine else _("Walk-throughs today"),
            walkthroughs,
            _url("services:slot_list", **day),
        ),
        Figure(
            "service_requests_mine",
            _("Service requests assigned to me"),
            requests["services"],
            _url("services:request_list", assignee="me", kind=requests_flow.SERVICES),
        ),
        Figure(
            "help_requests_mine",
            _("Help requests assigned to me"),
            requests["help"],
            _url("services:request_list", assignee="me", kind=RequestKind.HELP),
        ),
    ]


def _to_bill() -> Figure:
    totals = Charge.objects.filter(status=Charge.Status.TO_BILL).aggregate(
        count=Count("id"), amount=Sum("amount")
    )
    return Figure(
        "charges_to_bill",
        _("Service charges to bill"),
        totals["count"],
        _url("services:charge_list", status=Charge.Status.TO_BILL),
        amount=totals["amount"] or ZERO,
    )
