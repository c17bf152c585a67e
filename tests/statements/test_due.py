"""statements.due: overdue and due soon, one rule for every page and worklist."""

from __future__ import annotations

import datetime as dt

import pytest

from statements.due import (
    OVERDUE_AGES,
    days_late_q,
    due_soon_q,
    is_days_late,
    is_due_soon,
    is_overdue,
    overdue_q,
)
from statements.models import Statement
from tests.factories import StatementFactory

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("days", "overdue", "due_soon"),
    [(-1, True, False), (0, False, True), (7, False, True), (8, False, False)],
)
def test_overdue_after_the_due_date_and_due_soon_from_today_for_the_setting(
    db, settings, days, overdue, due_soon
):
    settings.STATEMENTS_DUE_SOON_DAYS = 7
    due_date = TODAY + dt.timedelta(days=days)
    StatementFactory(due_date=due_date)

    assert is_overdue(due_date, today=TODAY) is overdue
    assert is_due_soon(due_date, today=TODAY) is due_soon
    assert Statement.objects.filter(overdue_q(TODAY)).exists() is overdue
    assert Statement.objects.filter(due_soon_q(TODAY)).exists() is due_soon


@pytest.mark.parametrize(("low", "high"), [*OVERDUE_AGES.values(), (0, 0), (7, 7)])
def test_days_late_in_python_and_in_sql_agree_at_every_edge(db, low, high):
    """Today's figures band the owed balances in Python, the worklist filters them in SQL."""
    days = range(-2, 100)
    for late in days:
        StatementFactory(due_date=TODAY - dt.timedelta(days=late))
    in_sql = sorted(
        (TODAY - due).days
        for due in Statement.objects.filter(days_late_q(TODAY, low, high)).values_list(
            "due_date", flat=True
        )
    )
    in_python = [
        late
        for late in days
        if is_days_late(TODAY - dt.timedelta(days=late), today=TODAY, low=low, high=high)
    ]
    assert in_sql == in_python
    assert in_python  # each band holds someone: the comparison is not between two empty lists
