"""CBSA's billing calendar for statements: billing periods, statement dates and due dates.

Built on the project calendar (``carm_portal/calendar.py``: Eastern dates, weekdays, business days
and federal holidays). Two different day counts, on purpose:

* the SOA **payment due date** is 10 *weekdays* after the 17th, holidays included — CBSA counts
  weekdays there, so a holiday inside the window does not push the date;
* a CAD's due date counts *business days* (5 after release), which skip federal holidays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from carm_portal.calendar import add_business_days, add_weekdays

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


def payment_due_date(period: BillingPeriod) -> dt.date:
    """10 weekdays after the period's 17th, holidays included (CBSA's rule for the SOA)."""
    return add_weekdays(period.end, DUE_WEEKDAYS_AFTER_PERIOD_END)


def cad_due_date(release_date: dt.date) -> dt.date:
    """A commercial CAD is due within 5 business days of release."""
    return add_business_days(release_date, CAD_DUE_BUSINESS_DAYS)
