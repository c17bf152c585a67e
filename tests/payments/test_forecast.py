"""The security forecast at the next 20 October review: one rule, its snapshot and its page.

Every figure below is worked by hand from CBSA's rule (the highest monthly total of the 12 months
before the day, x 50 % for a bond or x 100 % for cash, at least $5,000), not read back from the code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.checks import run_security_checks
from payments.forecast import refresh_forecasts
from payments.models import PaymentAlert, SecurityForecast, SecurityReview
from payments.rules import (
    ReviewFacts,
    SecurityFacts,
    Standing,
    forecast,
    next_review_on,
    sufficiency,
)
from tests.factories import FinancialSecurityFactory, ImporterFactory, ProgramAccountFactory
from tests.payments.conftest import make_statement

TODAY = dt.date(2027, 3, 10)
REVIEW = dt.date(2027, 10, 20)
D = Decimal


def bond(amount: str, **kwargs) -> SecurityFacts:
    return SecurityFacts(
        id=1,
        program_account_id=1,
        kind="surety_bond",
        amount=D(amount),
        status="active",
        effective_date=dt.date(2026, 1, 1),
        expiry_date=kwargs.get("expiry_date"),
    )


@pytest.mark.parametrize(
    "today, review",
    [
        (dt.date(2027, 3, 10), dt.date(2027, 10, 20)),
        (dt.date(2027, 10, 19), dt.date(2027, 10, 20)),
        (dt.date(2027, 10, 20), dt.date(2028, 10, 20)),  # on the day, that review is in force
        (dt.date(2027, 10, 21), dt.date(2028, 10, 20)),
    ],
)
def test_the_next_review_is_the_coming_20_october(today, review):
    assert next_review_on(today) == review


def test_the_forecast_of_a_30000_peak_against_a_10000_bond():
    # peak 30,000.00 -> 15,000.00 as a bond; 10,000 posted covers 2/3: 5,000.00 more of bond
    ahead = forecast(
        securities=[bond("10000.00")],
        computed={"surety_bond": D("15000.00"), "cash_deposit": D("30000.00")},
        today=TODAY,
    )
    assert (ahead.review_on, ahead.short, ahead.kind) == (REVIEW, True, "surety_bond")
    assert (ahead.posted, ahead.shortfall) == (D("10000.00"), D("5000.00"))


def test_sufficiency_warns_with_that_same_forecast():
    review = ReviewFacts(
        program_account_id=1,
        review_on=dt.date(2026, 10, 20),
        top_up_by=dt.date(2027, 1, 15),
        required={"surety_bond": D("5000.00"), "cash_deposit": D("10000.00")},
    )
    computed = {"surety_bond": D("15000.00"), "cash_deposit": D("30000.00")}
    standing = sufficiency(
        securities=[bond("10000.00")], review=review, computed=computed, today=TODAY
    )
    assert standing.standing == Standing.FORECAST
    assert standing.forecast == forecast(
        securities=[bond("10000.00")], computed=computed, today=TODAY
    )
    assert standing.forecast.shortfall == D("5000.00")


@pytest.mark.django_db
def test_the_snapshot_uses_the_12_months_before_today():
    account = ProgramAccountFactory()
    make_statement(account, dt.date(2026, 9, 25), "90000.00")  # in the 12 months before today
    make_statement(account, dt.date(2026, 2, 25), "200000.00")  # before them: not counted
    FinancialSecurityFactory(program_account=account, amount=D("40000.00"), expiry_date=None)

    assert refresh_forecasts(today=TODAY, account_ids=[account.pk]) == 1

    row = SecurityForecast.objects.get(program_account=account)
    # 90,000.00 -> 45,000.00 as a bond, 90,000.00 as cash; 40,000.00 posted: 5,000.00 short
    assert (row.peak, row.required_bond, row.required_cash) == (
        D("90000.00"),
        D("45000.00"),
        D("90000.00"),
    )
    assert (row.review_on, row.posted, row.short, row.shortfall) == (
        REVIEW,
        D("40000.00"),
        True,
        D("5000.00"),
    )
    assert row.computed_on == TODAY


@pytest.mark.django_db
def test_the_daily_warning_and_the_snapshot_agree():
    account = ProgramAccountFactory(importer=ImporterFactory(status="active"))
    FinancialSecurityFactory(program_account=account, amount=D("6000.00"), expiry_date=None)
    SecurityReview.objects.create(
        program_account=account,
        review_date=dt.date(2026, 10, 20),
        top_up_by=dt.date(2027, 1, 15),
        required_bond=D("5000.00"),
        required_cash=D("10000.00"),
    )
    make_statement(account, dt.date(2027, 1, 25), "16000.00")  # 8,000.00 as a bond

    run_security_checks(today=TODAY)
    run_security_checks(today=TODAY)  # a rerun rewrites the same row

    alert = PaymentAlert.objects.get(kind="security_forecast")
    row = SecurityForecast.objects.get(program_account=account)
    assert alert.amount == row.shortfall == D("2000.00")
    assert alert.deadline == row.review_on == REVIEW
    assert SecurityForecast.objects.count() == 1


@pytest.mark.django_db
def test_a_closed_account_leaves_the_snapshot():
    account = ProgramAccountFactory()
    run_security_checks(today=TODAY)
    assert SecurityForecast.objects.filter(program_account=account).exists()

    account.status = "closed"
    account.save()
    run_security_checks(today=TODAY)

    assert not SecurityForecast.objects.filter(program_account=account).exists()


def _on(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(15), tzinfo=dt.UTC), tick=False)


@pytest.mark.django_db
def test_the_page_lists_the_accounts_that_will_fall_short(personas, client_for):
    short = personas.importer_a.program_accounts.get()
    fine = personas.importer_b.program_accounts.get()
    make_statement(short, dt.date(2027, 1, 25), "40000.00")  # 20,000.00 as a bond
    FinancialSecurityFactory(program_account=short, amount=D("5000.00"))
    FinancialSecurityFactory(program_account=fine, amount=D("5000.00"))
    with _on(TODAY):
        client = client_for(personas.broker_finance)
        # no snapshot yet: the page computes the accounts it lacks
        shortfalls = client.get(reverse("payments:forecast"))
        everything = client.get(reverse("payments:forecast"), {"accounts": "all"})

    assert [(f.program_account, f.shortfall) for f in shortfalls.context["rows"]] == [
        (short, D("15000.00"))
    ]
    assert shortfalls.context["short_total"] == D("15000.00")
    assert shortfalls.context["computed_at"] is not None
    assert "Computed at" in shortfalls.content.decode()
    assert {f.program_account for f in everything.context["rows"]} == {short, fine}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, status",
    [
        ("broker_admin", 200),
        ("broker_finance", 200),
        ("broker_agent", 403),
        ("bam_a", 403),
        ("employee_a", 403),
    ],
)
def test_who_may_open_the_forecast(personas, client_for, persona, status):
    response = client_for(personas.all()[persona]).get(reverse("payments:forecast"))
    assert response.status_code == status


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("payments:forecast"), {"accounts": "all"})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_page_takes_as_many_queries_for_50_importers_as_for_1(personas, client_for):
    with _on(TODAY):
        client = client_for(personas.broker_finance)
        run_security_checks(today=TODAY)
        client.get(reverse("payments:forecast"))  # the session's first request
        one = _page_queries(client)
        rows_before = SecurityForecast.objects.count()
        for n in range(48):
            account = ProgramAccountFactory()
            make_statement(account, dt.date(2027, 1, 25), f"{20000 + n}.00")
        run_security_checks(today=TODAY)
        fifty = _page_queries(client)
        response = client.get(reverse("payments:forecast"), {"accounts": "all"})

    assert rows_before == 2
    assert SecurityForecast.objects.count() == 50
    assert response.context["account_count"] == 50
    assert len(response.context["rows"]) == min(50, response.context["page"].paginator.per_page)
    assert one == fifty


@pytest.mark.django_db
def test_the_daily_check_lists_the_active_accounts_once():
    for _ in range(3):
        ProgramAccountFactory()
    with CaptureQueriesContext(connection) as queries:
        run_security_checks(today=TODAY)
    # once to record the reviews, find the shortfalls and store the forecasts (was twice)
    listing = [
        q["sql"] for q in queries.captured_queries if 'FROM "clients_programaccount"' in q["sql"]
    ]
    assert len(listing) == 1, listing


@pytest.mark.django_db
def test_the_page_says_when_the_snapshot_is_older_than_today(personas, client_for):
    run_security_checks(today=dt.date(2027, 3, 9))
    with _on(TODAY):
        client = client_for(personas.broker_admin)
        stale = client.get(reverse("payments:forecast"), {"accounts": "all"})
        run_security_checks(today=TODAY)
        fresh = client.get(reverse("payments:forecast"), {"accounts": "all"})

    assert "has not run yet" in stale.content.decode()
    assert "has not run yet" not in fresh.content.decode()
