"""The reconciliation charts, as numbers for inline SVG templates (no JavaScript, no chart library):

- amounts by status of a run (the run page and the statement page), horizontal bars;
- billed vs declared per month over the last 12 months (the importer page): what CBSA's
  statements charged on CAD and adjustment lines, beside what the broker's entries declared
  (the highest version of each transaction, in the month CBSA accepted it).

Coordinates are plain strings from ``carm_portal.svg`` (a French page would write ``186,0``).
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
from carm_portal.svg import axis, coord
from clients.models import Importer
from statements.models import BrokerEntry, ReconciliationItem, StatementLine
from statements.reports import StatusTotal, Summary

BILLED_TYPES = (StatementLine.LineType.CAD, StatementLine.LineType.ADJUSTMENT)

# Statuses whose bar is the difference, not the amount: a $400.61 line off by $0.27 is a $0.27
# problem, and drawing $400.61 would make it look like the largest exception of the run.
DIFFERENCE_CODES = (
    ReconciliationItem.Code.AMOUNT_MISMATCH,
    ReconciliationItem.Code.BALANCE_DIFFERENCE,
)


# --- Amounts by status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusBar:
    code: str
    label: str
    count: int
    amount: Decimal  # what the bar measures: the difference for DIFFERENCE_CODES
    full_amount: Decimal  # the status's amount (the table shows both)
    is_difference: bool
    x: str
    y: str
    width: str
    text_y: str
    value_x: str
    value_anchor: str  # "start" right of a positive bar, "end" left of a negative one
    negative: bool
    exception: bool


@dataclass(frozen=True)
class StatusChart:
    width: int
    height: int
    plot_left: int
    bar_height: int
    zero_x: str
    bars: list[StatusBar]

    @property
    def label_x(self) -> str:
        return coord(self.plot_left - 8)

    @property
    def has_negative(self) -> bool:
        return any(bar.negative for bar in self.bars)

    @property
    def axis_bottom(self) -> str:
        return coord(self.height)


def chart_amount(row: StatusTotal) -> Decimal:
    """What a status's bar measures (see ``DIFFERENCE_CODES``)."""
    return row.difference_total if row.code in DIFFERENCE_CODES else row.amount


def status_chart(summary: Summary) -> StatusChart:
    """One bar per status present, from a zero line: positive totals to the right, negative ones
    (payments and credits) to the left, each labelled with its signed amount, so a large credit is
    never drawn as the largest charge."""
    rows = summary.present
    width, left, right, row_h, bar_h, top = 640, 220, 16, 30, 20, 6
    amounts = [chart_amount(r) for r in rows]
    # Room for the value labels: ~100 units beside the longest bar on each side that has bars.
    plot_start = left + (120 if any(a < 0 for a in amounts) else 0)
    plot_end = width - right - (100 if any(a > 0 for a in amounts) else 0)
    low, high = min([ZERO, *amounts]), max([ZERO, *amounts])
    span = (high - low) or Decimal(1)

    def x_of(value: Decimal) -> Decimal:
        return Decimal(plot_start) + Decimal(plot_end - plot_start) * (value - low) / span

    zero = x_of(ZERO)
    bars = []
    for i, (row, amount) in enumerate(zip(rows, amounts, strict=True)):
        y = top + i * row_h
        end = x_of(amount)
        length = abs(end - zero)
        if amount and length < 1:
            length = Decimal(1)  # a cent still shows
        negative = amount < 0
        start = zero - length if negative else zero
        bars.append(
            StatusBar(
                code=row.code,
                label=row.label,
                count=row.count,
                amount=amount,
                full_amount=row.amount,
                is_difference=row.code in DIFFERENCE_CODES,
                x=coord(start),
                y=coord(y),
                width=coord(length if amount else 0),
                text_y=coord(Decimal(y) + Decimal(bar_h) / 2),
                value_x=coord(start - 6 if negative else zero + length + 6),
                value_anchor="end" if negative else "start",
                negative=negative,
                exception=row.is_exception,
            )
        )
    return StatusChart(
        width=width,
        height=top * 2 + max(len(rows), 1) * row_h,
        plot_left=left,
        bar_height=bar_h,
        zero_x=coord(zero),
        bars=bars,
    )


# --- Billed vs declared --------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthBars:
    month: dt.date
    billed: Decimal
    declared: Decimal
    x: str
    declared_x: str
    label_x: str
    bar_width: str
    billed_y: str
    billed_h: str
    declared_y: str
    declared_h: str

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
    ticks: list[tuple[Decimal, str]]  # (value, y)

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

    @property
    def tick_x(self) -> str:
        return coord(self.plot_left - 6)

    @property
    def month_label_y(self) -> str:
        return coord(self.plot_bottom + 18)

    @property
    def year_label_y(self) -> str:
        return coord(self.plot_bottom + 34)


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

    width, height, left, right, top_pad, bottom = 640, 236, 84, 12, 14, 50
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    scale = axis([*billed.values(), *declared.values()], start=top_pad + plot_h, end=top_pad)
    slot = Decimal(plot_w) / len(months)
    bar_w = slot * Decimal("0.36")

    def bar(value: Decimal) -> tuple[str, str]:
        """(y, height) of a bar from the zero line, up for a charge, down for a credit month."""
        return coord(min(scale.at(value), scale.zero)), coord(scale.length(value))

    bars = []
    for i, month in enumerate(months):
        b, d = billed.get(month, ZERO), declared.get(month, ZERO)
        x = Decimal(left) + slot * i + (slot - 2 * bar_w) / 2
        billed_y, billed_h = bar(b)
        declared_y, declared_h = bar(d)
        bars.append(
            MonthBars(
                month=month,
                billed=b,
                declared=d,
                x=coord(x),
                declared_x=coord(x + bar_w),
                label_x=coord(x + bar_w),
                bar_width=coord(bar_w),
                billed_y=billed_y,
                billed_h=billed_h,
                declared_y=declared_y,
                declared_h=declared_h,
            )
        )
    return MonthlyChart(
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=top_pad + plot_h,
        months=bars,
        ticks=[(value, coord(scale.at(value))) for value in scale.ticks()],
    )


def _month(value: dt.date | dt.datetime) -> dt.date:
    """TruncMonth gives a date on a DateField (a datetime on some backends): the month's first day."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.replace(day=1)
