"""Delegations in headless Chromium, as the two people who handle a renewal: the broker's agent
filters the list down to the delegation about to expire and asks for its renewal; the importer's
BAM signs in, sees the request on her home page and confirms it; the agent's list and badges
follow. Screenshots go to var/screenshots/delegations-*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from carm_portal.calendar import cbsa_today
from clients.access import BrokerRole
from clients.models import Membership
from delegation.checks import run_delegation_checks
from delegation.models import Delegation, RenewalRequest
from tests.browser.helpers import BROWSER_MARKS, shoot, sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    DelegationFactory,
    ImporterFactory,
    MembershipFactory,
    UserFactory,
)
from tests.mfa import totp_code

pytestmark = BROWSER_MARKS


def verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def people():
    """Three importers of one agent: one delegation expiring in 10 days (a warning), one expired
    three days ago (blocking), one good for over a year (nothing to say)."""
    today = cbsa_today()
    agent = verified(
        UserFactory(
            email="alex.martin@broker.example.com",
            full_name="Alex Martin",
            roles=[BrokerRole.AGENT],
        )
    )
    bow = ImporterFactory(legal_name="Bow River Foods Ltd.", assigned_agent=agent)
    prairie = ImporterFactory(legal_name="Prairie Grain Exports Ltd.", assigned_agent=agent)
    cedar = ImporterFactory(legal_name="Northern Cedar Lumber Co.", assigned_agent=agent)
    DelegationFactory(importer=bow, expiry_date=today + dt.timedelta(days=10))
    DelegationFactory(importer=prairie, expiry_date=today - dt.timedelta(days=3))
    DelegationFactory(importer=cedar, expiry_date=today + dt.timedelta(days=400))
    run_delegation_checks(today=today)  # the daily sweep, as beat runs it
    bam = verified(UserFactory(email="dana@bowriver.example.com", full_name="Dana Whitfield"))
    MembershipFactory(user=bam, importer=bow, role=Membership.Role.BAM)
    return agent, bam


def tile(page: Page, label: str):
    return page.get_by_role("list", name="Open alerts by severity").locator(".tile", has_text=label)


def test_an_agent_asks_for_a_renewal_and_the_bam_confirms_it(new_context, live_server, people):
    agent, bam = people
    today = cbsa_today()
    new_expiry = (today + dt.timedelta(days=730)).isoformat()
    agent_page = new_context().new_page()
    sign_in(agent_page, live_server.url, agent.email, DEFAULT_PASSWORD, totp=totp_code())

    # The list: three delegations, soonest expiry first; one blocking alert, one warning.
    agent_page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Delegations"
    ).click()
    rows = agent_page.locator("table.table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Prairie Grain Exports Ltd.")
    expect(rows.nth(0)).to_contain_text("Expired 3 days ago")
    expect(rows.nth(1)).to_contain_text("Bow River Foods Ltd.")
    expect(rows.nth(1)).to_contain_text("10 days left")
    expect(tile(agent_page, "blocking").locator(".tile__value")).to_have_text("1")
    expect(tile(agent_page, "warnings").locator(".tile__value")).to_have_text("1")
    shoot(agent_page, "delegations-list")

    # Filter: the delegations that expire soon.
    agent_page.get_by_label("Open finding").select_option(label="Expires soon")
    agent_page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bow River Foods Ltd.")
    expect(rows.first).to_contain_text((today + dt.timedelta(days=10)).isoformat())
    expect(agent_page.get_by_label("Open finding")).to_have_value("expires_within")
    shoot(agent_page, "delegations-list-filtered")

    # Ask the importer's BAM for a renewal, two years out.
    rows.first.get_by_role("link", name="Bow River Foods Ltd.").click()
    renewal = agent_page.get_by_role("region", name="Renewal")
    renewal.get_by_label("New expiry date asked for").fill(new_expiry)
    renewal.get_by_label("Message to the importer").fill(
        "Please extend it in the CCP before the 10th."
    )
    renewal.get_by_role("button", name="Request renewal").click()
    expect(agent_page.get_by_text("Renewal requested: the importer's BAM sees it")).to_be_visible()
    expect(renewal).to_contain_text(f"Renewal to {new_expiry} asked by Alex Martin")
    shoot(agent_page, "delegations-renewal-requested")

    agent_page.goto(f"{live_server.url}/delegations/?renewal=open")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bow River Foods Ltd.")

    # The BAM, in a browser of her own: the request is on her home page; she confirms it.
    bam_page = new_context().new_page()
    sign_in(bam_page, live_server.url, bam.email, DEFAULT_PASSWORD)
    callout = bam_page.locator(".callout", has_text="Renewal requested")
    expect(callout).to_contain_text(f"to {new_expiry}")
    expect(callout).to_contain_text("Please extend it in the CCP before the 10th.")
    expect(callout.get_by_label("Expiry date you entered in the CCP")).to_have_value(new_expiry)
    shoot(bam_page, "delegations-bam-home-request")
    callout.get_by_role("button", name="Done in the CCP").click()
    expect(
        bam_page.get_by_text("Thank you: the delegation now runs to the new date.")
    ).to_be_visible()
    expect(bam_page.locator(".callout", has_text="Renewal requested")).to_have_count(0)
    shoot(bam_page, "delegations-bam-confirmed")

    # Back to the agent: no renewal waiting, the warning gone, Bow River now expires last.
    agent_page.reload()
    expect(agent_page.get_by_text("No delegation matches these filters.")).to_be_visible()
    agent_page.goto(f"{live_server.url}/delegations/")
    expect(tile(agent_page, "warnings").locator(".tile__value")).to_have_text("0")
    expect(tile(agent_page, "blocking").locator(".tile__value")).to_have_text("1")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_contain_text("Bow River Foods Ltd.")
    expect(rows.nth(2)).to_contain_text(new_expiry)
    expect(rows.nth(2)).to_contain_text("730 days left")
    expect(rows.nth(2).locator("td").nth(4)).to_have_text("None")
    shoot(agent_page, "delegations-list-after")

    delegation = Delegation.objects.get(importer__legal_name="Bow River Foods Ltd.")
    assert delegation.expiry_date == today + dt.timedelta(days=730)
    assert RenewalRequest.objects.get().confirmed_by == bam
