"""An estimate of the interest and penalty a late statement earns.

Interest runs on each amount from the day after the due date up to and including the day it is
paid (a payment one day late costs one day), or up to today while unpaid, at the rate in effect on
each day: a rate that changes mid-period is prorated by day. Simple daily interest on a 365-day
year, summed exactly in Decimal and rounded half up to the cent once, at the end. It is an
*estimate*: CBSA's own figure (it may compound) is the one on the next statement.

Days before ``PAYMENTS_LATE_CHARGES_FROM`` (the end of the CARM relief, 31 January 2026) cost
nothing, and a statement late only before then earns no penalty. The late-payment penalty is one
``PAYMENTS_LATE_PENALTY`` per late statement. Days for which no rate has been entered cost nothing
and are counted in ``missing_rate_days`` so the page can say so.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.conf import settings

from carm_portal.money import CENT, ZERO

DAYS_IN_YEAR = 365
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Rate:
    effective_from: dt.date
    annual_rate: Decimal  # percent per year


def load_rates() -> list[Rate]:
    from payments.models import InterestRate

    return [
        Rate(day, rate)
        for day, rate in InterestRate.objects.order_by("effective_from").values_list(
            "effective_from", "annual_rate"
        )
    ]


def rate_on(day: dt.date, rates: Sequence[Rate]) -> Decimal | None:
    """The rate in effect on ``day`` (``rates`` oldest first), or None before the first one."""
    index = bisect.bisect_right([r.effective_from for r in rates], day) - 1
    return rates[index].annual_rate if index >= 0 else None


@dataclass(frozen=True)
class Segment:
    """Days ``start``..``end`` (both included) of one amount at one rate."""

    amount: Decimal
    start: dt.date
    end: dt.date
    rate: Decimal | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def interest(self) -> Decimal:
        """Unrounded: amount x rate % x days / 365."""
        if self.rate is None:
            return Decimal(0)
        with localcontext() as ctx:
            ctx.prec = 40
            return self.amount * self.rate * self.days / (100 * DAYS_IN_YEAR)


def segments(
    amount: Decimal, first_day: dt.date, last_day: dt.date, rates: Sequence[Rate]
) -> list[Segment]:
    """``amount`` owed from ``first_day`` to ``last_day`` (both included), split at rate changes."""
    if last_day < first_day or amount <= ZERO:
        return []
    result = []
    start = first_day
    changes = [r.effective_from for r in rates if first_day < r.effective_from <= last_day]
    for change in [*changes, last_day + ONE_DAY]:
        result.append(Segment(amount, start, change - ONE_DAY, rate_on(start, rates)))
        start = change
    return result


@dataclass(frozen=True)
class InterestEstimate:
    due_date: dt.date
    late_amount: Decimal  # paid after the due date, or still unpaid after it
    days_late: int  # the longest delay, in days after the due date
    interest: Decimal
    penalty: Decimal
    missing_rate_days: int
    segments: tuple[Segment, ...] = ()

    @property
    def total(self) -> Decimal:
        return self.interest + self.penalty

    @property
    def is_late(self) -> bool:
        return self.late_amount > ZERO


def estimate(
    *,
    due_date: dt.date,
    payments: Iterable[tuple[Decimal, dt.date]],
    outstanding: Decimal,
    today: dt.date,
    rates: Sequence[Rate],
    penalty: Decimal | None = None,
    charges_from: dt.date | None = None,
) -> InterestEstimate:
    """Interest and penalty on one statement due ``due_date``.

    ``payments`` are the (amount, paid on) of the payments applied to it (returned ones left
    out); ``outstanding`` what is still unpaid today.
    """
    penalty = settings.PAYMENTS_LATE_PENALTY if penalty is None else penalty
    charges_from = settings.PAYMENTS_LATE_CHARGES_FROM if charges_from is None else charges_from
    first = max(due_date + ONE_DAY, charges_from)
    late: list[tuple[Decimal, dt.date]] = [(a, day) for a, day in payments if day > due_date]
    if outstanding > ZERO and today > due_date:
        late.append((outstanding, today))
    parts: list[Segment] = []
    for amount, last in late:
        parts.extend(segments(amount, first, last, rates))
    interest = sum((s.interest for s in parts), Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    missing: set[dt.date] = set()
    for s in parts:
        if s.rate is None:
            missing.update(s.start + dt.timedelta(days=n) for n in range(s.days))
    return InterestEstimate(
        due_date=due_date,
        late_amount=sum((a for a, _day in late), ZERO),
        days_late=max(((day - due_date).days for _a, day in late), default=0),
        interest=interest,
        penalty=penalty if parts else ZERO,
        missing_rate_days=len(missing),
        segments=tuple(parts),
    )
