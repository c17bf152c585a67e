"""The readiness history as a column chart: one column per check, its height the score (0-100 %).

A line of numbers says little about a trend; the columns show at a glance whether the importer is
getting ready. Every coordinate is a string from ``carm_portal.svg.coord`` (a dot, whatever the
page's language); the template shows the same figures in a table for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from carm_portal.svg import coord
from services.models import ReadinessCheck

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 220, 48, 12, 12, 36
MAX_COLUMNS = 8  # a date label (Y-m-d) each, without overlapping at 640 wide
TICKS = (0, 25, 50, 75, 100)


@dataclass(frozen=True)
class Column:
    check: ReadinessCheck
    x: str
    y: str
    width: str
    height: str
    label_x: str
    value_y: str


@dataclass(frozen=True)
class Tick:
    value: int
    y: str


@dataclass(frozen=True)
class ScoreChart:
    width: int
    height: int
    left: int
    right: int
    label_y: str
    columns: list[Column]
    ticks: list[Tick]


def _y(score: Decimal) -> Decimal:
    plot = Decimal(HEIGHT - TOP - BOTTOM)
    return Decimal(TOP) + plot - plot * min(max(score, Decimal(0)), Decimal(100)) / 100


def score_chart(checks: Sequence[ReadinessCheck]) -> ScoreChart | None:
    """The chart of ``checks`` (newest first, as listed), oldest on the left; None for fewer
    than two checks (one column is just a number)."""
    shown = list(checks[:MAX_COLUMNS])[::-1]
    if len(shown) < 2:
        return None
    slot = Decimal(WIDTH - LEFT - RIGHT) / len(shown)
    bar = slot * Decimal("0.6")
    columns = []
    for i, check in enumerate(shown):
        x = Decimal(LEFT) + slot * i + (slot - bar) / 2
        top = _y(check.score)
        columns.append(
            Column(
                check=check,
                x=coord(x),
                y=coord(top),
                width=coord(bar),
                height=coord(_y(Decimal(0)) - top),
                label_x=coord(x + bar / 2),
                value_y=coord(top - 4),
            )
        )
    return ScoreChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        label_y=coord(HEIGHT - BOTTOM + 18),
        columns=columns,
        ticks=[Tick(value=t, y=coord(_y(Decimal(t)))) for t in TICKS],
    )
