"""GET /calendar/ (the month of deadlines) and the secret ICS feed it links."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from carm_portal.deadlines.feed import ensure_feed
from carm_portal.notification_models import CalendarFeed
from tests.factories import (
    DelegationFactory,
    FinancialSecurityFactory,
    ImporterFactory,
    ProgramAccountFactory,
    StatementFactory,
)
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db
EASTERN = ZoneInfo("America/Toronto")
NOW = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)  # Monday 2 March 2026; DST starts Sunday 8 March


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def due(account, day, amount=812):
    return StatementFactory(
        program_account=account,
        statement_date=day - dt.timedelta(days=15),
        due_date=day,
        closing_balance=amount,
    )


@pytest.fixture
def deadlines(personas):
    a = personas.importer_a.program_accounts.get()
    b = personas.importer_b.program_accounts.get()
    return {
        "before_dst": due(a, dt.date(2026, 3, 6)),
        "after_dst": due(a, dt.date(2026, 3, 16)),
        "paid": StatementFactory(
            program_account=a,
            statement_date=dt.date(2026, 3, 10),
            due_date=dt.date(2026, 3, 20),
            closing_balance=10,
            status="paid",
        ),
        "other": due(b, dt.date(2026, 3, 17)),
        "delegation": DelegationFactory(
            importer=personas.importer_a, expiry_date=dt.date(2026, 3, 27)
        ),
        "bond": FinancialSecurityFactory(program_account=a, expiry_date=dt.date(2026, 4, 30)),
    }


def feed_events(client, user):
    response = client.get(reverse("deadlines:feed", args=[ensure_feed(user).token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}, calendar


def test_payment_cutoffs_are_eastern_on_both_sides_of_the_dst_change(personas, client, deadlines):
    events, calendar = feed_events(client, personas.bam_a)

    before = events[f"statement-{deadlines['before_dst'].pk}-due"]
    after = events[f"statement-{deadlines['after_dst'].pk}-due"]
    for event, day in ((before, 6), (after, 16)):
        start = event.decoded("dtstart")
        assert start == dt.datetime(2026, 3, day, 16, 0, tzinfo=EASTERN)
        assert str(start.tzinfo) == "America/Toronto"
        assert event.decoded("dtend").astimezone(EASTERN).time() == dt.time(23, 59)
    assert before.decoded("dtstart").astimezone(dt.UTC).hour == 21  # EST, UTC-5
    assert after.decoded("dtstart").astimezone(dt.UTC).hour == 20  # EDT, UTC-4
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["America/Toronto"]
    assert "TZID=America/Toronto" in calendar.to_ical().decode()


def test_the_feed_holds_expiries_and_annual_dates_but_no_paid_statement(
    personas, client, deadlines
):
    events, _ = feed_events(client, personas.bam_a)

    delegation = events[f"delegation-{deadlines['delegation'].pk}-expiry-20260327"]
    assert delegation.decoded("dtstart") == dt.date(2026, 3, 27)  # all day: it works through D
    assert f"security-{deadlines['bond'].pk}-expiry-20260430" in events
    assert {"security-review-2026", "security-top-up-2027"} <= set(events)
    assert f"statement-{deadlines['paid'].pk}-due" not in events
    assert f"statement-{deadlines['other'].pk}-due" not in events  # importer B's


def test_an_employee_sees_delegations_but_no_finance_dates(personas, client, deadlines):
    events, _ = feed_events(client, personas.employee_a)
    assert set(events) == {f"delegation-{deadlines['delegation'].pk}-expiry-20260327"}


def test_another_importers_bam_sees_only_their_own(personas, client, deadlines):
    events, _ = feed_events(client, personas.bam_b)
    assert f"statement-{deadlines['other'].pk}-due" in events
    assert not [
        uid
        for uid in events
        if uid.startswith(("delegation", "security-" + str(deadlines["bond"].pk)))
    ]
    assert f"statement-{deadlines['before_dst'].pk}-due" not in events


def test_titles_follow_the_owners_language(personas, client, deadlines):
    personas.bam_a.language = "fr"
    personas.bam_a.save()
    events, _ = feed_events(client, personas.bam_a)
    assert str(events[f"statement-{deadlines['before_dst'].pk}-due"]["summary"]).startswith(
        "Paiement dû"
    )


def test_a_revoked_or_replaced_address_is_a_404(personas, client_for, client):
    old = ensure_feed(personas.bam_a).token
    signed_in = client_for(personas.bam_a)
    signed_in.post(reverse("deadlines:regenerate_feed"))
    new = CalendarFeed.objects.get(user=personas.bam_a).token

    assert new != old
    assert client.get(reverse("deadlines:feed", args=[old])).status_code == 404
    assert client.get(reverse("deadlines:feed", args=[new])).status_code == 200

    signed_in.post(reverse("deadlines:revoke_feed"))
    assert client.get(reverse("deadlines:feed", args=[new])).status_code == 404
    assert client.get(reverse("deadlines:feed", args=["made-up"])).status_code == 404


def test_an_inactive_owners_feed_is_a_404(personas, client):
    token = ensure_feed(personas.bam_a).token
    personas.bam_a.is_active = False
    personas.bam_a.save()
    assert client.get(reverse("deadlines:feed", args=[token])).status_code == 404


TABLE = [
    ("deadlines:month", "get", (200,) * 7),
    ("deadlines:regenerate_feed", "post", (302,) * 7),
    ("deadlines:revoke_feed", "post", (302,) * 7),
]


@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_access(personas, client_for, name, method, persona, expected):
    response = getattr(client_for(personas.all()[persona]), method)(reverse(name))
    assert response.status_code == expected


def test_the_month_marks_today_and_links_the_months_around(personas, client_for, deadlines):
    html = client_for(personas.bam_a).get(reverse("deadlines:month")).content.decode()
    assert 'aria-current="date"' in html and 'datetime="2026-03-02"' in html
    assert 'href="?month=2026-02"' in html and 'href="?month=2026-04"' in html
    assert "Payment due: Alpha Imports Inc." in html
    assert "Bravo Trading" not in html


def test_another_month_by_query_and_a_bad_one_falls_back(personas, client_for, deadlines):
    client = client_for(personas.bam_a)
    april = client.get(reverse("deadlines:month"), {"month": "2026-04"})
    assert april.context["first"] == dt.date(2026, 4, 1)
    assert "Surety bond expires" in april.content.decode()
    assert client.get(reverse("deadlines:month"), {"month": "2026-13"}).context["first"] == dt.date(
        2026, 3, 1
    )


def test_the_page_shows_the_feed_address_once_created(personas, client_for):
    client = client_for(personas.bam_a)
    assert "Create my calendar address" in client.get(reverse("deadlines:month")).content.decode()
    client.post(reverse("deadlines:regenerate_feed"))
    token = CalendarFeed.objects.get(user=personas.bam_a).token
    assert f"/calendar/feed/{token}.ics" in client.get(reverse("deadlines:month")).content.decode()


def _populate(count):
    for n in range(count):
        account = ProgramAccountFactory(importer=ImporterFactory())
        due(account, dt.date(2026, 3, 9 + n % 15))
        DelegationFactory(importer=account.importer, expiry_date=dt.date(2026, 3, 10 + n % 15))
        FinancialSecurityFactory(program_account=account, expiry_date=dt.date(2026, 3, 11 + n % 15))


@pytest.mark.parametrize("page", ["month", "feed"])
def test_constant_queries_between_1_and_50_importers(personas, client_for, page):
    client = client_for(personas.broker_admin)
    url = (
        reverse("deadlines:month")
        if page == "month"
        else reverse("deadlines:feed", args=[ensure_feed(personas.broker_admin).token])
    )
    counts = []
    for count in (1, 49):
        _populate(count)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
