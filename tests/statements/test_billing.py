import datetime as dt

import pytest

from carm_portal.calendar import (
    add_business_days,
    add_weekdays,
    business_days_between,
    cbsa_today,
    is_business_day,
    next_business_day,
    previous_business_day,
)
from statements.billing import (
    BillingPeriod,
    billing_period,
    cad_due_date,
    payment_due_date,
    soa_issue_date,
    statement_period,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (D(2026, 11, 18), D(2026, 11, 18), D(2026, 12, 17)),
        (D(2026, 11, 17), D(2026, 10, 18), D(2026, 11, 17)),
        (D(2026, 12, 31), D(2026, 12, 18), D(2027, 1, 17)),  # across the year end
        (D(2027, 1, 1), D(2026, 12, 18), D(2027, 1, 17)),
        (D(2027, 1, 17), D(2026, 12, 18), D(2027, 1, 17)),
        (D(2028, 2, 29), D(2028, 2, 18), D(2028, 3, 17)),  # leap day
    ],
)
def test_billing_period_contains_the_day(day, start, end):
    period = billing_period(day)
    assert period == BillingPeriod(start, end)
    assert day in period


@pytest.mark.parametrize(
    ("statement_date", "start", "end"),
    [
        (D(2026, 11, 25), D(2026, 10, 18), D(2026, 11, 17)),
        (D(2027, 1, 25), D(2026, 12, 18), D(2027, 1, 17)),
        (D(2026, 11, 10), D(2026, 9, 18), D(2026, 10, 17)),  # before this month's 17th
    ],
)
def test_statement_covers_the_last_period_ended(statement_date, start, end):
    assert statement_period(statement_date) == BillingPeriod(start, end)


def test_soa_is_issued_on_the_25th_of_the_month_the_period_ends():
    assert soa_issue_date(billing_period(D(2026, 12, 20))) == D(2027, 1, 25)


@pytest.mark.parametrize(
    ("period_end", "due"),
    [
        (D(2026, 11, 17), D(2026, 12, 1)),  # Tue 17 Nov + 10 weekdays
        (D(2026, 12, 17), D(2026, 12, 31)),  # Christmas and Boxing Day observed still count
        (D(2027, 1, 17), D(2027, 1, 29)),  # Sunday 17th: Mon 18 is weekday 1
        (D(2026, 6, 17), D(2026, 7, 1)),  # lands on Canada Day: weekdays, not business days
        (D(2028, 2, 17), D(2028, 3, 2)),  # leap year February
    ],
)
def test_payment_due_is_ten_weekdays_after_the_17th_holidays_included(period_end, due):
    assert payment_due_date(billing_period(period_end)) == due
    assert billing_period(period_end).due_date == due


def test_add_weekdays_backwards():
    assert add_weekdays(D(2026, 11, 23), -1) == D(2026, 11, 20)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 7, 1), False),  # Canada Day
        (D(2026, 9, 30), False),  # Truth and Reconciliation (federal government)
        (D(2026, 11, 11), False),  # Remembrance Day (federal government)
        (D(2026, 12, 28), False),  # Boxing Day observed
        (D(2026, 11, 21), False),  # Saturday
        (D(2026, 11, 23), True),
    ],
)
def test_business_days_follow_the_federal_calendar(day, expected):
    assert is_business_day(day) is expected


def test_cad_due_five_business_days_after_release_skipping_holidays():
    assert cad_due_date(D(2026, 6, 26)) == D(2026, 7, 6)  # Fri; skips the weekend and Canada Day
    assert cad_due_date(D(2026, 12, 23)) == D(2027, 1, 4)  # Christmas, Boxing observed, New Year


def test_business_day_neighbours():
    assert previous_business_day(D(2026, 12, 28)) == D(2026, 12, 24)
    assert next_business_day(D(2026, 12, 25)) == D(2026, 12, 29)
    assert previous_business_day(D(2026, 11, 23)) == D(2026, 11, 23)
    assert add_business_days(D(2026, 7, 2), -1) == D(2026, 6, 30)


def test_business_days_between():
    assert business_days_between(D(2026, 12, 24), D(2026, 12, 31)) == 3  # 29, 30, 31
    assert business_days_between(D(2026, 12, 31), D(2026, 12, 24)) == -3


def test_cbsa_today_is_eastern_whatever_the_server_zone():
    late_evening_eastern = dt.datetime(2026, 11, 24, 3, 30, tzinfo=dt.UTC)  # 22:30 on the 23rd
    assert cbsa_today(late_evening_eastern) == D(2026, 11, 23)
