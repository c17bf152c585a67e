"""A broker agent signs in through the real login form, filters the importer list and opens an
importer's checklist, in headless Chromium. Screenshots of each step go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from clients.access import BrokerRole
from clients.models import Importer, OnboardingStep, PortalUser
from clients.onboarding import set_step_status
from tests.browser.helpers import BROWSER_MARKS, shoot
from tests.factories import (
    DEFAULT_PASSWORD,
    FinancialSecurityFactory,
    ImporterFactory,
    PortalUserFactory,
    ProgramAccountFactory,
    UserFactory,
)
from tests.mfa import totp_code

pytestmark = BROWSER_MARKS


@pytest.fixture
def agent():
    user = UserFactory(
        email="alex.martin@broker.example.com", full_name="Alex Martin", roles=[BrokerRole.AGENT]
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def maple(agent):
    """The importer the agent will look for, part way through its onboarding."""
    importer = ImporterFactory(
        legal_name="Maple Leaf Provisions Inc.",
        operating_name="Maple Provisions",
        status=Importer.Status.ONBOARDING,
        assigned_agent=agent,
    )
    account = ProgramAccountFactory(importer=importer, name="Head office")
    PortalUserFactory(
        importer=importer,
        full_name="Dana Whitfield",
        responsibility=PortalUser.Responsibility.PAYMENTS,
    )
    PortalUserFactory(
        importer=importer,
        full_name="Luc Tremblay",
        responsibility=PortalUser.Responsibility.CUSTOMS,
        profile_created=False,
        access_approved=False,
    )
    FinancialSecurityFactory(program_account=account)  # step 1 follows the security records
    set_step_status(
        importer=importer,
        step=5,
        status="blocked",
        by=agent,
        note="Waiting for the affinity answers.",
    )
    return importer


@pytest.fixture
def portfolio(agent, maple):
    statuses = [Importer.Status.PROSPECT, Importer.Status.ACTIVE, Importer.Status.ONBOARDING]
    for n, name in enumerate(
        ["Maple Ridge Farms Ltd.", "Northern Cedar Lumber Co.", "Prairie Grain Exports Ltd."]
    ):
        importer = ImporterFactory(legal_name=name, status=statuses[n], assigned_agent=agent)
        ProgramAccountFactory(importer=importer)
    return maple


def test_an_agent_signs_in_filters_the_list_and_opens_a_checklist(
    page: Page, live_server, agent, portfolio
):
    # Sign in through the real allauth form (ACCOUNT_EMAIL_VERIFICATION is mandatory).
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, "login")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Broker staff use two-factor authentication: the code from their authenticator app.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    shoot(page, "two-factor")
    page.get_by_label("Code").fill(totp_code())
    page.get_by_role("button", name="Sign in").click()

    # The dashboard.
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Today", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    shoot(page, "dashboard")

    # The importer list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(4)
    shoot(page, "importer-list")

    # Filter it: "maple" among onboarding importers.
    page.get_by_label("Search", exact=True).fill("maple")
    page.get_by_label("Status", exact=True).select_option("onboarding")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Maple Leaf Provisions Inc.")
    expect(page.get_by_label("Search", exact=True)).to_have_value("maple")
    shoot(page, "importer-list-filtered")

    # Open the importer and see its checklist.
    page.get_by_role("link", name="Maple Leaf Provisions Inc.").click()
    expect(page.get_by_role("heading", name=re.compile("Maple Leaf Provisions Inc."), level=1))
    checklist = page.locator("ol.steps > li")
    expect(checklist).to_have_count(len(OnboardingStep.Step.values))
    expect(page.locator("#step-1")).to_contain_text("Done")
    expect(page.locator("#step-5")).to_contain_text("Waiting for the affinity answers.")
    expect(page.get_by_role("img", name="2 of 7 steps done, 1 blocked").first).to_be_visible()
    expect(page.locator(".table__primary", has_text="Dana Whitfield")).to_be_visible()
    shoot(page, "importer-detail")
