"""When a statement's payment is overdue or due soon: one rule for pages, worklists and the API.

Overdue: the due date has passed (due today is not overdue). Due soon: due today or within
``settings.STATEMENTS_DUE_SOON_DAYS`` days. Whether anything is still owing is the caller's
question (the statement's own balance, or the payments app's ``StatementBalance``); these
functions only read the dates. Each comes as a Python test and as a ``Q`` on a due-date field.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q


def due_soon_days() -> int:
    return settings.STATEMENTS_DUE_SOON_DAYS


def is_overdue(due_date: dt.date, *, today: dt.date) -> bool:
    return due_date < today


def is_due_soon(due_date: dt.date, *, today: dt.date, days: int | None = None) -> bool:
    days = due_soon_days() if days is None else days
    return today <= due_date <= today + dt.timedelta(days=days)


def overdue_q(today: dt.date, *, field: str = "due_date") -> Q:
    return Q(**{f"{field}__lt": today})


def due_soon_q(today: dt.date, *, field: str = "due_date", days: int | None = None) -> Q:
    days = due_soon_days() if days is None else days
    return Q(**{f"{field}__gte": today, f"{field}__lte": today + dt.timedelta(days=days)})


# Ageing of overdue statements (days past the due date), for the Today view's chart and the payment
# worklist's ``age`` filter: the same buckets on both, so a bar and the list behind it agree.
OVERDUE_AGES: dict[str, tuple[int, int | None]] = {
    "1-29": (1, 29),
    "30-59": (30, 59),
    "60-89": (60, 89),
    "90+": (90, None),
}


def arrears_days() -> int:
    """Days past due from which CBSA's notice of arrears applies (``PAYMENTS_ARREARS_DAYS``)."""
    return settings.PAYMENTS_ARREARS_DAYS


def is_days_late(due_date: dt.date, *, today: dt.date, low: int, high: int | None) -> bool:
    """Due ``low`` to ``high`` days before ``today`` (both inclusive; ``high=None``: or more)."""
    late = (today - due_date).days
    return late >= low and (high is None or late <= high)


def days_late_q(today: dt.date, low: int, high: int | None, *, field: str = "due_date") -> Q:
    """Due ``low`` to ``high`` days before ``today`` (both inclusive; ``high=None``: or more)."""
    q = Q(**{f"{field}__lte": today - dt.timedelta(days=low)})
    if high is not None:
        q &= Q(**{f"{field}__gte": today - dt.timedelta(days=high)})
    return q


def overdue_age_q(age: str, today: dt.date, *, field: str = "due_date") -> Q | None:
    """An ``OVERDUE_AGES`` bucket, or ``"arrears"``, as a ``Q`` (``None``: not a known age)."""
    if age == "arrears":
        return days_late_q(today, arrears_days(), None, field=field)
    if age in OVERDUE_AGES:
        low, high = OVERDUE_AGES[age]
        return days_late_q(today, low, high, field=field)
    return None
