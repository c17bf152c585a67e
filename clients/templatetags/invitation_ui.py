"""Template helpers of the invitation pages.

``{% invitation_link importer %}`` is the "Invite a contact" link of an importer page, shown only to
those who may invite; ``{% session_invitation as invitation %}`` gives the signup page the
invitation whose link this browser opened (the address is fixed, the importer named).
"""

from __future__ import annotations

from typing import Any

from django import template

from carm_portal.adapters import invitation_in_session
from clients import access
from clients.access import Perm
from clients.models import Importer, Invitation

register = template.Library()


@register.inclusion_tag("clients/invitations/_link.html", takes_context=True)
def invitation_link(context: dict[str, Any], importer: Importer) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "importer": importer,
        "show": user is not None and access.can(user, Perm.INVITE, importer),
    }


@register.simple_tag(takes_context=True)
def session_invitation(context: dict[str, Any]) -> Invitation | None:
    return invitation_in_session(context.get("request"))
