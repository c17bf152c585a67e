"""The reconciliation charts, as numbers for inline SVG templates (no JavaScript, no chart library):

- amounts by status of a run (the run page and the statement page), horizontal bars;
- billed vs declared per month over the last 12 months (the importer page): what CBSA's
  statements charged on CAD and adjustment lines, beside what the broker's entries declared
  (the highest version of each transaction, in the month CBSA accepted it).

Every chart comes with its figures, which the templates also show as a table (the text
alternative of the drawing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.db.models.functions import TruncMonth

from carm_portal.money import ZERO, from_cents, sum_cents
from clients.models import Importer
from statements.models import BrokerEntry, StatementLine
from statements.reports import Summary

PX = Decimal("0.1")
BILLED_TYPES = (StatementLine.LineType.CAD, StatementLine.LineType.ADJUSTMENT)


def _px(value: Decimal | int | float) -> Decimal:
    return Decimal(value).quantize(PX)


def nice_top(peak: Decimal) -> Decimal:
    """A round figure at or above ``peak`` for the axis (1, 2 or 5 times a power of ten)."""
    if peak <= 0:
        return Decimal(100)
    magnitude = Decimal(10) ** (len(str(int(peak))) - 1)
    for step in (1, 2, 5, 10):
        if peak <= magnitude * step:
            return magnitude * step
    return magnitude * 10


# --- Amounts by status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusBar:
    code: str
    label: str
    count: int
    amount: Decimal
    y: Decimal
    width: Decimal
    text_y: Decimal
    negative: bool
    exception: bool


@dataclass(frozen=True)
class StatusChart:
    width: int
    height: int
    plot_left: int
    bar_height: int
    bars: list[StatusBar]

    @property
    def value_x(self) -> int:
        return self.plot_left + 4


def status_chart(summary: Summary) -> StatusChart:
    """One bar per status present, its length the size of the status's amount (a negative total,
    payments and credits, is drawn the same length in another style and labelled with its sign)."""
    rows = summary.present
    width, left, right, row_h, bar_h, top = 640, 200, 90, 28, 18, 6
    plot_w = width - left - right
    peak = max((abs(r.amount) for r in rows), default=ZERO)
    bars = []
    for i, row in enumerate(rows):
        y = top + i * row_h
        length = (Decimal(plot_w) * abs(row.amount) / peak) if peak else ZERO
        bars.append(
            StatusBar(
                code=row.code,
                label=row.label,
                count=row.count,
                amount=row.amount,
                y=_px(y),
                width=_px(max(length, Decimal(1)) if row.amount else 0),
                text_y=_px(y + bar_h / 2),
                negative=row.amount < 0,
                exception=row.is_exception,
            )
        )
    return StatusChart(
        width=width,
        height=top * 2 + max(len(rows), 1) * row_h,
        plot_left=left,
        bar_height=bar_h,
        bars=bars,
    )


# --- Billed vs declared --------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthBars:
    month: dt.date
    billed: Decimal
    declared: Decimal
    x: Decimal
    bar_width: Decimal
    billed_y: Decimal
    billed_h: Decimal
    declared_y: Decimal
    declared_h: Decimal

    @property
    def declared_x(self) -> Decimal:
        return self.x + self.bar_width

    @property
    def difference(self) -> Decimal:
        return self.billed - self.declared


@dataclass(frozen=True)
class MonthlyChart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    months: list[MonthBars]
    ticks: list[tuple[Decimal, Decimal]]  # (value, y)

    @property
    def billed_total(self) -> Decimal:
        return sum((m.billed for m in self.months), ZERO)

    @property
    def declared_total(self) -> Decimal:
        return sum((m.declared for m in self.months), ZERO)

    @property
    def has_data(self) -> bool:
        return any(m.billed or m.declared for m in self.months)

    @property
    def months_apart(self) -> int:
        return sum(1 for m in self.months if m.billed != m.declared)


def last_months(today: dt.date, count: int = 12) -> list[dt.date]:
    """The first days of the ``count`` months ending with ``today``'s, oldest first."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def billed_vs_declared(importer: Importer | int, *, today: dt.date) -> MonthlyChart:
    """Monthly totals over the last 12 months, summed in cents by the database (two queries)."""
    importer_id = importer if isinstance(importer, int) else importer.pk
    months = last_months(today)
    start = months[0]
    billed_rows = (
        StatementLine.objects.filter(
            statement__program_account__importer_id=importer_id,
            statement__statement_date__gte=start,
            statement__statement_date__lte=today,
            line_type__in=BILLED_TYPES,
        )
        .annotate(month=TruncMonth("statement__statement_date"))
        .values("month")
        .annotate(total=sum_cents("amount"))
        .order_by()
    )
    newer = BrokerEntry.objects.filter(
        program_account_id=OuterRef("program_account_id"),
        transaction_number=OuterRef("transaction_number"),
        version__gt=OuterRef("version"),
    )
    declared_rows = (
        BrokerEntry.objects.filter(
            program_account__importer_id=importer_id,
            accounted_on__gte=start,
            accounted_on__lte=today,
        )
        .filter(~Exists(newer))
        .annotate(month=TruncMonth("accounted_on"))
        .values("month")
        .annotate(total=sum_cents("amount"))
        .order_by()
    )
    billed = {_month(r["month"]): from_cents(r["total"]) for r in billed_rows}
    declared = {_month(r["month"]): from_cents(r["total"]) for r in declared_rows}

    width, height, left, right, top_pad, bottom = 640, 220, 84, 12, 14, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max([*billed.values(), *declared.values(), ZERO])
    top = nice_top(peak)
    slot = Decimal(plot_w) / len(months)
    bar_w = _px(slot * Decimal("0.36"))

    def y_of(value: Decimal) -> Decimal:
        return _px(Decimal(top_pad) + Decimal(plot_h) * (1 - max(value, ZERO) / top))

    bottom_y = Decimal(top_pad + plot_h)
    bars = []
    for i, month in enumerate(months):
        b, d = billed.get(month, ZERO), declared.get(month, ZERO)
        x = _px(Decimal(left) + slot * i + (slot - 2 * bar_w) / 2)
        bars.append(
            MonthBars(
                month=month,
                billed=b,
                declared=d,
                x=x,
                bar_width=bar_w,
                billed_y=y_of(b),
                billed_h=_px(bottom_y - y_of(b)),
                declared_y=y_of(d),
                declared_h=_px(bottom_y - y_of(d)),
            )
        )
    return MonthlyChart(
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=top_pad + plot_h,
        months=bars,
        ticks=[(top * n / 4, y_of(top * n / 4)) for n in range(5)],
    )


def _month(value: dt.date | dt.datetime) -> dt.date:
    """TruncMonth gives a date on a DateField (a datetime on some backends): the month's first day."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.replace(day=1)
