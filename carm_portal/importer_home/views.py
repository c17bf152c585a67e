"""The importer's people's home page (``/`` for them: ``carm_portal.today.views.home`` routes)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from carm_portal.calendar import cbsa_today
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.importer_home.cards import importer_homes
from services.webinar_seats import home_panel


def importer_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The importer's people's home: onboarding progress, what needs them, statements, reports,
    payments and people, per importer they belong to (``cards.importer_homes`` reads it all), and
    the upcoming webinars they may sign up for."""
    homes = importer_homes(user=request.user, today=cbsa_today())
    importers = [home.importer for home in homes]
    webinars = home_panel(user=request.user, importers=importers) if importers else None
    return render(request, "clients/importer_home.html", {"cards": homes, "webinars": webinars})
