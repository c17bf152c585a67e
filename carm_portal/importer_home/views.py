"""The importer's people's home page (``/`` for them: ``carm_portal.today.views.home`` routes)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from carm_portal.calendar import cbsa_today
from carm_portal.importer_home.cards import importer_homes


def importer_home(request: HttpRequest) -> HttpResponse:
    """The importer's people's home: onboarding progress, what needs them, statements, reports,
    payments and people, per importer they belong to (``cards.importer_homes`` reads it all)."""
    homes = importer_homes(user=request.user, today=cbsa_today())
    return render(request, "clients/importer_home.html", {"cards": homes})
