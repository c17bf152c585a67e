"""Fixtures for the payments tests: a fixed Eastern "today" and statements built line by line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clients.models import ProgramAccount
from statements.models import Statement
from tests.factories import StatementFactory, StatementLineFactory

TODAY = dt.date(2026, 11, 23)  # a Monday


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


def D(value: str | int) -> Decimal:
    return Decimal(str(value))


def make_statement(
    account: ProgramAccount,
    statement_date: dt.date,
    *lines: tuple[str, str | Decimal] | str,
    due_date: dt.date | None = None,
    opening: str = "0",
) -> Statement:
    """A statement of ``account`` with ``lines``: ("CAD", "100.00") pairs, or "100.00" for a CAD.

    Its closing balance is the opening plus the lines, as the importer writes it.
    """
    extra = {"due_date": due_date} if due_date else {}
    statement = StatementFactory(
        program_account=account, statement_date=statement_date, opening_balance=D(opening), **extra
    )
    total = D(opening)
    for line in lines:
        line_type, amount = ("CAD", line) if isinstance(line, str) else line
        StatementLineFactory(statement=statement, line_type=line_type, amount=D(amount))
        total += D(amount)
    statement.closing_balance = total
    statement.line_count = len(lines)
    statement.save()
    return statement


def account_of(personas, which: str = "a") -> ProgramAccount:
    importer = personas.importer_a if which == "a" else personas.importer_b
    return importer.program_accounts.get()
