"""One importer's services page: its walk-throughs, service requests and (if allowed) charges."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import Perm
from services.models import Booking, Charge, ServiceRequest

LIMIT = 50


@login_required
def importer_services(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk)
    can_charges = access.can(request.user, Perm.VIEW_CHARGES, importer)
    bookings = list(
        Booking.objects.filter(importer=importer)
        .select_related("slot", "slot__agent")
        .order_by("-slot__starts_at")[:LIMIT]
    )
    requests = list(
        ServiceRequest.objects.filter(importer=importer)
        .select_related("assignee", "program_account")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    charges = list(Charge.objects.filter(importer=importer)[:LIMIT]) if can_charges else []
    return render(
        request,
        "services/importer_services.html",
        {
            "importer": importer,
            "bookings": bookings,
            "requests": requests,
            "charges": charges,
            "can_charges": can_charges,
            "can_request": access.can(request.user, Perm.REQUEST_SERVICES, importer),
        },
    )
