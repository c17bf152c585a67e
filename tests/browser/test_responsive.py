"""The layout on a phone (390 px) and a wide screen (1440 px), in headless Chromium, over the demo
data: no page is wider than the screen, the menu collapses and opens (without JavaScript: a
checkbox and its label), the wizard's step list is folded away, and the header is one row on a
wide screen. Screenshots go to var/screenshots/responsive-*.png.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from carm_portal.demo.seed import DEMO_DOMAIN, seed_demo
from carm_portal.models import User
from clients.models import Importer
from tests.browser.helpers import BROWSER_MARKS, shoot

pytestmark = BROWSER_MARKS

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1440, "height": 900}

# What is wider than the screen, for the failure message: the outermost culprits outside a
# scrolling table (an absolutely placed element escapes an unpositioned scroller).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement && el.parentElement.getBoundingClientRect();
    if (box.right > width + 1 && (!parent || parent.right <= width + 1)) {
      wide.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(box.right)}px`);
    }
  }
  return wide.slice(0, 8);
}"""


@pytest.fixture
def demo():
    seed_demo()


def sign_in(page: Page, live_server, email: str) -> None:
    """A session of the Django test client, handed to the browser (the login form has its own
    browser test)."""
    client = Client()
    client.force_login(User.objects.get(email=email))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def fits(page: Page, url: str, name: str) -> None:
    page.goto(url)
    shoot(page, f"responsive-{name}")
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{url}: {scroll}px wide on {inner}px: {page.evaluate(OVERFLOW)}"


def menu_opens(page: Page, name: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()  # folded away on a phone
    page.locator("label[for=site-menu-toggle]").click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link").first).to_be_visible()
    shoot(page, f"responsive-{name}-menu-open")
    page.locator("label[for=site-menu-toggle]").click()
    expect(nav).to_be_hidden()


def header_is_one_row(page: Page) -> None:
    expect(page.locator("label[for=site-menu-toggle]")).to_be_hidden()  # no "Menu" button
    tops = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              ".site-header__inner > .brand, .site-nav, .user-menu"))
            .map((el) => { const b = el.getBoundingClientRect(); return [b.top, b.bottom]; })"""
    )
    assert len(tops) == 3
    # One row: every part overlaps the brand's band vertically.
    brand_top, brand_bottom = tops[0]
    assert all(top < brand_bottom and bottom > brand_top for top, bottom in tops[1:]), tops


def test_an_agent_on_a_phone_and_a_wide_screen(page: Page, live_server, demo):
    sign_in(page, live_server, f"agent@{DEMO_DOMAIN}")
    bow = Importer.objects.get(legal_name__startswith="Bow River")
    pages = {
        "agent-dashboard": reverse("home"),
        "agent-clients": reverse("clients:importer_list"),
        "agent-importer": bow.get_absolute_url(),
        "agent-delegations": reverse("delegation:list"),
        "agent-statements": reverse("statements:list"),
        "agent-reconciliation": reverse("statements:worklist"),
        "agent-payments": reverse("payments:list"),
        "agent-wizard": reverse("onboarding:step", args=[bow.pk, "broker-access"]),
    }
    page.set_viewport_size(PHONE)
    for name, path in pages.items():
        fits(page, live_server.url + path, name)
    page.goto(live_server.url + reverse("statements:worklist"))
    menu_opens(page, "agent")

    page.set_viewport_size(WIDE)
    for name in ("agent-dashboard", "agent-reconciliation"):
        page.goto(live_server.url + pages[name])
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        header_is_one_row(page)
        shoot(page, f"responsive-{name}-wide")

    # The worklist's "tick all" box, enhanced by static/js/tick-all.js: it ticks every row, and
    # shows "some" once one row is unticked.
    rows = page.locator('input[name="bulk-items"]')
    assert rows.count() > 1
    page.locator("#bulk-all").check()
    for n in range(rows.count()):
        expect(rows.nth(n)).to_be_checked()
    rows.first.uncheck()
    assert page.locator("#bulk-all").evaluate("(box) => [box.checked, box.indeterminate]") == [
        False,
        True,
    ]


def test_a_bam_on_a_phone(page: Page, live_server, demo):
    sign_in(page, live_server, f"bam.bowriver@{DEMO_DOMAIN}")
    bow = Importer.objects.get(legal_name__startswith="Bow River")
    page.set_viewport_size(PHONE)
    for name, path in {
        "bam-home": reverse("home"),
        "bam-delegations": reverse("delegation:list"),
        "bam-statements": reverse("statements:list"),
        "bam-payments": reverse("payments:list"),
        "bam-wizard": reverse("onboarding:step", args=[bow.pk, "business"]),
    }.items():
        fits(page, live_server.url + path, name)
    menu_opens(page, "bam")

    # The wizard's step list is folded on a phone: the step's own heading comes first.
    steps = page.get_by_role("navigation", name="Onboarding steps")
    expect(steps.get_by_role("link", name="Financial security")).to_be_hidden()
    page.locator("label[for=wizard-steps-toggle]").click()
    expect(steps.get_by_role("link").first).to_be_visible()
    shoot(page, "responsive-bam-wizard-steps-open")

    page.set_viewport_size(WIDE)
    page.goto(live_server.url + reverse("home"))
    header_is_one_row(page)
    shoot(page, "responsive-bam-home-wide")
