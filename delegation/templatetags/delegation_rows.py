"""The rows of the delegation list (``/delegations/``), written in Python rather than by the
template.

Fifty rows a page; through the template each row cost about 230 Python calls (fifteen variable
lookups, three choice labels, the accounts' and alerts' loops, three tags) and the rows were a
quarter of the page's Python. Here a row is one ``format_html`` with the same markup and the same
escaping, and what every row repeats (the words, the choices' names, the language) is looked up
once. ``tests/delegation/test_delegation_rows.py`` renders the template markup this replaced and
compares the two, in both languages, for values that need escaping and every optional part.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from carm_portal.per_language import per_language
from carm_portal.templatetags.formatting import date
from clients.templatetags.carm_ui import badge
from delegation.models import Delegation
from delegation.templatetags.delegation_ui import days_left_badge

register = template.Library()

_NOTHING = mark_safe("")

# The markup of the template this replaced, whitespace included (the page stays byte for byte).
_ROW = (
    "\n"
    "          <tr>\n"
    "            <td>\n"
    '              <a class="table__primary" href="{url}">{legal_name}</a>\n'
    '              <span class="table__secondary">{bn9_label} <span class="mono">{bn9}</span>'
    "{agent}</span>\n"
    "            </td>\n"
    '            <td><abbr title="{relationship_label}">{relationship}</abbr> · '
    '<abbr title="{authority_label}">{authority}</abbr>{accounts}</td>\n'
    "            <td>{status}</td>\n"
    "            <td>{expiry}{days_left}</td>\n"
    "            <td>{alerts}</td>\n"
    "          </tr>\n"
    "        "
)


@per_language
def _words() -> dict[str, Any]:
    """What every row repeats, in the active language (once per language): "BN9" and the
    "None" of a row without findings, already escaped, and the choices' names."""
    return {
        "bn9_label": conditional_escape(_("BN9")),
        "no_alerts": format_html('<span class="muted">{}</span>', _("None")),
        "relationships": {v: str(label) for v, label in Delegation.Relationship.choices},
        "authorities": {v: str(label) for v, label in Delegation.Authority.choices},
        "statuses": {v: str(label) for v, label in Delegation.Status.choices},
    }


@register.simple_tag
def delegation_rows(delegations: Iterable[Delegation]) -> SafeString:
    """``{% delegation_rows delegations %}``: the ``<tr>`` of each delegation (``importer`` and
    its agent selected; ``listed_bn15``, ``alert_badges`` and ``days`` set by the view), each
    followed by the whitespace the template's loop wrote."""
    words = _words()
    return format_html_join("", "{}", ((_row(d, words),) for d in delegations))


def _row(d: Delegation, words: dict[str, Any]) -> SafeString:
    """One delegation's row, every value escaped by ``format_html``."""
    importer = d.importer
    agent = importer.assigned_agent
    alerts = d.alert_badges  # type: ignore[attr-defined]  # (severity, label) pairs, by the view
    return format_html(
        _ROW,
        url=d.get_absolute_url(),
        legal_name=importer.legal_name,
        bn9_label=words["bn9_label"],
        bn9=importer.bn9,
        agent=format_html(" · {}", agent.get_full_name()) if agent else _NOTHING,
        relationship_label=(
            words["relationships"].get(d.relationship) or d.get_relationship_display()
        ),
        relationship=d.relationship,
        authority_label=words["authorities"].get(d.authority) or d.get_authority_display(),
        authority=d.authority,
        accounts=(
            format_html(
                '<span class="table__secondary">{}</span>',
                format_html_join(
                    ", ",
                    '<span class="mono">{}</span>',
                    ((bn15,) for bn15 in d.listed_bn15),  # type: ignore[attr-defined]  # by the view
                ),
            )
            if d.relationship == "PMR"
            else _NOTHING
        ),
        status=badge(d.status, words["statuses"].get(d.status) or d.get_status_display()),
        expiry=(
            format_html('<span class="mono">{}</span><br>', date(d.expiry_date, "Y-m-d"))
            if d.expiry_date
            else _NOTHING
        ),
        days_left=(
            days_left_badge(d.days)  # set by the view
            if d.status in ("active", "expired")
            else _NOTHING
        ),
        alerts=(
            format_html_join("", "{} ", ((badge(*alert),) for alert in alerts))
            if alerts
            else words["no_alerts"]
        ),
    )
