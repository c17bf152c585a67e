"""Reading payments and security for the pages, the template tags and the API.

Every function takes ids or already scoped querysets (``clients.access``); none decides who may see
what. Each runs a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from carm_portal.money import ZERO, from_cents, sum_cents
from carm_portal.svg import axis, coord
from clients.models import ProgramAccount
from payments.allocation import open_statements_for
from payments.interest import InterestEstimate, Rate, estimate, load_rates
from payments.models import (
    BankAccount,
    FinancialSecurity,
    Payment,
    PaymentAllocation,
    StatementBalance,
)
from payments.reviews import sufficiencies
from payments.rules import (
    CASH_DEPOSIT,
    SURETY_BOND,
    Coverage,
    SecurityFacts,
    Standing,
    Sufficiency,
    Thresholds,
    expected_posting,
)
from payments.security import (
    Month,
    coverage_line,
    monthly_totals,
    peaks_for_accounts,
    peaks_of,
)
from statements.models import Statement

# --- One statement -----------------------------------------------------------------------------


@dataclass
class StatementPosition:
    """What a statement asks for, what is paid (cleared, in transit), what is late and costs."""

    statement: Statement
    billed: Decimal
    paid: Decimal
    in_transit: Decimal
    broker_paid: Decimal
    outstanding: Decimal
    includes_opening: bool  # the account's earliest statement on record carries its opening balance
    allocations: list[PaymentAllocation]
    returned: list[PaymentAllocation]
    estimate: InterestEstimate
    today: dt.date

    @property
    def overdue(self) -> Decimal:
        return self.outstanding if self.today > self.statement.due_date else ZERO

    @property
    def days_overdue(self) -> int:
        return max((self.today - self.statement.due_date).days, 0) if self.overdue else 0

    @property
    def is_paid(self) -> bool:
        return self.billed > ZERO and self.outstanding == ZERO and self.in_transit == ZERO

    @property
    def state(self) -> str:
        if self.billed <= ZERO:
            return "nothing_due"
        if self.outstanding == ZERO:
            return "in_transit" if self.in_transit else "paid"
        if self.overdue:
            return "overdue"
        return "partly_paid" if self.paid or self.in_transit else "unpaid"


def statement_position(
    statement: Statement, *, today: dt.date, rates: Sequence[Rate] | None = None
) -> StatementPosition:
    """Live, from the lines and allocations (five queries): right even before the daily check."""
    opens = open_statements_for([statement.program_account_id]).get(
        statement.program_account_id, []
    )
    mine = next((o for o in opens if o.statement_id == statement.pk), None)
    billed = mine.billed if mine else ZERO
    allocations = list(
        PaymentAllocation.objects.filter(statement=statement)
        .select_related("payment")
        .order_by("payment__paid_on", "id")
    )
    counting = [a for a in allocations if a.payment.status != Payment.Status.RETURNED]
    returned = [a for a in allocations if a.payment.status == Payment.Status.RETURNED]
    paid = sum((a.amount for a in counting if a.payment.status == Payment.Status.CLEARED), ZERO)
    in_transit = sum(
        (a.amount for a in counting if a.payment.status == Payment.Status.PENDING), ZERO
    )
    outstanding = mine.available if mine else ZERO
    earliest = min(opens, key=lambda o: (o.statement_date, o.statement_id), default=None)
    return StatementPosition(
        statement=statement,
        billed=billed,
        paid=paid,
        in_transit=in_transit,
        broker_paid=sum((a.amount for a in counting if a.payment.is_broker_paid), ZERO),
        outstanding=outstanding,
        includes_opening=bool(
            earliest and earliest.statement_id == statement.pk and statement.opening_balance != ZERO
        ),
        allocations=counting,
        returned=returned,
        estimate=estimate(
            due_date=statement.due_date,
            payments=[(a.amount, a.payment.paid_on) for a in counting],
            outstanding=outstanding,
            today=today,
            rates=load_rates() if rates is None else rates,
        ),
        today=today,
    )


def late_estimates(
    balances: Sequence[StatementBalance], *, today: dt.date
) -> dict[int, InterestEstimate]:
    """statement id -> interest estimate, for a page of balances (two queries)."""
    ids = [b.statement_id for b in balances]
    paid: dict[int, list[tuple[Decimal, dt.date]]] = defaultdict(list)
    for statement_id, amount, paid_on in (
        PaymentAllocation.objects.filter(statement_id__in=ids)
        .exclude(payment__status=Payment.Status.RETURNED)
        .values_list("statement_id", "amount", "payment__paid_on")
    ):
        paid[statement_id].append((amount, paid_on))
    rates = load_rates()
    return {
        b.statement_id: estimate(
            due_date=b.statement.due_date,
            payments=paid[b.statement_id],
            outstanding=b.outstanding,
            today=today,
            rates=rates,
        )
        for b in balances
    }


@dataclass
class Owing:
    """A statement that still asks for money, live (not waiting for the daily check)."""

    statement: Statement
    outstanding: Decimal
    in_transit: Decimal
    days: int  # to the due date; negative once overdue


def owing_statements(
    account_ids: Collection[int], *, today: dt.date, limit: int | None = None
) -> list[Owing]:
    """The accounts' statements still owing, soonest due first (five queries)."""
    opens = [
        o
        for items in open_statements_for(account_ids).values()
        for o in items
        if o.available > ZERO
    ]
    opens.sort(key=lambda o: (o.due_date, o.statement_id))
    if limit is not None:
        opens = opens[:limit]
    ids = [o.statement_id for o in opens]
    statements = Statement.objects.select_related("program_account").in_bulk(ids)
    pending = {
        statement_id: from_cents(total)
        for statement_id, total in PaymentAllocation.objects.filter(
            statement_id__in=ids, payment__status=Payment.Status.PENDING
        )
        .values("statement_id")
        .annotate(total=sum_cents("amount"))
        .values_list("statement_id", "total")
        .order_by()
    }
    return [
        Owing(
            statement=statements[o.statement_id],
            outstanding=o.available,
            in_transit=pending.get(o.statement_id, ZERO),
            days=(o.due_date - today).days,
        )
        for o in opens
    ]


# --- Payments ------------------------------------------------------------------------------------


def with_allocated(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Each payment with ``allocated_cents``: what it pays across statements."""
    return payments.annotate(allocated_cents=sum_cents("allocations__amount"))


def unapplied(payment: Payment) -> Decimal:
    allocated = getattr(payment, "allocated_cents", None)
    if allocated is None:
        allocated_amount = sum((a.amount for a in payment.allocations.all()), ZERO)
    else:
        allocated_amount = from_cents(allocated)
    return payment.amount - allocated_amount


def posting_expected(payment: Payment) -> dt.date:
    return expected_posting(payment.method, payment.paid_on, Thresholds.from_settings())


# --- Security ------------------------------------------------------------------------------------


@dataclass
class Bar:
    """One month's bar; coordinates are plain strings (``carm_portal.svg.coord``), never localized."""

    month: Month
    x: str
    y: str
    width: str
    height: str
    label_x: str
    over: bool


@dataclass
class Chart:
    """Monthly totals owed as bars against the security's coverage, in SVG units.

    The axis fits the bars, not the coverage: a bond of $111,000 against months of $12,000 would
    leave slivers. When the coverage is above the axis it is named at the top of the chart
    (``coverage_above``) instead of drawn; when it is within reach, the axis stretches to show its
    line.
    """

    width: int
    height: int
    bars: list[Bar]
    line_y: str | None
    coverage: Decimal
    top: Decimal
    ticks: list[tuple[Decimal, str]]  # (value, y)
    plot_left: int
    plot_bottom: int

    @property
    def months_over(self) -> int:
        return sum(1 for bar in self.bars if bar.over)

    @property
    def coverage_above(self) -> bool:
        return self.coverage > ZERO and self.line_y is None

    @property
    def tick_x(self) -> str:
        return coord(self.plot_left - 6)

    @property
    def month_label_y(self) -> str:
        return coord(self.plot_bottom + 18)

    @property
    def note_x(self) -> str:
        return coord(self.width - 4)


# The coverage line is drawn when it is no more than this many times the highest month: beyond,
# the bars would be squeezed into the bottom third and the chart names the coverage instead.
COVERAGE_REACH = Decimal("1.5")


def build_chart(months: Sequence[Month], coverage_amount: Decimal) -> Chart:
    width, height, left, right, top_pad, bottom = 640, 220, 84, 12, 22, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max((m.total for m in months), default=ZERO)
    shown = [m.total for m in months]
    if coverage_amount > ZERO and (peak <= ZERO or coverage_amount <= peak * COVERAGE_REACH):
        shown.append(coverage_amount)
    scale = axis(shown, start=top_pad + plot_h, end=top_pad)
    slot = Decimal(plot_w) / max(len(months), 1)
    bar_w = slot * Decimal("0.7")

    bars = []
    for i, month in enumerate(months):
        x = Decimal(left) + slot * i + (slot - bar_w) / 2
        value_y = scale.at(month.total)
        bars.append(
            Bar(
                month=month,
                x=coord(x),
                y=coord(min(value_y, scale.zero)),
                width=coord(bar_w),
                height=coord(scale.length(month.total)),
                label_x=coord(x + bar_w / 2),
                over=coverage_amount > ZERO and month.total > coverage_amount,
            )
        )
    line_y = None
    if coverage_amount > ZERO and scale.contains(coverage_amount):
        line_y = coord(scale.at(coverage_amount))
    return Chart(
        width=width,
        height=height,
        bars=bars,
        line_y=line_y,
        coverage=coverage_amount,
        top=scale.high,
        ticks=[(value, coord(scale.at(value))) for value in scale.ticks()],
        plot_left=left,
        plot_bottom=top_pad + plot_h,
    )


@dataclass
class AccountSecurity:
    """One RM account: its securities, what CBSA requires, whether it is covered, its chart.

    ``required`` and ``coverage`` are against the requirement in force (the last annual review's,
    or today's computation before any review); ``sufficiency`` says which, and the forecast.
    """

    account: ProgramAccount
    securities: list[FinancialSecurity]
    peak: Decimal | None
    sufficiency: Sufficiency
    today: dt.date
    months: list[Month] = field(default_factory=list)
    chart: Chart | None = None

    @property
    def required(self) -> dict[str, Decimal]:
        return dict(self.sufficiency.required)

    @property
    def coverage(self) -> Coverage:
        return self.sufficiency.coverage

    @property
    def projected_bond(self) -> Decimal:
        return self.sufficiency.projected[SURETY_BOND]

    @property
    def projected_cash(self) -> Decimal:
        return self.sufficiency.projected[CASH_DEPOSIT]

    @property
    def in_force(self) -> list[FinancialSecurity]:
        return [s for s in self.securities if s.in_force(self.today)]

    @property
    def required_bond(self) -> Decimal:
        return self.required[SURETY_BOND]

    @property
    def required_cash(self) -> Decimal:
        return self.required[CASH_DEPOSIT]

    @property
    def state(self) -> str:
        """none, insufficient (blocking), top_up, forecast (warnings) or sufficient."""
        standing = self.sufficiency.standing
        return "insufficient" if standing == Standing.SHORTFALL else standing.value


def facts_of(security: FinancialSecurity) -> SecurityFacts:
    return SecurityFacts(
        id=security.pk,
        program_account_id=security.program_account_id,
        kind=security.kind,
        amount=security.amount,
        status=security.status,
        effective_date=security.effective_date,
        expiry_date=security.expiry_date,
        surety_company=security.surety_company,
        bond_number=security.bond_number,
    )


def account_securities(
    accounts: Collection[ProgramAccount], *, today: dt.date, with_chart: bool = False
) -> dict[int, AccountSecurity]:
    """account id -> its security position (three queries, with the charts or without: the
    charts' months give the peaks)."""
    ids = [a.pk for a in accounts]
    securities: dict[int, list[FinancialSecurity]] = defaultdict(list)
    for security in FinancialSecurity.objects.filter(program_account_id__in=ids).order_by(
        "-effective_date", "-id"
    ):
        securities[security.program_account_id].append(security)
    months = monthly_totals(ids, on_date=today) if with_chart else {}
    peaks = peaks_of(months) if with_chart else peaks_for_accounts(ids, on_date=today)
    standings = sufficiencies(
        {pk: [facts_of(s) for s in rows] for pk, rows in securities.items()},
        account_ids=ids,
        today=today,
        peaks=peaks,
    )
    result = {}
    for account in accounts:
        standing = standings[account.pk]
        position = AccountSecurity(
            account=account,
            securities=securities[account.pk],
            peak=peaks.get(account.pk),
            sufficiency=standing,
            today=today,
        )
        if with_chart:
            position.months = months.get(account.pk, [])
            position.chart = build_chart(position.months, coverage_line(standing.coverage.posted))
        result[account.pk] = position
    return result


def security_rows(securities: Sequence[FinancialSecurity], *, today: dt.date) -> None:
    """Annotate a page of securities with their account's requirement and coverage."""
    accounts = {s.program_account_id: s.program_account for s in securities}
    positions = account_securities(list(accounts.values()), today=today)
    for security in securities:
        position = positions[security.program_account_id]
        security.required = position.required[security.kind]
        security.account_state = position.state
        security.days_left = (
            (security.expiry_date - today).days if security.expiry_date is not None else None
        )


# --- Bank accounts -------------------------------------------------------------------------------


@dataclass
class Deactivation:
    """What deactivating a PAD bank account changes, for the confirmation page.

    There are no scheduled payments in the portal: a pre-authorized debit is recorded when it is
    made. What the account still carries is PAD payments in transit (not yet on a statement),
    which the bank draws whatever the portal says, and whether other accounts remain for PAD.
    """

    in_transit: list[Payment]
    in_transit_count: int
    in_transit_total: Decimal
    payments_count: int
    other_active: int


def deactivation(account: BankAccount, *, shown: int = 10) -> Deactivation:
    """Four queries whatever the number of payments."""
    pending = account.payments.filter(status=Payment.Status.PENDING)
    totals = pending.aggregate(total=sum_cents("amount"))
    return Deactivation(
        in_transit=list(
            pending.select_related("program_account").order_by("-paid_on", "-id")[:shown]
        ),
        in_transit_count=pending.count(),
        in_transit_total=from_cents(totals["total"]),
        payments_count=account.payments.count(),
        other_active=BankAccount.objects.filter(
            importer_id=account.importer_id, status=BankAccount.Status.ACTIVE
        )
        .exclude(pk=account.pk)
        .count(),
    )
