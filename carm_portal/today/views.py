"""The home page ``/``: the Today view for broker staff, the importer home for an importer's
people, "no access yet" for a signed-in user who is neither."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carm_portal.calendar import cbsa_today
from carm_portal.importer_home.views import importer_home
from carm_portal.today.charts import age_chart
from carm_portal.today.figures import today_for
from carm_portal.today.service_figures import service_figures
from carm_portal.worker_health import worker_health
from clients import access
from clients.access import GlobalPerm
from clients.models import ClientGroup
from clients.portfolio import default_slice, portfolio_from


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if access.can_global(user, GlobalPerm.VIEW_PORTFOLIO):
        return today(request)
    if access.member_roles(user):
        return importer_home(request)  # type: ignore[arg-type]  # @login_required: signed in
    return render(request, "clients/no_access.html")


def today(request: HttpRequest) -> HttpResponse:
    """The broker staff's morning: what needs them, per role, for "mine", a group or all."""
    user = request.user
    access.require_global(user, GlobalPerm.VIEW_PORTFOLIO)
    portfolio = portfolio_from(request.GET, user=user, default=default_slice(user))
    page = today_for(user=user, portfolio=portfolio, today=cbsa_today())
    return render(
        request,
        "today/today.html",
        {
            "page": page,
            "portfolio": portfolio,
            "groups": list(ClientGroup.objects.order_by("name")),
            "overdue_chart": age_chart(page.overdue_ages) if page.overdue_ages else None,
            "exception_chart": age_chart(page.exception_ages) if page.exception_ages else None,
            "can_forecast": access.holds_anywhere(user, access.Perm.MANAGE_PAYMENTS),
            "worker_health": worker_health(),  # staff only: the broker staff's home
            "service_figures": service_figures(user=user, portfolio=portfolio, today=cbsa_today()),
        },
    )
