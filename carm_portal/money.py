"""Money in cents: Decimal with two places, never a float, sums exact on every database.

PostgreSQL sums ``NUMERIC`` exactly, but SQLite keeps decimals as floating point and its ``SUM``
can drift by a fraction of a cent. Sums here come back in whole cents, on SQLite taken over
amounts rounded to whole cents (``ROUND(amount * 100)``), which it adds exactly, and are turned
back into Decimals.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Coalesce, Round
from django.utils.translation import get_language

CENT = Decimal("0.01")
MINUS = "\u2212"  # the minus sign of every negative amount people read
ZERO = Decimal("0.00")
_CENTS: DecimalField = DecimalField(max_digits=20, decimal_places=0)


def cents(field: str) -> Round:
    """An expression: ``field`` (a money column) in whole cents."""
    return Round(F(field) * 100, output_field=_CENTS)


def sum_cents(field: str, **kwargs: Any) -> Coalesce:
    """``SUM`` of ``field`` in whole cents, 0 when there is nothing to add.

    Only SQLite needs each amount rounded to cents before adding; PostgreSQL adds ``NUMERIC``
    exactly, so there the sum is taken first and turned into cents once (a quarter less time
    for the Today view's sums over 40,000 open exceptions or 50,000 balances)."""
    total: Any
    if connection.vendor == "postgresql":
        total = ExpressionWrapper(Sum(F(field), **kwargs) * 100, output_field=_CENTS)
    else:
        total = Sum(cents(field), output_field=_CENTS, **kwargs)
    return Coalesce(total, Decimal(0), output_field=_CENTS)


def from_cents(value: Any) -> Decimal:
    """A database sum of cents back to dollars (exact: the sum is a whole number)."""
    return (Decimal(round(value or 0)) / 100).quantize(CENT)


def to_money(value: Any) -> Decimal:
    """Any amount as a Decimal with two places (half up), refusing floats."""
    if isinstance(value, float):
        raise TypeError("Money is never a float: pass a Decimal, an int or a string.")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ceil_cents(value: Decimal) -> Decimal:
    """Rounded up to the cent (for amounts CBSA requires: never a cent short)."""
    return value.quantize(CENT, rounding=ROUND_CEILING)


# How each language writes an amount of Canadian dollars: English ``−$1,234.56``, Canadian French
# ``−1 234,56 $`` (a true minus sign, U+2212, never lost as a hyphen at a line end; no-break
# spaces, so an amount never wraps; the same thousands separator as Django's own French number
# format, so amounts and counts on a page agree).
_STYLES: dict[str, tuple[str, str, str, str]] = {
    # language: (thousands separator, decimal separator, before the digits, after the digits)
    "en": (",", ".", "$", ""),
    "fr": ("\xa0", ",", "", "\xa0$"),
}


def _style() -> tuple[str, str, str, str]:
    """The active language's style; English when none is active (tasks, the shell)."""
    language = (get_language() or "en").lower()
    return _STYLES.get(language.split("-")[0], _STYLES["en"])


def format_money(value: Decimal | int | str | None, *, places: int = 2) -> str:
    """An amount for people, in the active language: ``$12,345.67`` in English, ``12 345,67 $``
    in French (``−$5.00`` and ``−5,00 $`` for a negative amount, with U+2212 MINUS SIGN; ``—``
    for no amount).

    Only for what people read: files other programs read (CSV exports) write plain ``1234.56``.
    ``places=0`` rounds to the dollar (half up), for chart axes.
    """
    if value is None:
        return "—"
    value = to_money(value)
    if places != 2:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    thousands, decimal, before, after = _style()
    digits = f"{abs(value):,.{places}f}".translate({ord(","): thousands, ord("."): decimal})
    sign = MINUS if value < 0 else ""
    return f"{sign}{before}{digits}{after}"


def format_money_whole(value: Decimal | int | str | None) -> str:
    """``$23,000`` / ``23 000 $``: rounded to the dollar, for chart axis labels."""
    return format_money(value, places=0)
