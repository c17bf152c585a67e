"""Presentation helpers for delegation pages: the days-left badge, one definition for all pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag
def days_left_badge(days: int | None) -> SafeString:
    """Blank date, expired N days ago, or N days left, coloured by urgency (words, not colour alone)."""
    if days is None:
        return format_html('<span class="badge badge--blocking">{}</span>', _("Blank date"))
    if days < 0:
        text = ngettext("Expired %(n)d day ago", "Expired %(n)d days ago", -days) % {"n": -days}
        return format_html('<span class="badge badge--expired">{}</span>', text)
    text = ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    kind = "blocking" if days <= 7 else "warning" if days <= 30 else "ok"
    return format_html('<span class="badge badge--{}">{}</span>', kind, text)
