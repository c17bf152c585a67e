"""Late accounting and open corrections flagged on the importer and statement pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tests.factories import BrokerEntryFactory, StatementFactory, StatementLineFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def late_cad(personas):
    account = personas.importer_a.program_accounts.get()
    BrokerEntryFactory(
        program_account=account,
        transaction_number="12345000000050",
        release_date=dt.date(2026, 10, 1),
        accounted_on=dt.date(2026, 10, 15),  # due 8 October
    )
    BrokerEntryFactory(
        program_account=account,
        transaction_number="12345000000051",
        release_date=dt.date(2026, 10, 1),
        accounted_on=dt.date(2026, 10, 8),
    )
    statement = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    StatementLineFactory(statement=statement, transaction_number="12345000000050")
    StatementLineFactory(statement=statement, transaction_number="12345000000051")
    return statement


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("persona", "shown"), [("finance_a", True), ("employee_a", False)])
def test_the_importer_page_shows_late_accounting_to_finance_only(
    personas, client_for, late_cad, persona, shown
):
    response = client_for(personas.all()[persona]).get(personas.importer_a.get_absolute_url())

    assert response.status_code == 200
    assert (
        b"1 of 2 CADs accounted in the last 90 days was accounted late." in response.content
    ) is shown


@time_machine.travel(NOW, tick=False)
def test_the_statement_page_flags_the_late_cad_line(personas, client_for, late_cad):
    response = client_for(personas.broker_finance).get(
        reverse("statements:detail", args=[late_cad.pk])
    )

    content = response.content.decode()
    assert (
        "1 CAD on this statement was accounted more than 5 business days after release." in content
    )
    assert content.count("Accounted late") == 1
    row = content[content.index("12345000000050") : content.index("12345000000051")]
    assert "Accounted late" in row
