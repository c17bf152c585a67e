"""The one way pages, e-mails and PDFs show money and dates, built into every template.

``{{ amount|money }}`` -> ``$1,234.56`` / ``1 234,56 $`` (``−$1,408.65`` when negative);
``{{ amount|money_whole }}`` rounds to the dollar for chart axes; ``{{ x|coord }}`` writes an SVG
coordinate that no locale touches; ``{{ text|from_english }}`` shows a sentence stored in English
in the page's language (``carm_portal/stored_english.py``). Dates use the project's format modules (``carm_portal/formats``):
``{{ day|date }}`` is ``2026-12-05`` in both languages. ``|date:"Y-m-d"`` on a plain date (150
cells of the list pages) is written by ``isoformat``: the same text at a twentieth of the cost of
Django's format-string interpreter; anything else goes to Django's ``date`` filter.

Registered in ``TEMPLATES["OPTIONS"]["builtins"]``: no template loads it, so no page can pick
another money filter.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.template.defaultfilters import date as django_date

from carm_portal import stored_english
from carm_portal.money import format_money, format_money_whole
from carm_portal.svg import coord as svg_coord

register = template.Library()


@register.filter
def money(value: Decimal | int | str | None) -> str:
    """``{{ amount|money }}``: CAD in the active language, ``—`` for no amount."""
    if value == "":
        return "—"
    try:
        return format_money(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)  # a template filter fails quietly: the raw value rather than a 500


@register.filter
def money_whole(value: Decimal | int | None) -> str:
    """``$23,000`` (``23 000 $`` in French): chart axis labels, rounded to the dollar."""
    return format_money_whole(value)


@register.filter
def from_english(value: str) -> str:
    """Text stored in English (an import's error reasons and outcome) in the page's language."""
    return stored_english.translate(value)


@register.filter
def coord(value: Decimal | int) -> str:
    """An SVG coordinate, with a dot whatever the page's language."""
    return svg_coord(value)


@register.filter(expects_localtime=True, is_safe=False)
def date(value: Any, arg: str | None = None) -> str:
    """Django's ``date`` filter (same flags, same answers), with ISO 8601 days written directly."""
    if arg == "Y-m-d" and type(value) is dt.date:
        return value.isoformat()
    return django_date(value, arg)
