"""The security forecast at the next 20 October review, and its page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from payments.forecast import next_review, security_forecast
from payments.security import required_security
from tests.factories import FinancialSecurityFactory, ProgramAccountFactory
from tests.payments.conftest import make_statement

TODAY = dt.date(2027, 3, 10)
REVIEW = dt.date(2027, 10, 20)


@pytest.mark.parametrize(
    "today, review",
    [
        (dt.date(2027, 3, 10), dt.date(2027, 10, 20)),
        (dt.date(2027, 10, 20), dt.date(2027, 10, 20)),
        (dt.date(2027, 10, 21), dt.date(2028, 10, 20)),
    ],
)
def test_the_next_review_is_the_coming_20_october(today, review):
    assert next_review(today) == review


@pytest.mark.django_db
def test_the_forecast_is_required_security_on_the_review_date():
    account = ProgramAccountFactory()
    make_statement(account, dt.date(2026, 11, 25), "30000.00")  # in the window before the review
    make_statement(account, dt.date(2026, 9, 25), "90000.00")  # before it: not counted

    [forecast] = security_forecast([account], today=TODAY)

    assert forecast.review_on == REVIEW
    assert forecast.peak == Decimal("30000.00")
    for kind in ("surety_bond", "cash_deposit"):
        assert forecast.required[kind] == required_security(
            program_account=account, kind=kind, on_date=REVIEW
        )
    assert forecast.required["surety_bond"] == Decimal("15000.00")


@pytest.mark.django_db
def test_a_bond_that_ends_before_the_review_does_not_count():
    covered, lapsing = ProgramAccountFactory(), ProgramAccountFactory()
    for account in (covered, lapsing):
        make_statement(account, dt.date(2027, 1, 25), "20000.00")  # needs a 10,000.00 bond
    FinancialSecurityFactory(program_account=covered, amount=Decimal("10000.00"))
    FinancialSecurityFactory(
        program_account=lapsing, amount=Decimal("10000.00"), expiry_date=dt.date(2027, 6, 30)
    )

    forecasts = {f.account: f for f in security_forecast([covered, lapsing], today=TODAY)}

    assert (forecasts[covered].short, forecasts[covered].shortfall) == (False, Decimal("0.00"))
    assert (forecasts[lapsing].short, forecasts[lapsing].shortfall) == (
        True,
        Decimal("10000.00"),
    )


@pytest.mark.django_db
def test_the_page_lists_the_accounts_that_will_fall_short(personas, client_for):
    short = personas.importer_a.program_accounts.get()
    fine = personas.importer_b.program_accounts.get()
    make_statement(short, dt.date(2027, 1, 25), "40000.00")
    FinancialSecurityFactory(program_account=short, amount=Decimal("5000.00"))
    FinancialSecurityFactory(program_account=fine, amount=Decimal("5000.00"))
    with time_machine.travel(dt.datetime(2027, 3, 10, 15, tzinfo=dt.UTC), tick=False):
        client = client_for(personas.broker_finance)  # signed in on that day: a fresh session
        shortfalls = client.get(reverse("payments:forecast"))
        everything = client.get(reverse("payments:forecast"), {"accounts": "all"})

    assert [(f.account, f.shortfall) for f in shortfalls.context["rows"]] == [
        (short, Decimal("15000.00"))
    ]
    assert shortfalls.context["short_total"] == Decimal("15000.00")
    assert {f.account for f in everything.context["rows"]} == {short, fine}
