"""How much financial security CBSA requires per RM program account, and whether it is posted.

CBSA's rule for CARM financial security (issue 6): the highest monthly total owed (GST included)
over the 12 months before the date — the largest sum of the charge lines (CAD, adjustment,
interest, penalty and miscellaneous; payments and credits excluded) of one statement issued in that
window — times 50 % for a surety bond or 100 % for a cash deposit, rounded up to the cent, at
least $5,000 and at most $10,000,000. An account with no statement in the window needs the minimum.

The window is the 12 months before ``on_date``: statements issued from the same day a year
earlier (included) up to ``on_date`` (excluded).

``required_security`` answers for one account (the contract); ``peaks_for_accounts`` loads the
peaks of many accounts in one grouped query for the daily check, with the same arithmetic.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from carm_portal.money import ZERO, ceil_cents, from_cents, sum_cents
from clients.models import ProgramAccount
from payments.rules import CASH_DEPOSIT, SURETY_BOND
from statements.models import StatementLine

MINIMUM = Decimal("5000.00")
MAXIMUM = Decimal("10000000.00")
FACTORS = {SURETY_BOND: Decimal("0.5"), CASH_DEPOSIT: Decimal("1")}
KINDS = tuple(FACTORS)
CHARGE_TYPES = (
    StatementLine.LineType.CAD,
    StatementLine.LineType.ADJUSTMENT,
    StatementLine.LineType.INTEREST,
    StatementLine.LineType.PENALTY,
    StatementLine.LineType.MISC,
)
WINDOW_MONTHS = 12


def window_start(on_date: dt.date, months: int = WINDOW_MONTHS) -> dt.date:
    """The same day ``months`` months earlier (29 February falls back to the 28th)."""
    year, month = divmod(on_date.year * 12 + on_date.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(on_date.day, last_day))


def requirement_from_peak(peak: Decimal | None, kind: str) -> Decimal:
    """The required amount for a highest monthly total (``None``: no history)."""
    if kind not in FACTORS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    if peak is None or peak <= ZERO:
        return MINIMUM
    return min(max(ceil_cents(peak * FACTORS[kind]), MINIMUM), MAXIMUM)


def _charges_in_window(on_date: dt.date):
    return StatementLine.objects.filter(
        line_type__in=CHARGE_TYPES,
        statement__statement_date__gte=window_start(on_date),
        statement__statement_date__lt=on_date,
    )


def highest_monthly_total(
    *, program_account: ProgramAccount | int, on_date: dt.date
) -> Decimal | None:
    """The largest total of charge lines on one statement issued in the window (None: none)."""
    account_id = program_account if isinstance(program_account, int) else program_account.pk
    top = (
        _charges_in_window(on_date)
        .filter(statement__program_account_id=account_id)
        .values("statement_id")
        .annotate(total=sum_cents("amount"))
        .order_by("-total")
        .values_list("total", flat=True)[:1]
    )
    totals = list(top)
    return from_cents(totals[0]) if totals else None


def required_security(*, program_account: ProgramAccount, kind: str, on_date: dt.date) -> Decimal:
    """The security CBSA requires for ``program_account`` as a ``kind`` on ``on_date``.

    ``kind`` is ``"surety_bond"`` (50 %) or ``"cash_deposit"`` (100 %).
    """
    if kind not in FACTORS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    return requirement_from_peak(
        highest_monthly_total(program_account=program_account, on_date=on_date), kind
    )


def peaks_for_accounts(
    account_ids: Collection[int] | None, *, on_date: dt.date
) -> dict[int, Decimal]:
    """account id -> highest monthly total in the window (accounts without history are absent)."""
    lines = _charges_in_window(on_date)
    if account_ids is not None:
        lines = lines.filter(statement__program_account_id__in=account_ids)
    peaks: dict[int, Decimal] = {}
    rows = (
        lines.values("statement__program_account_id", "statement_id")
        .annotate(total=sum_cents("amount"))
        .values_list("statement__program_account_id", "total")
        .order_by()
    )
    # Fetched whole, not through a server-side cursor: PostgreSQL plans a cursor for its first
    # rows, and with stale statistics that turned this 0.1 s aggregate into a nested loop of 20 s.
    for account_id, total in rows:
        value = from_cents(total)
        if account_id not in peaks or value > peaks[account_id]:
            peaks[account_id] = value
    return peaks


def requirements(peak: Decimal | None) -> dict[str, Decimal]:
    """kind -> required amount, for both kinds."""
    return {kind: requirement_from_peak(peak, kind) for kind in KINDS}


@dataclass(frozen=True)
class Month:
    """One statement's total owed, for the chart on the importer page."""

    statement_id: int
    statement_date: dt.date
    total: Decimal


def monthly_totals(
    account_ids: Collection[int], *, on_date: dt.date, months: int = WINDOW_MONTHS
) -> dict[int, list[Month]]:
    """account id -> the charge totals of its statements issued in the window, oldest first."""
    rows = (
        StatementLine.objects.filter(
            line_type__in=CHARGE_TYPES,
            statement__program_account_id__in=account_ids,
            statement__statement_date__gte=window_start(on_date, months),
            statement__statement_date__lt=on_date,
        )
        .values("statement__program_account_id", "statement_id", "statement__statement_date")
        .annotate(total=sum_cents("amount"))
        .values_list(
            "statement__program_account_id", "statement_id", "statement__statement_date", "total"
        )
        .order_by("statement__statement_date", "statement_id")
    )
    result: dict[int, list[Month]] = {account_id: [] for account_id in account_ids}
    for account_id, statement_id, day, total in rows:
        result[account_id].append(Month(statement_id, day, from_cents(total)))
    return result


def peaks_of(months: Mapping[int, Sequence[Month]]) -> dict[int, Decimal]:
    """account id -> its highest month, from ``monthly_totals`` over the default window.

    The same figure as ``peaks_for_accounts`` (the same lines, window and per-statement sums),
    so a page that draws the months (the importer page's security chart) takes the peak from
    them instead of running the aggregate a second time. Accounts with no month are absent.
    """
    return {
        account_id: max(month.total for month in rows)
        for account_id, rows in months.items()
        if rows
    }


def coverage_line(posted: dict[str, Decimal]) -> Decimal:
    """The highest monthly total the securities posted would satisfy (bond x 2 + cash x 1).

    Past $5,000 x 2 (the minimum) this is what the chart draws against the months owed. The
    requirement's floor and ceiling still apply: the chart also shows the minimum.
    """
    return sum((amount / FACTORS[kind] for kind, amount in posted.items()), ZERO)
