"""Reading statements for the pages and the API: filters, worklist counts, totals in SQL.

Every function takes an already scoped queryset (``clients.access``); none decides who may see
what.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from clients.search import importer_search
from statements import due
from statements.models import COMPONENT_LABELS, COMPONENTS, Statement, StatementLine

ZERO = Decimal("0.00")
OPENING = StatementLine.LineType.OPENING_BALANCE


def unpaid() -> Q:
    return ~Q(status=Statement.Status.PAID) & Q(closing_balance__gt=0)


def overdue(today: dt.date) -> Q:
    return unpaid() & due.overdue_q(today)


def due_soon(today: dt.date, days: int | None = None) -> Q:
    return unpaid() & due.due_soon_q(today, days=days)


def filter_statements(
    statements: QuerySet[Statement], data: dict[str, Any], *, today: dt.date
) -> QuerySet[Statement]:
    """Apply the list filters (``q``, ``period``, ``status``, ``due``) from cleaned form data."""
    if q := (data.get("q") or "").strip():
        statements = statements.filter(
            importer_search(q, importer="program_account__importer__", account="program_account__")
        )
    if period := data.get("period"):
        statements = statements.filter(statement_date=period)
    if status := data.get("status"):
        statements = statements.filter(status=status)
    if data.get("due") == "overdue":
        statements = statements.filter(overdue(today))
    elif data.get("due") == "due_soon":
        statements = statements.filter(due_soon(today))
    return statements


def statement_dates(statements: QuerySet[Statement], *, limit: int = 36) -> list[dt.date]:
    """The latest issue dates among these statements, newest first (for the period filter)."""
    return list(
        statements.order_by("-statement_date")
        .values_list("statement_date", flat=True)
        .distinct()[:limit]
    )


def worklist_counts(statements: QuerySet[Statement], *, today: dt.date) -> dict[str, int]:
    """Overdue and due-soon counts, in one query."""
    return statements.aggregate(
        overdue=Count("pk", filter=overdue(today)),
        due_soon=Count("pk", filter=due_soon(today)),
    )


@dataclass(frozen=True)
class ComponentTotal:
    name: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class TypeTotal:
    line_type: str
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    components: list[ComponentTotal]
    not_broken_down: Decimal  # line amounts with no component breakdown (payments, most interest)
    by_type: list[TypeTotal]
    lines_total: Decimal  # every line except the opening balance
    opening_lines_total: Decimal
    line_count: int

    def balance_check(self, statement: Statement) -> BalanceCheck:
        return BalanceCheck(
            opening=statement.opening_balance,
            lines=self.lines_total,
            closing=statement.closing_balance,
            opening_matches=self.opening_lines_total == statement.opening_balance,
        )


@dataclass(frozen=True)
class BalanceCheck:
    opening: Decimal
    lines: Decimal
    closing: Decimal
    opening_matches: bool

    @property
    def computed(self) -> Decimal:
        return self.opening + self.lines

    @property
    def difference(self) -> Decimal:
        return self.closing - self.computed

    @property
    def ok(self) -> bool:
        return self.difference == 0 and self.opening_matches


def statement_totals(statement: Statement) -> Totals:
    """Totals by component and by line type, summed by the database (two queries)."""
    lines = StatementLine.objects.filter(statement=statement)
    sums = lines.exclude(line_type=OPENING).aggregate(
        **{name: Coalesce(Sum(name), ZERO) for name in COMPONENTS},
        amount=Coalesce(Sum("amount"), ZERO),
    )
    by_type = {
        row["line_type"]: row
        for row in lines.values("line_type")
        .annotate(n=Count("pk"), total=Coalesce(Sum("amount"), ZERO))
        .order_by()
    }
    labels = dict(StatementLine.LineType.choices)
    components = [
        ComponentTotal(name, str(COMPONENT_LABELS[name]), _money(sums[name])) for name in COMPONENTS
    ]
    broken_down = sum((c.amount for c in components), ZERO)
    lines_total = _money(sums["amount"])
    opening = by_type.get(OPENING)
    return Totals(
        components=[c for c in components if c.amount],
        not_broken_down=lines_total - broken_down,
        by_type=[
            TypeTotal(t, str(labels[t]), by_type[t]["n"], _money(by_type[t]["total"]))
            for t in StatementLine.LineType.values
            if t in by_type
        ],
        lines_total=lines_total,
        opening_lines_total=_money(opening["total"]) if opening else ZERO,
        line_count=sum(row["n"] for row in by_type.values()),
    )


def _money(value: Any) -> Decimal:
    """A database sum as a Decimal in cents (SQLite returns floats-turned-Decimals)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))
