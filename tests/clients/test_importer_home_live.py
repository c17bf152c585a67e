"""The importer home's "Needs your attention" is computed from today's data, not only from what
the nightly checks stored: nothing here runs a check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from clients.models import Importer
from delegation.models import DelegationAlert
from payments.balances import refresh_balances
from payments.models import PaymentAlert
from tests.factories import DelegationFactory, StatementFactory
from tests.payments.conftest import make_statement

HOME = reverse("home")
NOW = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def attention_of(client, user) -> str:
    client.force_login(user)
    html = client.get(HOME).content.decode()
    return html.split('id="attention-title-')[1].split("</section>")[0]


@pytest.mark.django_db
def test_an_overdue_statement_appears_without_the_nightly_check(personas, client):
    account = personas.importer_a.program_accounts.get()
    statement = make_statement(
        account, dt.date(2026, 10, 24), "2203.83", due_date=dt.date(2026, 11, 30)
    )
    refresh_balances(statement_ids=[statement.pk])  # as an import does; no check has run

    section = attention_of(client, personas.finance_a)

    assert PaymentAlert.objects.count() == 0
    assert "Payment overdue" in section
    assert "$2,203.83" in section
    assert reverse("statements:detail", args=[statement.pk]) in section


@pytest.mark.django_db
def test_a_paid_statement_needs_nothing(personas, client):
    account = personas.importer_a.program_accounts.get()
    statement = StatementFactory(
        program_account=account,
        statement_date=dt.date(2026, 10, 24),
        due_date=dt.date(2026, 11, 30),
        closing_balance=Decimal("0.00"),
    )
    refresh_balances(statement_ids=[statement.pk])

    assert "Payment overdue" not in attention_of(client, personas.finance_a)


@pytest.mark.django_db
def test_a_blank_delegation_expiry_appears_without_the_nightly_check(personas, client):
    DelegationFactory(importer=personas.importer_a, expiry_date=None)

    section = attention_of(client, personas.employee_a)

    assert DelegationAlert.objects.count() == 0
    assert "Blank expiry date" in section


@pytest.mark.django_db
def test_a_lapsing_delegation_appears_once_when_the_check_stored_it_too(personas, client):
    from delegation.checks import run_delegation_checks

    DelegationFactory(importer=personas.importer_a, expiry_date=dt.date(2026, 12, 15))
    run_delegation_checks(today=dt.date(2026, 12, 7))

    section = attention_of(client, personas.bam_a)

    assert DelegationAlert.objects.filter(resolved_at=None).count() == 1
    assert section.count('class="finding ') == 1


@pytest.mark.django_db
def test_a_security_shortfall_appears_without_the_nightly_check(personas, client):
    Importer.objects.filter(pk=personas.importer_a.pk).update(status=Importer.Status.ACTIVE)

    section = attention_of(client, personas.bam_a)

    assert PaymentAlert.objects.count() == 0
    assert "No security in force" in section
    assert "Payment overdue" not in attention_of(client, personas.bam_b)
