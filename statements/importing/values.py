"""The values a file may hold, and why a value is refused: amounts, dates, transaction numbers.

Shared by both importers' row-by-row checks and, as regular expressions over a whole column, by
their block checks (``base.Import.block_money``, the importers' ``block_taker``), so that the two
accept exactly the same values.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import TypeVar

from django.utils.translation import gettext as _

MAX_REFERENCE = 64


ZERO = Decimal("0.00")
_AMOUNT = r"-?[0-9]{1,12}(?:\.[0-9]{1,2})?"  # ASCII digits only (\d takes any script's)
_AMOUNT_RE = re.compile(_AMOUNT)
AMOUNTS_RE = re.compile(rf"{_AMOUNT}(?:\|{_AMOUNT})*")  # several amounts joined by "|"
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The block checks (StatementImport.block_taker): a column's values joined by newlines.
OPTIONAL_AMOUNTS_RE = re.compile(rf"(?:{_AMOUNT})?(?:\n(?:{_AMOUNT})?)*")
TRANSACTIONS_RE = re.compile(r"(?:[0-9]{14})?(?:\n(?:[0-9]{14})?)*")
REQUIRED_TRANSACTIONS_RE = re.compile(r"[0-9]{14}(?:\n[0-9]{14})*")
ZERO_IF_BLANK = {"": "0"}
_IDENT_SEPARATORS = re.compile(r"[\s\-]+")


def amount_problem(value: str) -> str:
    """Why ``value`` is not an amount we accept (it is known not to match the pattern)."""
    if "$" in value:
        return _("No currency sign: write the number alone, e.g. 1431.03.")
    if "," in value:
        return _("No thousands separator or decimal comma: write 1431.03, not 1,431.03.")
    if re.fullmatch(r"-?\d+\.\d{3,}", value):
        return _("At most 2 decimal places (cents).")
    if re.fullmatch(r"-?\d{13,}(?:\.\d*)?", value):
        return _("Too large: at most 12 digits before the decimal point.")
    return _("Not an amount: expected digits with at most 2 decimals, e.g. 1431.03 or -12.40.")


def parse_amount(value: str) -> Decimal:
    """``"1431.03"`` -> ``Decimal("1431.03")``; raises ``ValueError`` with the reason otherwise."""
    if not _AMOUNT_RE.fullmatch(value):
        raise ValueError(amount_problem(value))
    return Decimal(value)


def parse_date(value: str) -> dt.date:
    if not _DATE_RE.fullmatch(value):
        raise ValueError(_("Expected a date as YYYY-MM-DD, e.g. 2025-06-25."))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        year, month, _day = (int(p) for p in value.split("-"))
        if 1 <= month <= 12:
            last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
            raise ValueError(
                _("%(value)s is not a date: %(month)s has %(days)d days.")
                % {
                    "value": value,
                    "month": f"{year:04d}-{month:02d}",  # ISO: the same in both languages
                    "days": last,
                }
            ) from None
        raise ValueError(
            _("%(value)s is not a date: there is no month %(month)d.")
            % {"value": value, "month": month}
        ) from None


def parse_transaction_number(value: str) -> str:
    number = _IDENT_SEPARATORS.sub("", value)
    if not number.isdigit() or not number.isascii():
        raise ValueError(_("A transaction number has 14 digits and nothing else."))
    if len(number) != 14:
        raise ValueError(
            _("A transaction number has 14 digits; this one has %(n)d.") % {"n": len(number)}
        )
    return number


V = TypeVar("V")


class Cache(dict):
    """Parsed values by their text (dates, accounts and types repeat across rows), kept small."""

    LIMIT = 50_000

    def remember(self, key: str, value: V) -> V:
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = value
        return value


class Bad:
    """A cached parse failure."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason
