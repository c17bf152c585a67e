"""Numbers for inline SVG charts: coordinates and axes that never pass through the locale.

A French page formats ``Decimal("186.0")`` as ``186,0``, which SVG reads as two numbers (or none):
the bars vanish and the browser logs an error per attribute. Every coordinate a chart template
writes is therefore a plain string made here (``coord``), and the axis of every chart comes from
``axis`` so its ticks are round amounts ($5,000, not $27,750) with the bars given the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PX = Decimal("0.1")

#: Font size of every chart label, in SVG units; the charts are drawn 640 wide and shown no wider,
#: so a label is never smaller than this many CSS pixels on a desktop page.
LABEL_PX = 13


def coord(value: Decimal | int) -> str:
    """A coordinate as SVG reads it: ``186``, ``186.5``, ``-4.2`` (dot, no grouping, no exponent)."""
    number = Decimal(value).quantize(PX, rounding=ROUND_HALF_UP)
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    text = format(number, "f")
    return "0" if text in ("-0", "-0.0") else text


def nice_step(span: Decimal, intervals: int = 4) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) so that ``intervals`` steps cover ``span``."""
    if span <= 0:
        return Decimal(25)
    raw = span / intervals
    magnitude = Decimal(10) ** (raw.adjusted())
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if raw <= magnitude * factor:
            return magnitude * factor
    return magnitude * 10  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class Axis:
    """A value axis from ``low`` (0 or a round negative) to ``high``, mapped onto ``start``..``end``
    (pixels; ``start`` is where ``low`` lands, so a vertical axis passes its bottom as ``start``)."""

    low: Decimal
    high: Decimal
    step: Decimal
    start: Decimal
    end: Decimal

    def at(self, value: Decimal) -> Decimal:
        """Where ``value`` lands, clipped to the axis."""
        value = min(max(Decimal(value), self.low), self.high)
        return self.start + (self.end - self.start) * (value - self.low) / (self.high - self.low)

    @property
    def zero(self) -> Decimal:
        return self.at(Decimal(0))

    def ticks(self) -> list[Decimal]:
        values, value = [], self.low
        while value <= self.high:
            values.append(value)
            value += self.step
        return values

    def length(self, value: Decimal) -> Decimal:
        """The distance from zero to ``value`` (always positive)."""
        return abs(self.at(value) - self.zero)

    def contains(self, value: Decimal) -> bool:
        return self.low <= value <= self.high


def axis(
    values: list[Decimal], *, start: int | Decimal, end: int | Decimal, intervals: int = 4
) -> Axis:
    """The axis that fits ``values`` (zero always included) with round ticks."""
    high = max([Decimal(0), *values])
    low = min([Decimal(0), *values])
    step = nice_step(high - low, intervals)
    top = _round_up(high, step) if high > 0 else Decimal(0)
    bottom = -_round_up(-low, step) if low < 0 else Decimal(0)
    if top == bottom:
        top = step * intervals
    return Axis(low=bottom, high=top, step=step, start=Decimal(start), end=Decimal(end))


def _round_up(value: Decimal, step: Decimal) -> Decimal:
    steps = (value / step).to_integral_value(rounding="ROUND_CEILING")
    return steps * step
