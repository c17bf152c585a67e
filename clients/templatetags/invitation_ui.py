"""Template helpers of the invitation pages.

``{% invitation_link importer %}`` is the "Invite a contact" link of an importer page, shown only to
those who may invite; ``{% session_invitation as invitation %}`` gives the signup page the
invitation whose link this browser opened (the address is fixed, the importer named);
``{% login_invitation form as invitation %}`` gives the login page that same invitation and fills
in its address when the form is fresh.

Both read the session key the accept link sets, not the ``next`` URL: the session survives a
mistyped password, a password reset and allauth's verification detour, none of which keep ``next``,
and it is what sign-in itself uses to accept (``AccountAdapter.pre_login``).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth import get_user_model

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


@register.simple_tag(takes_context=True)
def login_invitation(context: dict[str, Any], form: Any = None) -> Invitation | None:
    """The waiting invitation for the login page, with ``has_account``: whether its address has a
    login yet (if not, the page sends them to sign-up). An unbound login form gets the address."""
    invitation = invitation_in_session(context.get("request"))
    if invitation is None:
        return None
    invitation.has_account = (
        get_user_model().objects.filter(email__iexact=invitation.email).exists()
    )
    fields = getattr(form, "fields", {})
    if invitation.has_account and "login" in fields and not form.is_bound:
        form.initial.setdefault("login", invitation.email)
    return invitation
