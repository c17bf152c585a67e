"""The delegation list's rows (``{% delegation_rows %}``) against the template markup they
replaced: the same bytes, in both languages, for values that need escaping and every optional
part (PMR accounts, no agent, blank or past expiry, no open finding, unlabelled choices)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation

from carm_portal.models import User
from clients.models import Importer
from delegation.models import Delegation
from delegation.rules import kind_label

TODAY = dt.date(2026, 11, 23)

# templates/delegation/delegation_list.html's table body before the rows were written in Python,
# on the view's former data: ``listed_accounts`` (accounts) and ``open_alerts`` (alerts, labelled).
TEMPLATE_ROWS = Template(
    "{% load i18n carm_ui delegation_ui %}"
    '{% translate "BN9" as bn9_label %}{% translate "None" as none_label %}'
    """
      <tbody>
        {% for d in delegations %}
          <tr>
            <td>
              <a class="table__primary" href="{{ d.get_absolute_url }}">{{ d.importer.legal_name }}</a>
              <span class="table__secondary">{{ bn9_label }} <span class="mono">{{ d.importer.bn9 }}</span>{% if d.importer.assigned_agent %} · {{ d.importer.assigned_agent.get_full_name }}{% endif %}</span>
            </td>
            <td><abbr title="{{ d.get_relationship_display }}">{{ d.relationship }}</abbr> · <abbr title="{{ d.get_authority_display }}">{{ d.authority }}</abbr>{% if d.relationship == "PMR" %}<span class="table__secondary">{% for a in d.listed_accounts %}<span class="mono">{{ a.bn15 }}</span>{% if not forloop.last %}, {% endif %}{% endfor %}</span>{% endif %}</td>
            <td>{% badge d.status d.get_status_display %}</td>
            <td>{% if d.expiry_date %}<span class="mono">{{ d.expiry_date|date:"Y-m-d" }}</span><br>{% endif %}{% if d.status == "active" or d.status == "expired" %}{% days_left_badge d.days %}{% endif %}</td>
            <td>{% for alert in d.open_alerts %}{% badge alert.severity alert.label %} {% empty %}<span class="muted">{{ none_label }}</span>{% endfor %}</td>
          </tr>
        {% endfor %}
      </tbody>"""  # the template's own lines
)

PYTHON_ROWS = Template(
    """{% load delegation_rows %}
      <tbody>
        {% delegation_rows delegations %}
      </tbody>"""
)


def delegations() -> list[Delegation]:
    named = User(pk=1, email="a@broker.example", full_name='Zoë <b>"O\'Neil"</b> & co')
    unnamed = User(pk=2, email="x&y@broker.example", full_name="")
    cases = [
        # relationship, authority, status, expiry, agent, accounts, alerts (severity, kind)
        ("BMR", "pBAM", "active", TODAY + dt.timedelta(days=5), named, [], []),
        ("PMR", "pPAM", "active", TODAY + dt.timedelta(days=90), unnamed, ["1<2>RM0001"], []),
        ("PMR", "pBAM", "expired", TODAY - dt.timedelta(days=3), None, ["A&B", "C'D"], []),
        ("PMR", "pPAM", "pending", None, named, [], [("blocking", "blank_expiry")]),
        (
            "BMR",
            "pBAM",
            "active",
            None,
            None,
            [],
            [("blocking", "limited"), ("warning", "expires_within_14"), ("advice", "x<y>")],
        ),
        ("XMR", "odd", "retired", TODAY, unnamed, [], [("bogus", "limited")]),  # no labels
    ]
    rows = []
    for n, (relationship, authority, status, expiry, agent, accounts, alerts) in enumerate(
        cases, start=1
    ):
        importer = Importer(
            pk=n,
            legal_name=f'Acme <script>"{n}"</script> & Fils',
            bn9=f"1234567{n}<",
            status="active",
        )
        importer.assigned_agent = agent
        d = Delegation(
            pk=10 + n,
            importer=importer,
            relationship=relationship,
            authority=authority,
            status=status,
            expiry_date=expiry,
        )
        d.days = d.days_left(TODAY)  # type: ignore[attr-defined]  # as the view sets them
        d.listed_accounts = [SimpleNamespace(bn15=bn15) for bn15 in accounts]  # type: ignore[attr-defined]
        d.listed_bn15 = accounts  # type: ignore[attr-defined]
        d.open_alerts = [  # type: ignore[attr-defined]
            SimpleNamespace(severity=severity, label=kind_label(kind)) for severity, kind in alerts
        ]
        d.alert_badges = [(severity, kind_label(kind)) for severity, kind in alerts]  # type: ignore[attr-defined]
        rows.append(d)
    return rows


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_rows_are_the_templates_rows(language):
    with translation.override(language):
        context = {"delegations": delegations()}
        expected = TEMPLATE_ROWS.render(Context(context))
        assert PYTHON_ROWS.render(Context(context)) == expected
    assert "&lt;script&gt;&quot;1&quot;" in expected and "1&lt;2&gt;RM0001" in expected


def test_no_delegations_no_rows():
    assert PYTHON_ROWS.render(Context({"delegations": []})) == TEMPLATE_ROWS.render(
        Context({"delegations": []})
    )
