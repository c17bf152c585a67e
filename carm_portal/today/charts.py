"""Ageing charts of the Today view as server-rendered SVG geometry.

Every coordinate is a string made here with a dot for the decimal point: a number handed to a
template would go through the locale, and French writes ``12,5``, which SVG reads as two numbers.
The templates print these strings as they are and show the same figures in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from carm_portal.today.figures import Bucket

WIDTH, LEFT, RIGHT, ROW, BAR, TOP = 640, 150, 130, 30, 20, 6


def coordinate(value: Decimal | int) -> str:
    """A coordinate with one decimal and a dot, whatever the language of the page."""
    return format(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f")


@dataclass(frozen=True)
class Bar:
    bucket: Bucket
    y: str
    width: str
    text_y: str
    value_x: str


@dataclass(frozen=True)
class AgeChart:
    width: int
    height: int
    plot_left: int
    label_x: int
    bar_height: int
    bars: list[Bar]


def age_chart(buckets: Sequence[Bucket]) -> AgeChart:
    """One bar per age band, its length the band's amount against the largest band's."""
    plot = WIDTH - LEFT - RIGHT
    peak = max((b.amount for b in buckets), default=Decimal(0))
    bars = []
    for i, bucket in enumerate(buckets):
        width = Decimal(plot) * bucket.amount / peak if peak > 0 else Decimal(0)
        y = TOP + i * ROW
        bars.append(
            Bar(
                bucket=bucket,
                y=coordinate(y),
                width=coordinate(width),
                text_y=coordinate(Decimal(y) + Decimal(BAR) / 2),
                value_x=coordinate(LEFT + width + 6),
            )
        )
    return AgeChart(
        width=WIDTH,
        height=TOP * 2 + ROW * len(buckets),
        plot_left=LEFT,
        label_x=LEFT - 8,
        bar_height=BAR,
        bars=bars,
    )
