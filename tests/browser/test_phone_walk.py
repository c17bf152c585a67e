"""An importer's BAM on a phone (390 px), in headless Chromium, over the demo data: signs in and
goes from page to page only through the folded menu, opens a statement and a payment from their
lists, and on every page the menu starts folded, the page's heading is in view and nothing
scrolls sideways. Screenshots go to var/screenshots/phone-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from carm_portal.demo.seed import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from clients.models import Membership
from tests.browser.helpers import BROWSER_MARKS, console_errors, page_width, shoot, sign_in

pytestmark = BROWSER_MARKS

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo():
    seed_demo()


def fits(page: Page, name: str) -> None:
    """No sideways scroll; the menu folded; the page's heading on the first screen."""
    shoot(page, f"phone-{name}")
    scroll, inner = page_width(page)
    assert scroll <= inner, f"{name}: {scroll}px wide on a {inner}px screen"
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    heading = page.locator("main h1").first
    expect(heading).to_be_in_viewport()


def go(page: Page, link: str) -> None:
    """Open the folded menu and follow one of its links."""
    page.locator("label[for=site-menu-toggle]").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    nav.get_by_role("link", name=link, exact=True).click()


def test_a_bam_walks_her_pages_on_a_phone(page: Page, live_server, demo):
    errors = console_errors(page)
    page.set_viewport_size(PHONE)
    email = f"bam.rideau@{DEMO_DOMAIN}"  # Rideau Office Interiors: onboarded, billed, paying
    importer = Membership.objects.get(user__email=email).importer
    sign_in(page, live_server.url, email, DEMO_PASSWORD)
    expect(page.locator("main h1").first).to_contain_text(importer.legal_name)
    fits(page, "bam-home")

    go(page, "Delegations")
    expect(page.get_by_role("heading", name="Delegations", level=1)).to_be_visible()
    expect(page.locator("table.table tbody tr").first).to_contain_text(importer.legal_name)
    fits(page, "bam-delegations")

    go(page, "Statements")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Statements")
    fits(page, "bam-statements")
    statement = importer.program_accounts.first().statements.order_by("-statement_date").first()
    page.get_by_role("link", name=statement.statement_date.isoformat()).first.click()
    expect(page).to_have_url(live_server.url + statement.get_absolute_url())
    fits(page, "bam-statement")

    go(page, "Payments")
    expect(page.get_by_role("heading", name="Payments", level=1)).to_be_visible()
    fits(page, "bam-payments")
    payment = importer.payments.order_by("-paid_on", "-pk").first()
    assert payment is not None
    page.locator(f'a[href="{payment.get_absolute_url()}"]').first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payment of")
    fits(page, "bam-payment")

    go(page, "Compliance")
    fits(page, "bam-compliance")

    go(page, "Home")
    expect(page.locator("main h1").first).to_contain_text(importer.legal_name)
    assert errors == []
