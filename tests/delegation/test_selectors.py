"""delegation.selectors.filter_delegations: the list page and the API filter with one selector."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Prefetch, prefetch_related_objects

from delegation.checks import run_delegation_checks
from delegation.models import Delegation, DelegationAlert
from delegation.rules import kind_label
from delegation.selectors import (
    listed_bn15,
    open_alert_badges,
    open_alerts_of,
    open_alerts_prefetch,
)
from tests.factories import DelegationFactory, ImporterFactory, ProgramAccountFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def delegations(personas):
    def on(importer, days, **kwargs):
        expiry = None if days is None else TODAY + dt.timedelta(days=days)
        return DelegationFactory(importer=importer, expiry_date=expiry, **kwargs)

    other = ImporterFactory(legal_name="Charlie Foods Corp.", status="active")
    made = [
        on(personas.importer_a, 0),
        on(personas.importer_a, 7),
        on(personas.importer_a, 8),
        on(personas.importer_b, 30),
        on(personas.importer_b, None),
        on(personas.importer_b, None, status="pending"),
        on(other, 200),
    ]
    run_delegation_checks(today=TODAY)
    return made


FILTERS = [
    {"status": "pending"},
    {"status": "active"},
    {"finding": "blank_expiry"},
    {"finding": "expires_within"},
    {"finding": "pending_too_long"},
    {"expiring_within": "0"},
    {"expiring_within": "7"},
    {"expiring_within": "30"},
    {"finding": "expires_within", "expiring_within": "7"},
]


@pytest.mark.parametrize("query", FILTERS, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_the_page_and_the_api_return_the_same_rows(personas, client_for, delegations, query):
    client = client_for(personas.broker_admin)

    page = client.get("/delegations/", query)
    api = client.get("/api/v1/delegations/", query)

    assert (page.status_code, api.status_code) == (200, 200)
    assert api.json()["count"] <= 50  # one page of each holds every row
    page_ids = sorted(d.pk for d in page.context["delegations"])
    api_ids = sorted(row["id"] for row in api.json()["results"])
    assert page_ids == api_ids


def test_expiring_within_counts_from_today_to_today_plus_n(personas, client_for, delegations):
    client = client_for(personas.broker_admin)

    rows = client.get("/api/v1/delegations/", {"expiring_within": "7"}).json()["results"]

    assert sorted(row["id"] for row in rows) == sorted(d.pk for d in delegations[:2])


# --- open_alerts_of: the importer panel's alerts ------------------------------------------------


def open_alert(importer, *, delegation=None, severity="warning", key, raised_at=None, **kwargs):
    alert = DelegationAlert.objects.create(
        importer=importer,
        delegation=delegation,
        kind="limited",
        severity=severity,
        message=f"Alert {key}",
        key=key,
        raised_on=TODAY,
        **kwargs,
    )
    if raised_at is not None:  # auto_now_add: set afterwards
        DelegationAlert.objects.filter(pk=alert.pk).update(raised_at=raised_at)
    return alert


def test_open_alerts_of_reads_both_kinds_in_one_query_in_the_panels_orders(
    personas, django_assert_num_queries
):
    importer = personas.importer_a
    first, second = DelegationFactory(importer=importer), DelegationFactory(importer=importer)
    advice = open_alert(importer, delegation=first, severity="advice", key="a")
    blocking = open_alert(importer, delegation=first, severity="blocking", key="b")
    open_alert(importer, delegation=first, key="resolved", resolved_at=dt.datetime.now(tz=dt.UTC))
    on_second = open_alert(importer, delegation=second, key="c")
    noon = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    older = open_alert(importer, key="d", raised_at=noon - dt.timedelta(days=1))
    newer = open_alert(importer, key="e", raised_at=noon)
    same_time = open_alert(importer, key="f", raised_at=noon)
    open_alert(personas.importer_b, key="g")  # another importer's
    delegations = list(Delegation.objects.filter(importer=importer).order_by("pk"))

    with django_assert_num_queries(1):
        importer_alerts = open_alerts_of(importer, delegations)

    assert [a.open_alerts for a in delegations] == [[blocking, advice], [on_second]]
    assert importer_alerts == [newer, same_time, older]  # the model's order: newest, then id
    assert {a.label for a in importer_alerts} == {kind_label("limited")}


def test_open_alerts_of_an_importer_without_delegations(personas):
    alert = open_alert(personas.importer_a, key="none")

    assert open_alerts_of(personas.importer_a, []) == [alert]


def test_open_alerts_of_sorts_the_alerts_a_page_already_read_without_a_query(
    personas, django_assert_num_queries
):
    importer = personas.importer_a
    delegation = DelegationFactory(importer=importer)
    advice = open_alert(importer, delegation=delegation, severity="advice", key="a")
    blocking = open_alert(importer, delegation=delegation, severity="blocking", key="b")
    own = open_alert(importer, key="c")
    read = list(DelegationAlert.objects.filter(importer=importer).order_by("raised_on", "id"))
    delegations = [delegation]

    with django_assert_num_queries(0):
        importer_alerts = open_alerts_of(importer, delegations, alerts=read)

    assert delegations[0].open_alerts == [blocking, advice]
    assert importer_alerts == [own]


# --- open_alert_badges, listed_bn15: the list page's rows -----------------------------------------


def test_open_alert_badges_are_the_prefetched_alerts_in_their_order(
    personas, django_assert_num_queries
):
    importer = personas.importer_a
    first, second, quiet = (DelegationFactory(importer=importer) for _ in range(3))
    open_alert(importer, delegation=first, severity="advice", key="a")
    open_alert(importer, delegation=first, severity="blocking", key="b")
    expiring = open_alert(importer, delegation=first, severity="warning", key="c")
    DelegationAlert.objects.filter(pk=expiring.pk).update(kind="expires_within_14")
    open_alert(importer, delegation=first, severity="advice", key="d")
    open_alert(importer, delegation=first, key="e", resolved_at=dt.datetime.now(tz=dt.UTC))
    open_alert(importer, delegation=second, severity="bogus", key="f")  # sorts last
    open_alert(importer, delegation=second, severity="advice", key="g")
    open_alert(importer, key="h")  # the importer's own: on no row
    delegations = [first, second, quiet]
    prefetch_related_objects(delegations, open_alerts_prefetch())
    ids = [d.pk for d in delegations]

    with django_assert_num_queries(1):
        badges = open_alert_badges(ids)

    expected = {
        d.pk: [(a.severity, kind_label(a.kind)) for a in d.open_alerts] for d in delegations
    }
    assert badges == expected
    assert [severity for severity, _ in badges[first.pk]] == [
        "blocking",
        "warning",
        "advice",
        "advice",
    ]
    assert badges[quiet.pk] == []
    with django_assert_num_queries(0):
        assert open_alert_badges([]) == {}


def test_listed_bn15_are_the_prefetched_accounts_in_their_order(
    personas, django_assert_num_queries
):
    importer = personas.importer_a
    accounts = [ProgramAccountFactory(importer=importer) for _ in range(3)]
    pmr = DelegationFactory(importer=importer, relationship="PMR")
    pmr.program_accounts.set([accounts[2], accounts[0]])
    other = DelegationFactory(importer=importer, relationship="PMR")
    other.program_accounts.set([accounts[1]])
    bmr = DelegationFactory(importer=importer)
    delegations = [pmr, other, bmr]
    prefetch_related_objects(delegations, Prefetch("program_accounts", to_attr="listed"))

    with django_assert_num_queries(1):
        numbers = listed_bn15([d.pk for d in delegations])

    assert numbers == {d.pk: [a.bn15 for a in d.listed] for d in delegations}
    assert numbers[pmr.pk] == sorted([accounts[2].bn15, accounts[0].bn15])
    with django_assert_num_queries(0):
        assert listed_bn15([]) == {}
