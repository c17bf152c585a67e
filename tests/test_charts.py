"""The SVG charts: coordinates no locale touches, axes that fit the data, bars that measure what
the chart says (the difference of "Amount mismatch", negative totals to the left of zero), labels
big enough to read, and each chart's table alternative.

The French rendering tests are the ones that caught the bug: Django wrote ``Decimal("186.0")`` as
``186,0`` in a French page, and the browser drew no bar at all.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from carm_portal.svg import axis, coord, nice_step
from payments.security import Month
from payments.selectors import build_chart
from statements import charts
from statements.reports import StatusTotal, Summary
from tests.factories import BrokerEntryFactory, StatementFactory, StatementLineFactory

D = Decimal
NUMERIC_ATTRIBUTES = ("x", "y", "x1", "x2", "y1", "y2", "dx", "dy", "width", "height", "viewBox")


def numeric_attributes(html: str) -> list[tuple[str, str]]:
    """Every numeric attribute of the SVG elements in ``html``."""
    found = []
    for svg in re.findall(r"<svg\b.*?</svg>", html, re.S):
        for name, value in re.findall(r'\s([A-Za-z0-9]+)="([^"]*)"', svg):
            if name in NUMERIC_ATTRIBUTES:
                found.append((name, value))
    return found


def assert_plain_numbers(html: str) -> None:
    attributes = numeric_attributes(html)
    assert attributes, "no SVG in the page"
    bad = [(n, v) for n, v in attributes if not re.fullmatch(r"-?\d+(\.\d+)?( -?\d+(\.\d+)?)*", v)]
    assert not bad, f"SVG attributes a browser cannot read: {bad[:10]}"


@pytest.fixture
def french():
    with translation.override("fr"):
        yield


# --- carm_portal.svg -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("186.0"), "186"),
        (D("186.25"), "186.3"),
        (D("-4.24"), "-4.2"),
        (D("-0.04"), "0"),
        (D("1234567.891"), "1234567.9"),
        (12, "12"),
    ],
)
def test_coordinates_are_plain_numbers(value, expected):
    assert coord(value) == expected
    with translation.override("fr"):
        assert coord(value) == expected


@pytest.mark.parametrize(
    ("span", "step"),
    [(D("111000"), D("50000")), (D("12524.90"), D("5000")), (D("400"), D("100")), (D(9), D("2.5"))],
)
def test_axis_steps_are_round(span, step):
    assert nice_step(span) == step


def test_an_axis_fits_the_values_and_keeps_zero():
    scale = axis([D("12524.90"), D("3000")], start=200, end=20)
    assert (scale.low, scale.high, scale.step) == (0, D("15000"), D("5000"))
    assert scale.ticks() == [0, D("5000"), D("10000"), D("15000")]
    assert scale.at(D(0)) == 200 and scale.at(D("15000")) == 20
    assert scale.at(D("99999")) == 20  # clipped

    mixed = axis([D("-1408.65"), D("400.61")], start=0, end=400)
    assert mixed.low == D("-1500") and mixed.high == D("500")
    assert mixed.zero == 300


# --- The security chart ---------------------------------------------------------------------------


def months(*totals: str) -> list[Month]:
    return [
        Month(statement_id=i, statement_date=dt.date(2026, i + 1, 25), total=D(t))
        for i, t in enumerate(totals)
    ]


def test_a_large_bond_does_not_squeeze_the_bars():
    chart = build_chart(months("12524.90", "9800.00", "11000.00"), D("111000.00"))

    assert chart.top == D("15000")  # the bars' scale, not the bond's $111,000
    assert [value for value, _y in chart.ticks] == [0, D("5000"), D("10000"), D("15000")]
    assert chart.line_y is None and chart.coverage_above
    tallest = max(D(bar.height) for bar in chart.bars)
    assert tallest > D(chart.plot_bottom) * D("0.7")

    html = render_to_string(
        "payments/_security_chart.html",
        {"chart": chart, "position": None, "account": {"pk": 1, "bn15": "123456789RM0001"}},
    )
    assert "Covered up to $111,000.00: above every month" in html
    assert 'class="pay-chart__line"' not in html


def test_a_coverage_within_reach_is_drawn_as_a_line():
    chart = build_chart(months("12000.00", "9000.00"), D("13000.00"))
    assert chart.line_y is not None and not chart.coverage_above
    assert chart.top >= D("13000")
    assert chart.months_over == 0

    low = build_chart(months("12000.00", "9000.00"), D("10000.00"))
    assert low.months_over == 1
    assert D(low.line_y) > D(low.ticks[-1][1])  # below the top of the plot


def test_the_security_chart_in_french_has_plain_coordinates(french):
    chart = build_chart(months("12524.90", "1.33", "7777.77"), D("9000.00"))
    html = render_to_string(
        "payments/_security_chart.html",
        {"chart": chart, "position": None, "account": {"pk": 1, "bn15": "123456789RM0001"}},
    )
    assert_plain_numbers(html)
    assert "12\xa0524,90\xa0$" in html  # the figures table stays French


# --- Amounts by status ----------------------------------------------------------------------------


def summary() -> Summary:
    return Summary(
        rows=[
            StatusTotal(code="matched", count=40, statement_total=D("15435.94")),
            StatusTotal(
                code="amount_mismatch",
                count=1,
                statement_total=D("400.61"),
                entry_total=D("400.34"),
                difference_total=D("0.27"),
                exception_count=1,
            ),
            StatusTotal(code="posted_by_cbsa", count=2, statement_total=D("-1408.65")),
        ]
    )


def test_amount_mismatch_draws_the_difference_and_negatives_go_left():
    chart = charts.status_chart(summary())
    matched, mismatch, posted = chart.bars

    assert mismatch.amount == D("0.27") and mismatch.full_amount == D("400.61")
    assert mismatch.is_difference and not matched.is_difference
    assert D(mismatch.width) < D(matched.width) / 100
    assert posted.negative and D(posted.x) + D(posted.width) == D(chart.zero_x)
    assert D(posted.width) < D(matched.width)  # -1,408.65 is not drawn as the biggest bar
    assert D(matched.x) == D(chart.zero_x)
    assert posted.value_anchor == "end" and D(posted.value_x) < D(posted.x)


def test_the_status_chart_in_french(french):
    html = render_to_string(
        "statements/_status_chart.html",
        {
            "chart": charts.status_chart(summary()),
            "summary": summary(),
            "run": {"pk": 1},
        },
    )
    assert_plain_numbers(html)
    assert "\u22121\xa0408,65\xa0$" in html
    assert (
        "0,27\xa0$" in html and "400,61\xa0$" in html
    )  # the difference, and in the table the line


# --- Billed vs declared ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_billed_vs_declared_in_french(personas, french):
    account = personas.importer_a.program_accounts.get()
    october = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    StatementLineFactory(statement=october, line_type="CAD", amount=D("12524.93"))
    june = StatementFactory(program_account=account, statement_date=dt.date(2026, 6, 25))
    StatementLineFactory(statement=june, line_type="ADJUSTMENT", amount=D("-1408.65"))
    BrokerEntryFactory(
        program_account=account, transaction_number="12345000000001",
        accounted_on=dt.date(2026, 10, 3), amount=D("12524.66"),
    )  # fmt: skip
    chart = charts.billed_vs_declared(account.importer, today=dt.date(2026, 11, 23))
    assert chart.has_data
    june_bars = next(m for m in chart.months if m.month == dt.date(2026, 6, 1))
    zero_y = next(y for value, y in chart.ticks if value == 0)
    assert june_bars.billed_y == zero_y and D(june_bars.billed_h) > 0  # drawn down from zero
    html = render_to_string(
        "statements/_billed_vs_declared.html",
        {"show": True, "importer": account.importer, "chart": chart},
    )
    assert_plain_numbers(html)
    ticks = [D(value) for value, _y in chart.ticks]
    assert ticks[0] <= 0 and all(t % (ticks[1] - ticks[0]) == 0 for t in ticks)


def test_the_scan_catches_a_localized_coordinate(french):
    """The check above can fail: a Decimal rendered by the template engine in French."""
    from django.template import Context, Template

    html = Template('<svg><rect x="{{ x }}"></rect></svg>').render(Context({"x": D("186.5")}))
    with pytest.raises(AssertionError):
        assert_plain_numbers(html)


# --- Labels big enough to read ----------------------------------------------------------------------


def test_chart_labels_are_at_least_12px():
    css = "".join(
        (Path(settings.BASE_DIR) / "static" / "css" / name).read_text()
        for name in ("app.css", "reconciliation.css")
    )
    sizes = []
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if "chart__" in selectors:
            sizes += [int(s) for s in re.findall(r"font-size:\s*(\d+)px", body)]
    assert sizes, "no chart label sizes found"
    assert min(sizes) >= 12, sizes
