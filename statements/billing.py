"""CBSA's billing calendar: billing periods, statement dates, due dates and business days.

Two different day counts, on purpose (see shared/domain.md):

* the SOA **payment due date** is 10 *weekdays* after the 17th, holidays included — CBSA counts
  weekdays there, so a holiday inside the window does not push the date;
* everything else that speaks of "business days" (a CAD is due 5 business days after release,
  reminders, "processed in N business days") uses the federal government calendar of the
  ``holidays`` package, with observed dates (Boxing Day on a Saturday is observed on Monday).

All dates here are Eastern business dates (``America/Toronto``); callers convert instants with
``cbsa_today()`` rather than ``date.today()``, which is the server's calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone

PERIOD_START_DAY = 18
PERIOD_END_DAY = 17
SOA_ISSUE_DAY = 25
DUE_WEEKDAYS_AFTER_PERIOD_END = 10
CAD_DUE_BUSINESS_DAYS = 5


@dataclass(frozen=True, order=True)
class BillingPeriod:
    """The 18th of one month to the 17th of the next, both days included."""

    start: dt.date
    end: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    @property
    def statement_date(self) -> dt.date:
        return soa_issue_date(self)

    @property
    def due_date(self) -> dt.date:
        return payment_due_date(self)


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def cbsa_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Eastern time, whatever the server's time zone."""
    now = now or timezone.now()
    return now.astimezone(ZoneInfo(settings.CBSA_TIME_ZONE)).date()


def billing_period(day: dt.date) -> BillingPeriod:
    """The billing period that contains ``day``."""
    if day.day >= PERIOD_START_DAY:
        start = day.replace(day=PERIOD_START_DAY)
        year, month = _shift_month(day.year, day.month, 1)
    else:
        year, month = _shift_month(day.year, day.month, -1)
        start = dt.date(year, month, PERIOD_START_DAY)
        year, month = day.year, day.month
    return BillingPeriod(start=start, end=dt.date(year, month, PERIOD_END_DAY))


def statement_period(statement_date: dt.date) -> BillingPeriod:
    """The period an SOA issued on ``statement_date`` covers: the last one ended by that date.

    An SOA issued on 25 November covers 18 October – 17 November.
    """
    if statement_date.day > PERIOD_END_DAY:
        end = statement_date.replace(day=PERIOD_END_DAY)
    else:
        year, month = _shift_month(statement_date.year, statement_date.month, -1)
        end = dt.date(year, month, PERIOD_END_DAY)
    return billing_period(end)


def soa_issue_date(period: BillingPeriod) -> dt.date:
    """CBSA issues the statement on the 25th of the month the period ends in."""
    return period.end.replace(day=SOA_ISSUE_DAY)


def add_weekdays(day: dt.date, count: int) -> dt.date:
    """``count`` weekdays (Monday–Friday) after ``day``; holidays count as weekdays."""
    result = day
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        result += dt.timedelta(days=step)
        if result.weekday() < 5:
            remaining -= 1
    return result


def payment_due_date(period: BillingPeriod) -> dt.date:
    """10 weekdays after the period's 17th, holidays included (CBSA's rule for the SOA)."""
    return add_weekdays(period.end, DUE_WEEKDAYS_AFTER_PERIOD_END)


@lru_cache(maxsize=1)
def _federal_holidays() -> holidays.HolidayBase:
    return holidays.Canada(categories=("public", "government"), observed=True)


def holiday_name(day: dt.date) -> str | None:
    return _federal_holidays().get(day)


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday and not a federal government holiday (observed dates included)."""
    return day.weekday() < 5 and day not in _federal_holidays()


def add_business_days(day: dt.date, count: int) -> dt.date:
    """``count`` business days after ``day`` (before it when negative)."""
    result = day
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        result += dt.timedelta(days=step)
        if is_business_day(result):
            remaining -= 1
    return result


def previous_business_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a business day, else the last business day before it."""
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


def next_business_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a business day, else the first business day after it."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days after ``start`` up to and including ``end`` (negative if ``end`` is earlier)."""
    if end < start:
        return -business_days_between(end, start)
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_business_day(start + dt.timedelta(offset))
    )


def cad_due_date(release_date: dt.date) -> dt.date:
    """A commercial CAD is due within 5 business days of release."""
    return add_business_days(release_date, CAD_DUE_BUSINESS_DAYS)
