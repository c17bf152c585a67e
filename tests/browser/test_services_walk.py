"""The broker's services in headless Chromium: a visitor signs up for a webinar and confirms
through the link e-mailed to them (the live server's locmem outbox); an agent makes a prospect
a client; an importer's BAM books a walk-through and asks for a Statement of Account retrieval.
Screenshots of each step go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from clients.access import BrokerRole
from clients.models import Importer, Invitation, Membership
from services.models import Booking, Registration, ServiceRequest
from tests.browser.helpers import BROWSER_MARKS, shoot
from tests.factories import (
    DEFAULT_PASSWORD,
    ImporterFactory,
    MembershipFactory,
    ProgramAccountFactory,
    UserFactory,
)
from tests.mfa import totp_code
from tests.services.factories import (
    ProspectFactory,
    WalkthroughSlotFactory,
    WebinarSessionFactory,
)

pytestmark = BROWSER_MARKS

SESSION_START = dt.datetime(2027, 1, 20, 17, 0, tzinfo=dt.UTC)  # 12:00 Eastern (EST)
SLOT_START = dt.datetime(2027, 1, 12, 15, 0, tzinfo=dt.UTC)  # 10:00 Eastern


@pytest.fixture
def agent():
    user = UserFactory(
        email="alex.martin@broker.example.com", full_name="Alex Martin", roles=[BrokerRole.AGENT]
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def dana():
    importer = ImporterFactory(legal_name="Maple Leaf Provisions Inc.")
    ProgramAccountFactory(importer=importer, name="Head office")
    user = UserFactory(email="dana@maple.example.com", full_name="Dana Whitfield")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    MembershipFactory(user=user, importer=importer, role=Membership.Role.BAM)
    return user


def sign_in(page: Page, live_server, user, *, mfa: bool = False) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if mfa:
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Sign in").click()


def test_a_visitor_signs_up_for_a_webinar_and_confirms_by_email(
    page: Page, live_server, mailoutbox
):
    session = WebinarSessionFactory(starts_at=SESSION_START, capacity=10)

    page.goto(f"{live_server.url}/services/webinars/")
    page.get_by_role("link", name=re.compile(r"^Register How to Prepare for CARM")).click()
    page.get_by_label("Your name").fill("Pat Visitor")
    page.get_by_label("Email").fill("pat@northwind.example.com")
    page.get_by_label("Company").fill("Northwind Traders Ltd.")
    page.wait_for_timeout(3200)  # a person takes longer than the form's minimum fill time
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Registration received")).to_be_visible()
    expect(page.get_by_text("follow the confirmation link within 48 hours")).to_be_visible()
    shoot(page, "webinar-registered-pending")
    registration = Registration.objects.get(session=session)
    assert registration.status == Registration.Status.PENDING  # no seat before the click
    [message] = mailoutbox
    assert message.to == ["pat@northwind.example.com"]
    assert message.subject == "Confirm your registration: How to Prepare for CARM"
    path = re.search(r"https?://[^/\s]+(/services/webinars/confirm/\S+/)", message.body).group(1)

    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", name="Confirm your registration")).to_be_visible()
    expect(page.locator("time")).to_have_text("Wednesday 20 January 2027, 12:00")  # Eastern
    page.get_by_role("button", name="Confirm my registration").click()

    expect(page.get_by_role("heading", name="Registration confirmed")).to_be_visible()
    shoot(page, "webinar-confirmed")
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert len(mailoutbox) == 2
    assert mailoutbox[1].attachments[0][0] == "webinar.ics"


def test_an_agent_makes_a_prospect_a_client(page: Page, live_server, agent):
    ProspectFactory(
        name="Rosa Tremblay", company="Boréal Foods Ltd.", email="rosa@boreal.example.com"
    )
    sign_in(page, live_server, agent, mfa=True)

    page.goto(f"{live_server.url}/services/prospects/")
    page.get_by_role("link", name="Boréal Foods Ltd.").click()
    page.get_by_role("button", name="Make a client and invite to onboarding").click()

    expect(
        page.get_by_text(
            "Boréal Foods Ltd. is now a client; rosa@boreal.example.com was invited to the "
            "onboarding wizard."
        )
    ).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile("Boréal Foods Ltd."), level=1)
    ).to_be_visible()
    shoot(page, "prospect-converted")
    importer = Importer.objects.get(legal_name="Boréal Foods Ltd.")
    assert list(Invitation.objects.filter(importer=importer).values_list("email", flat=True)) == [
        "rosa@boreal.example.com"
    ]


def test_a_bam_books_a_walkthrough_and_asks_for_a_statement(
    page: Page, live_server, agent, dana, mailoutbox
):
    WalkthroughSlotFactory(agent=agent, starts_at=SLOT_START)
    importer = dana.memberships.get().importer
    sign_in(page, live_server, dana)

    page.goto(f"{live_server.url}/services/importers/{importer.pk}/")
    page.get_by_role("link", name="Book a CARM Client Portal walk-through (1 hour)").click()
    page.get_by_label("2027-01-12 10:00 (Alex Martin)").check()
    page.get_by_label("What would you like to cover?").fill("Delegating to our broker.")
    page.get_by_role("button", name="Book").click()

    expect(
        page.get_by_text("Walk-through booked. The invitation is in your email.")
    ).to_be_visible()
    shoot(page, "walkthrough-booked")
    booking = Booking.objects.get(importer=importer)
    assert (booking.slot.starts_at, booking.booked_by) == (SLOT_START, dana)
    assert any(m.to == ["dana@maple.example.com"] for m in mailoutbox)

    page.goto(f"{live_server.url}/services/importers/{importer.pk}/")
    page.get_by_role(
        "link", name="Have us retrieve a Statement of Account from CBSA (fees apply)"
    ).click()
    account = importer.program_accounts.get()
    page.get_by_label("Program account (BN15)").select_option(value=str(account.pk))
    page.get_by_label("Billing period").fill("November 2026")
    page.get_by_role("button", name="Send the request").click()

    expect(page.get_by_text("Request sent to our team.")).to_be_visible()
    shoot(page, "soa-requested")
    request = ServiceRequest.objects.get(importer=importer)
    assert (request.kind, request.status, request.period, request.program_account) == (
        "soa_retrieval",
        "requested",
        "November 2026",
        account,
    )
