"""The filters the Today view links to, on the existing worklists: bookmarkable GET parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Importer, OnboardingStep
from delegation.models import RenewalRequest
from tests.factories import (
    ClientGroupFactory,
    DelegationFactory,
    ImporterFactory,
    ReconciliationItemFactory,
    ReconciliationRunFactory,
    StatementFactory,
)


@pytest.mark.django_db
def test_statements_waiting_for_a_reconciliation(personas, client_for):
    account = personas.importer_a.program_accounts.get()
    waiting = StatementFactory(program_account=account, statement_date=dt.date(2026, 9, 25))
    done = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    ReconciliationRunFactory(statement=done)

    response = client_for(personas.broker_finance).get(
        reverse("statements:list"), {"reconcile": "pending"}
    )

    assert response.context["statements"] == [waiting]


@pytest.mark.django_db
def test_statements_reconciled_since_a_day(personas, client_for):
    account = personas.importer_a.program_accounts.get()
    old = StatementFactory(program_account=account, statement_date=dt.date(2026, 9, 25))
    new = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    ReconciliationRunFactory(statement=old, finished_at=dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC))
    ReconciliationRunFactory(statement=new, finished_at=dt.datetime(2026, 11, 3, 6, tzinfo=dt.UTC))

    response = client_for(personas.broker_finance).get(
        reverse("statements:list"), {"reconciled_since": "2026-11-02"}
    )

    # 2026-11-02 03:00 UTC is still 1 November in Eastern time: CBSA's day
    assert response.context["statements"] == [new]


@pytest.mark.django_db
def test_todays_reconciled_count_is_the_lists(personas, client_for):
    """A statement reconciled twice since yesterday counts once; one whose later run failed
    still counts (its current run is the one that succeeded); an older one does not."""
    from carm_portal.today.figures import today_for
    from clients.portfolio import Portfolio

    account = personas.importer_a.program_accounts.get()
    day = dt.date(2026, 11, 3)
    night = dt.datetime(2026, 11, 3, 6, tzinfo=dt.UTC)
    twice, failed, old = (
        StatementFactory(program_account=account, statement_date=dt.date(2026, m, 25))
        for m in (8, 9, 10)
    )
    ReconciliationRunFactory(statement=twice, is_current=False, finished_at=night)
    ReconciliationRunFactory(statement=twice, finished_at=night + dt.timedelta(hours=1))
    ReconciliationRunFactory(statement=failed, finished_at=night)
    ReconciliationRunFactory(
        statement=failed,
        status="failed",
        is_current=False,
        finished_at=night + dt.timedelta(hours=2),
    )
    ReconciliationRunFactory(statement=old, finished_at=night - dt.timedelta(days=3))

    listed = client_for(personas.broker_finance).get(
        reverse("statements:list"), {"reconciled_since": (day - dt.timedelta(days=1)).isoformat()}
    )
    page = today_for(user=personas.broker_finance, portfolio=Portfolio(), today=day)
    figure = next(f for f in page.finance_figures if f.key == "runs")

    assert sorted(s.pk for s in listed.context["statements"]) == sorted([twice.pk, failed.pk])
    assert figure.count == 2


@pytest.mark.django_db
def test_importers_of_a_group_and_stalled_ones(personas, client_for):
    group = ClientGroupFactory(name="Yukon")
    fresh = ImporterFactory(client_group=group)
    stalled = ImporterFactory(client_group=group)
    long_ago = timezone.now() - dt.timedelta(days=40)
    Importer.objects.filter(pk__in=[stalled.pk, personas.importer_b.pk]).update(created_at=long_ago)
    OnboardingStep.objects.filter(importer=personas.importer_b).update(
        status="done", completed_on=timezone.localdate()
    )
    client = client_for(personas.broker_agent)

    in_group = client.get(reverse("clients:importer_list"), {"group": group.pk})
    stuck = client.get(reverse("clients:importer_list"), {"stalled": 14})

    assert set(in_group.context["importers"]) == {fresh, stalled}
    assert stalled in set(stuck.context["importers"])
    assert fresh not in set(stuck.context["importers"])


@pytest.mark.django_db
def test_delegations_with_a_renewal_waiting(personas, client_for):
    waiting = DelegationFactory(importer=personas.importer_a)
    DelegationFactory(importer=personas.importer_b)
    RenewalRequest.objects.create(delegation=waiting, requested_expiry_date=dt.date(2028, 1, 1))

    response = client_for(personas.broker_agent).get(
        reverse("delegation:list"), {"renewal": "open"}
    )

    assert response.context["delegations"] == [waiting]


@pytest.mark.django_db
def test_mine_limits_the_reconciliation_worklist(personas, client_for):
    mine = ReconciliationItemFactory(
        run=ReconciliationRunFactory(
            statement=StatementFactory(program_account=personas.importer_a.program_accounts.get())
        )
    )
    ReconciliationItemFactory(
        run=ReconciliationRunFactory(
            statement=StatementFactory(program_account=personas.importer_b.program_accounts.get())
        )
    )

    response = client_for(personas.broker_agent).get(reverse("statements:worklist"), {"mine": "1"})

    assert response.context["items"] == [mine]
