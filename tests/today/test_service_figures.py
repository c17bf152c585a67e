"""The broker's services on Today: counted from known rows, each linking to a list of the same
rows, shown to the roles that may act on them, and at a constant number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carm_portal.today.service_figures import service_figures
from clients.portfolio import Portfolio
from services.models import Booking, Charge, ServiceRequest, Stage
from tests.services.factories import ProspectFactory, WalkthroughSlotFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)  # a Monday; 09:00 Eastern is 14:00 UTC
NOW = dt.datetime(2026, 12, 7, 13, 0, tzinfo=dt.UTC)
HOME = reverse("home")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _booking(importer, agent, starts_at, *, cancelled=False):
    slot = WalkthroughSlotFactory(agent=agent, starts_at=starts_at)
    return Booking.objects.create(
        slot=slot,
        importer=importer,
        contact_email="bam@example.com",
        cancelled_at=NOW if cancelled else None,
    )


def _request(importer, kind, status, assignee):
    return ServiceRequest.objects.create(
        importer=importer, kind=kind, status=status, assignee=assignee
    )


@pytest.fixture
def work(personas):
    agent, other = personas.broker_agent, personas.broker_admin
    a, b = personas.importer_a, personas.importer_b
    ProspectFactory(stage=Stage.NEW)
    ProspectFactory(stage=Stage.NEW)
    ProspectFactory(stage=Stage.NEW, confirmed_at=None)  # not a lead until confirmed
    ProspectFactory(stage=Stage.CONTACTED, next_action_on=TODAY)
    ProspectFactory(stage=Stage.INVITED, next_action_on=TODAY - dt.timedelta(days=3))
    ProspectFactory(stage=Stage.CONTACTED, next_action_on=TODAY + dt.timedelta(days=1))
    ProspectFactory(stage=Stage.LOST, next_action_on=TODAY)  # closed: no action due
    morning = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)  # 10:00 Eastern
    _booking(a, agent, morning)
    _booking(b, other, morning + dt.timedelta(hours=2))
    _booking(a, agent, morning + dt.timedelta(hours=4), cancelled=True)
    _booking(b, agent, dt.datetime(2026, 12, 8, 4, 30, tzinfo=dt.UTC))  # 23:30 Eastern on the 7th
    _booking(b, agent, dt.datetime(2026, 12, 8, 5, 30, tzinfo=dt.UTC))  # 00:30 Eastern, the 8th
    _request(a, "soa_retrieval", "requested", agent)
    _request(b, "bond", "submitted", agent)
    _request(a, "soa_retrieval", "imported", agent)  # done
    _request(a, "help", "open", agent)
    _request(b, "help", "open", other)
    for amount, status in (("150.00", "to_bill"), ("75.50", "to_bill"), ("99.00", "billed")):
        Charge.objects.create(
            importer=a,
            service="soa_retrieval",
            description="SOA",
            amount=Decimal(amount),
            status=status,
        )


def _by_key(figures):
    return {f.key: f for f in figures}


def test_an_agents_service_numbers(personas, work):
    figures = _by_key(
        service_figures(user=personas.broker_agent, portfolio=Portfolio(), today=TODAY)
    )

    assert {k: f.count for k, f in figures.items()} == {
        "new_prospects": 2,
        "prospect_actions_due": 2,
        "walkthroughs_today": 3,
        "service_requests_mine": 2,
        "help_requests_mine": 1,
    }  # no charges: an agent does not bill


def test_mine_counts_only_my_walkthroughs(personas, work):
    mine = Portfolio(kind="mine", agent=personas.broker_agent)
    figures = _by_key(service_figures(user=personas.broker_agent, portfolio=mine, today=TODAY))

    assert figures["walkthroughs_today"].count == 2
    assert figures["walkthroughs_today"].url == ("/services/slots/?day=2026-12-07&agent=me")


def test_finance_sees_the_charges_to_bill_only(personas, work):
    [figure] = service_figures(user=personas.broker_finance, portfolio=Portfolio(), today=TODAY)

    assert (figure.key, figure.count, figure.amount) == ("charges_to_bill", 2, Decimal("225.50"))


def test_each_number_links_to_a_list_of_the_same_rows(personas, client_for, work):
    client = client_for(personas.broker_agent)
    figures = _by_key(
        service_figures(user=personas.broker_agent, portfolio=Portfolio(), today=TODAY)
    )

    new = client.get(figures["new_prospects"].url).context["prospects"]
    due = client.get(figures["prospect_actions_due"].url).context["prospects"]
    slots = client.get(figures["walkthroughs_today"].url).context["rows"]
    requests = client.get(figures["service_requests_mine"].url).context["requests"]
    help_requests = client.get(figures["help_requests_mine"].url).context["requests"]

    assert [p.stage for p in new] == ["new", "new"]
    assert sorted(p.next_action_on for p in due) == [TODAY - dt.timedelta(days=3), TODAY]
    assert len(slots) == 3 and all(booking for _slot, booking in slots)
    assert sorted(r.kind for r in requests) == ["bond", "soa_retrieval"]
    assert [(r.kind, r.assignee) for r in help_requests] == [("help", personas.broker_agent)]
    charges = client_for(personas.broker_finance).get(
        _by_key(service_figures(user=personas.broker_finance, portfolio=Portfolio(), today=TODAY))[
            "charges_to_bill"
        ].url
    )
    assert [c.amount for c in charges.context["charges"]] == [Decimal("75.50"), Decimal("150.00")]


def test_today_shows_the_services_section_with_links(personas, client_for, work):
    html = client_for(personas.broker_agent).get(HOME, {"show": "all"}).content.decode()

    assert 'data-figure="walkthroughs_today"' in html
    assert 'href="/services/requests/?assignee=me&amp;kind=help"' in html


def _more_work(n, personas, first=0):
    for i in range(first, first + n):
        ProspectFactory(stage=Stage.NEW)
        _booking(
            personas.importer_a,
            personas.broker_admin,
            dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
        )
        _request(personas.importer_a, "help", "open", personas.broker_admin)
        Charge.objects.create(
            importer=personas.importer_a,
            service="soa_retrieval",
            description="SOA",
            amount=Decimal("10.00"),
        )


def test_the_services_cost_the_same_queries_for_1_and_50_rows(personas, client_for):
    client = client_for(personas.broker_admin)
    _more_work(1, personas)
    client.get(HOME)
    with CaptureQueriesContext(connection) as one:
        small = client.get(HOME)
    _more_work(49, personas, first=1)
    with CaptureQueriesContext(connection) as fifty:
        large = client.get(HOME)

    counts = [{f.key: f.count for f in r.context["service_figures"]} for r in (small, large)]
    assert (counts[0]["help_requests_mine"], counts[1]["help_requests_mine"]) == (1, 50)
    assert (counts[0]["charges_to_bill"], counts[1]["charges_to_bill"]) == (1, 50)
    assert len(one.captured_queries) == len(fifty.captured_queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("services:slot_list", {"day": "2026-13-45", "agent": "me"}),
        ("services:slot_list", {"day": "x" * 300}),
        ("services:request_list", {"kind": "nonsense", "assignee": "someone"}),
    ],
)
def test_bad_filters_show_the_usual_list(personas, client_for, work, name, params):
    response = client_for(personas.broker_agent).get(reverse(name), params)

    assert response.status_code == 200


def test_the_filtered_lists_stay_closed_to_others(personas, client_for):
    for persona in (personas.broker_finance, personas.bam_a):
        for name, params in (
            ("services:slot_list", {"day": "2026-12-07"}),
            ("services:request_list", {"assignee": "me", "kind": "help"}),
        ):
            assert client_for(persona).get(reverse(name), params).status_code == 403
