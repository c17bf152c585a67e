"""On a phone, an importer's BAM searches from the header with the keyboard, opens the deadline
calendar and the inbox; no page scrolls sideways. Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from carm_portal import stored_text as later
from carm_portal.calendar import cbsa_today
from carm_portal.notification_models import Delivery, Kind, Notification
from clients.models import Membership
from tests.browser.helpers import BROWSER_MARKS, shoot
from tests.factories import (
    DEFAULT_PASSWORD,
    DelegationFactory,
    ImporterFactory,
    MembershipFactory,
    PaymentFactory,
    ProgramAccountFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def dana():
    importer = ImporterFactory(legal_name="Maple Leaf Provisions Inc.")
    account = ProgramAccountFactory(importer=importer)
    today = cbsa_today()
    StatementFactory(
        program_account=account,
        statement_date=today - dt.timedelta(days=5),
        due_date=today + dt.timedelta(days=1) if today.day < 28 else today,
        closing_balance=812,
    )
    DelegationFactory(importer=importer, expiry_date=today)
    PaymentFactory(program_account=account, reference="MAPLE-CONF-001")
    ImporterFactory(legal_name="Maple Syrup Rivals Ltd.")  # another importer: never found
    user = UserFactory(email="dana@maple.example.com", full_name="Dana Whitfield")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    MembershipFactory(user=user, importer=importer, role=Membership.Role.BAM)
    Notification.objects.create(
        recipient=user,
        kind=Kind.RENEWAL_REQUEST,
        key="renewal:1",
        text=later.gettext("Please renew the delegation."),
        url="/delegations/",
        delivery=Delivery.IMMEDIATELY,
    )
    return user


def no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )
    assert wide == []


def test_header_tools_on_a_phone(page: Page, live_server, dana):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(dana.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # On a phone the header's tools sit in the folded menu; its button shows the unread count
    # while folded. Open it, then the unread badge and search with the keyboard only.
    toggle = page.locator("label[for=site-menu-toggle]")
    expect(toggle).to_have_text(re.compile(r"Menu\s+1\s+unread"))
    expect(page.get_by_role("link", name="Notifications 1 unread")).to_be_hidden()
    toggle.click()
    expect(page.get_by_role("link", name="Notifications 1 unread")).to_be_visible()
    box = page.get_by_role(
        "searchbox", name="Search importers, accounts, transactions, payments and people"
    )
    box.fill("maple")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Importers (1)")).to_be_visible()
    expect(page.get_by_role("link", name="Maple Leaf Provisions Inc.")).to_be_visible()
    expect(page.get_by_role("link", name="MAPLE-CONF-001")).to_be_visible()
    expect(page.get_by_text("Maple Syrup Rivals")).to_have_count(0)
    no_sideways_scroll(page)
    shoot(page, "header-search-phone")

    page.locator("label[for=site-menu-toggle]").click()  # each page opens with the menu folded
    page.get_by_role("link", name="Calendar").click()
    expect(page.locator('[aria-current="date"]')).to_be_visible()
    expect(
        page.get_by_text("Delegation expires (last day): Maple Leaf Provisions Inc.")
    ).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, "calendar-phone")
    page.get_by_role("button", name="Create my calendar address").click()
    expect(page.get_by_label("Your calendar address")).to_have_value(
        re.compile(r"/calendar/feed/.+\.ics$")
    )

    page.locator("label[for=site-menu-toggle]").click()
    page.get_by_role("link", name="Notifications 1 unread").click()
    page.get_by_role("link", name="Please renew the delegation.").click()
    expect(page).to_have_url(f"{live_server.url}/delegations/")
    page.locator("label[for=site-menu-toggle]").click()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    shoot(page, "inbox-after-phone")
