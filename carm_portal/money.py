"""Money in cents: Decimal with two places, never a float, sums exact on every database.

PostgreSQL sums ``NUMERIC`` exactly, but SQLite keeps decimals as floating point and its ``SUM``
can drift by a fraction of a cent. Sums here are taken over amounts rounded to whole cents
(``ROUND(amount * 100)``), which both databases add exactly, and turned back into Decimals.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import DecimalField, F, Sum
from django.db.models.functions import Coalesce, Round

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_CENTS = DecimalField(max_digits=20, decimal_places=0)


def cents(field: str) -> Round:
    """An expression: ``field`` (a money column) in whole cents."""
    return Round(F(field) * 100, output_field=_CENTS)


def sum_cents(field: str, **kwargs: Any) -> Coalesce:
    """``SUM`` of ``field`` in whole cents, 0 when there is nothing to add."""
    return Coalesce(
        Sum(cents(field), output_field=_CENTS, **kwargs), Decimal(0), output_field=_CENTS
    )


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


def format_money(value: Decimal | None) -> str:
    """``$12,345.67`` (``-$5.00`` for a negative amount)."""
    if value is None:
        return "—"
    value = to_money(value)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"
