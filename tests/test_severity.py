"""carm_portal.severity: one set of severities, most urgent first, in Python and in SQL."""

from __future__ import annotations

import datetime as dt

from carm_portal.severity import Severity, severity_order, severity_rank
from delegation.models import DelegationAlert
from delegation.rules import Severity as DelegationFindingSeverity
from payments.models import PaymentAlert
from payments.rules import Severity as PaymentFindingSeverity

TODAY = dt.date(2026, 11, 2)


def test_every_alert_and_finding_uses_the_one_set_of_severities():
    assert DelegationAlert.Severity is Severity
    assert PaymentAlert.Severity is Severity
    assert DelegationFindingSeverity is Severity
    assert PaymentFindingSeverity is Severity


def test_rank_puts_blocking_first_and_unknown_values_last():
    ranked = sorted(["advice", "unknown", "warning", "blocking"], key=severity_rank)

    assert ranked == ["blocking", "warning", "advice", "unknown"]


def alert(importer, severity: str, n: int) -> DelegationAlert:
    return DelegationAlert.objects.create(
        importer=importer,
        kind="limited",
        severity=severity,
        message=f"Alert {n}",
        key=f"k{n}",
        raised_on=TODAY,
    )


def test_sql_order_matches_the_rank(personas):
    for n, severity in enumerate(["advice", "warning", "blocking"]):
        alert(personas.importer_a, severity, n)

    ordered = DelegationAlert.objects.order_by(severity_order(), "id")

    assert [a.severity for a in ordered] == ["blocking", "warning", "advice"]


def test_delegation_alerts_page_lists_blocking_then_warning_then_advice(personas, client_for):
    """The page ordered by the column (alphabetical: advice first); it uses the shared order."""
    for n, severity in enumerate(["advice", "warning", "blocking"]):
        alert(personas.importer_a, severity, n)

    response = client_for(personas.broker_agent).get("/delegations/alerts/")

    assert response.status_code == 200
    assert [a.severity for a in response.context["alerts"]] == ["blocking", "warning", "advice"]
