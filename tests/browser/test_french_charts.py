"""The SVG charts in French, in headless Chromium, over the demo data: Today's overdue ages, an
importer's billed-vs-declared and security charts, a reconciliation run's amounts by status.

French writes amounts with decimal commas; a chart whose coordinates went through the locale
("186,0") drew nothing and filled the console with errors. Each chart is checked against its own
table of figures (the text alternative, read back from the French amounts): one bar with a
positive size for each non-zero figure, and the bars' sizes in proportion to the figures.
Screenshots go to var/screenshots/french-*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from carm_portal.demo.seed import DEMO_DOMAIN, DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo
from clients.models import Importer
from statements.models import ReconciliationRun
from tests.browser.helpers import BROWSER_MARKS, console_errors, shoot, sign_in
from tests.mfa import totp_code

pytestmark = BROWSER_MARKS

# What each chart draws per row of its table, and which of the row's cells are the figures.
BARS = """(figure) => [...figure.querySelectorAll("svg rect")].map((r) => {
  const box = r.getBBox();
  return [box.width, box.height];
})"""


def french_amount(text: str) -> Decimal:
    """``−1 234,56 $`` → Decimal("-1234.56"): read as a French reader would."""
    cleaned = re.sub(r"[^0-9,\u2212-]", "", text).replace("\u2212", "-").replace(",", ".")
    try:
        return Decimal(cleaned)
    except ArithmeticError:
        raise AssertionError(f"not an amount in French: {text!r}") from None


def figures(figure: Locator, column: int) -> list[Decimal]:
    cells = figure.locator("details table tbody tr").all()
    return [french_amount(row.locator("td").nth(column).text_content() or "") for row in cells]


def check_chart(figure: Locator, amounts: list[Decimal], *, size: int) -> None:
    """One drawn bar per non-zero amount, in the table's order, its ``size`` (0 width, 1 height)
    in proportion to the amount's size."""
    bars = figure.evaluate(BARS)
    drawn = [b for b in bars if b[0] > 0 and b[1] > 0]
    wanted = [abs(a) for a in amounts if a]
    assert wanted, "the chart has no figure to draw"
    assert len(drawn) == len(wanted), (bars, amounts)
    biggest_bar = max(b[size] for b in drawn)
    biggest = max(wanted)
    for bar, amount in zip(drawn, wanted, strict=True):
        share = float(amount / biggest)
        assert abs(bar[size] / biggest_bar - share) < 0.03, (bar, amount, biggest)


@pytest.fixture
def demo():
    seed_demo()


def test_charts_draw_in_french_without_console_errors(page: Page, live_server, demo):
    errors = console_errors(page)
    sign_in(
        page,
        live_server.url,
        f"finance@{DEMO_DOMAIN}",
        DEMO_PASSWORD,
        totp=totp_code(DEMO_TOTP_SECRET),
    )
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # Today: overdue payments and open exceptions by age, a bar per age band, widths in
    # proportion.
    expect(page.get_by_role("heading", name="Aujourd'hui", level=1)).to_be_visible()
    ages = page.locator("figure.recon-chart")
    expect(ages).to_have_count(2)
    for age in ages.all():
        check_chart(age, figures(age, 2), size=0)
    shoot(page, "french-today")

    # An importer's page: the security chart (a bar per statement, heights in proportion) and
    # billed vs declared (two bars a month).
    importer = (
        Importer.objects.filter(
            program_accounts__statements__isnull=False,
            program_accounts__securities__isnull=False,
        )
        .distinct()
        .order_by("legal_name")
        .first()
    )
    assert importer is not None
    page.goto(live_server.url + importer.get_absolute_url())
    security = page.locator("figure.pay-chart").first
    check_chart(security, figures(security, 1), size=1)
    billed = page.locator("figure.recon-chart", has=page.locator("svg[aria-labelledby^=billed]"))
    rows = billed.locator("details table tbody tr").all()
    monthly = [
        french_amount(row.locator("td").nth(n).text_content() or "") for row in rows for n in (1, 2)
    ]
    check_chart(billed, monthly, size=1)
    shoot(page, "french-importer")

    # A reconciliation run: amounts by status, every non-empty status drawn.
    run = ReconciliationRun.objects.filter(is_current=True).order_by("-exception_count").first()
    assert run is not None and run.exception_count > 0
    page.goto(live_server.url + run.get_absolute_url())
    expect(page.get_by_role("heading", name=re.compile("Rapprochement"), level=1)).to_be_visible()
    status = page.locator("figure.recon-chart").first
    # The difference column when the bar draws the difference, else the amount.
    drawn = []
    for row in status.locator("details table tbody tr").all():
        cells = [(c.text_content() or "").strip() for c in row.locator("td").all()]
        drawn.append(french_amount(cells[3] if cells[3] != "—" else cells[2]))
    check_chart(status, drawn, size=0)
    shoot(page, "french-run")

    assert errors == []
