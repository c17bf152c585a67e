"""The services panel on an importer's page: its walk-throughs (with the agent's notes and what
was done) and a link to its services page."""

from __future__ import annotations

from typing import Any

from django import template

from clients import access
from clients.access import Perm
from services.models import Booking

register = template.Library()


@register.inclusion_tag("services/_importer_panel.html", takes_context=True)
def services_panel(context: dict[str, Any], importer: Any) -> dict[str, Any]:
    user = context["request"].user
    bookings = list(
        Booking.objects.filter(importer=importer)
        .select_related("slot", "slot__agent")
        .order_by("-slot__starts_at")[:5]
    )
    return {
        "importer": importer,
        "bookings": bookings,
        "can_request": access.can(user, Perm.REQUEST_SERVICES, importer),
    }
