"""The home page ``/``: the broker dashboard for staff, the importer home for an importer's people,
or "no access yet" for a signed-in user who is neither."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carm_portal.calendar import cbsa_today
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.importer_home.cards import importer_homes
from clients import access
from clients.access import GlobalPerm
from clients.views import dashboard
from services.webinar_seats import home_panel


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if access.can_global(user, GlobalPerm.VIEW_PORTFOLIO):
        return dashboard(request)
    if access.member_roles(user):
        return importer_home(request)  # type: ignore[arg-type]  # @login_required: signed in
    return render(request, "clients/no_access.html")


def importer_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The importer's people's home: onboarding progress, what needs them, statements, reports,
    payments and people, per importer they belong to (``cards.importer_homes`` reads it all)."""
    homes = importer_homes(user=request.user, today=cbsa_today())
    importers = [home.importer for home in homes]
    webinars = home_panel(user=request.user, importers=importers) if importers else None
    return render(request, "clients/importer_home.html", {"cards": homes, "webinars": webinars})
