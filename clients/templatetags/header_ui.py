"""The header's tools (search, calendar, notifications): what they need from the database."""

from __future__ import annotations

from django import template

from carm_portal import notifications

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """The signed-in user's unread count (one query per page); 0 when signed out."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return notifications.unread_count(user)
