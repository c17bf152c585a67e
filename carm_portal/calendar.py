"""CBSA's calendar: Eastern business dates, business days and federal holidays.

Two day counts live here, on purpose:

* **weekdays** (``add_weekdays``): Monday to Friday, holidays included. CBSA counts weekdays for
  the SOA payment due date, so a holiday inside that window does not push the date;
* **business days** (everything else: a CAD is due 5 business days after release, reminders,
  "processed in N business days"): weekdays that are not a federal government holiday of the
  ``holidays`` package, with observed dates (Boxing Day on a Saturday is observed on Monday).

All dates here are Eastern business dates (``settings.CBSA_TIME_ZONE``, ``America/Toronto``);
callers convert instants with ``cbsa_today()`` rather than ``date.today()``, which is the server's
calendar. The statement billing periods built on this calendar are in ``statements/billing.py``.

Part of the project's shared kit: imports no app.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone


def cbsa_zone() -> ZoneInfo:
    """CBSA's time zone (Eastern), in which its days begin and end."""
    return ZoneInfo(settings.CBSA_TIME_ZONE)


def cbsa_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Eastern time, whatever the server's time zone."""
    now = now or timezone.now()
    return now.astimezone(cbsa_zone()).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in CBSA's time zone, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=cbsa_zone())


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
