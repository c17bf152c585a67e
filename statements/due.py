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
