"""The importer side's navigation: where "Onboarding" leads for the signed-in importer user.

A template tag so ``base.html`` asks once per page without a query: the roles it reads are
cached on the user by ``clients.access``.
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from clients import access
from clients.access import Perm

register = template.Library()


@register.simple_tag(takes_context=True)
def onboarding_link(context: template.Context) -> str:
    """Their importer's wizard when they act for exactly one importer and may fill it in; the
    home page (one card and button per importer) when they act for several; "" when they may
    onboard none, so the nav shows no link the page behind would refuse."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or access.is_broker(user):
        return ""
    importer_ids = list(access.member_roles(user))
    if not any(access.can(user, Perm.ONBOARD, pk) for pk in importer_ids):
        return ""
    if len(importer_ids) == 1:
        return reverse("onboarding:wizard", args=[importer_ids[0]])
    return reverse("home")
