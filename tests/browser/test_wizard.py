"""An importer's BAM walks the whole onboarding wizard in headless Chromium: a warning at step 2,
a revisit through the step bar, the live Business Number check and a statement upload at step 4,
the blank expiry date refused at step 7, and the finish that tells the assigned agent.

A screenshot of each step goes to var/screenshots/wizard-*.png.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from playwright.sync_api import Page, expect

from carm_portal.calendar import cbsa_today
from clients.access import BrokerRole
from clients.invitations import invite
from clients.models import Importer, Membership, OnboardingStep, OnboardingWizard
from delegation.models import Delegation
from payments.models import FinancialSecurity
from tests.browser.helpers import BROWSER_MARKS, shoot
from tests.factories import (
    DEFAULT_PASSWORD,
    ImporterFactory,
    MembershipFactory,
    ProgramAccountFactory,
    UserFactory,
)

pytestmark = BROWSER_MARKS


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def maple():
    agent = UserFactory(
        email="alex.martin@broker.example.com", full_name="Alex Martin", roles=[BrokerRole.AGENT]
    )
    importer = ImporterFactory(
        legal_name="Maple Leaf Provisions Inc.",
        status=Importer.Status.ONBOARDING,
        assigned_agent=agent,
    )
    ProgramAccountFactory(importer=importer, bn15=f"{importer.bn9}RM0001")
    return importer


@pytest.fixture
def dana(maple):
    """The importer's owner, invited as its BAM (the membership made directly)."""
    user = UserFactory(email="dana@maple.example.com", full_name="Dana Whitfield")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    MembershipFactory(user=user, importer=maple, role=Membership.Role.BAM)
    return user


def save_and_continue(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()


def test_a_bam_walks_the_whole_wizard(page: Page, live_server, maple, dana, media, tmp_path):
    today = cbsa_today()
    bn15 = maple.program_accounts.get().bn15

    # Sign in through the real form, then open the wizard.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(dana.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/onboarding/{maple.pk}/")

    # 1. Financial security: the $5,000 minimum, then a bond in force.
    expect(page.get_by_role("heading", name="Step 1 of 7: Financial security")).to_be_visible()
    steps_nav = page.get_by_role("navigation", name="Onboarding steps")
    expect(steps_nav.get_by_role("link", name=re.compile("Financial security"))).to_have_attribute(
        "aria-current", "step"
    )
    expect(page.locator("[data-required-bond]")).to_have_text("$5,000.00")
    page.get_by_label("Surety bond (recommended)").check()
    page.get_by_label("In place: CBSA has accepted it").check()
    page.get_by_label("RM program account it covers").select_option(label=bn15)
    page.get_by_label("Surety company").fill("Trisura Guarantee Insurance Company")
    page.get_by_label("Bond number").fill("TB-778899")
    page.get_by_label("Amount (CAD)").fill("5000")
    page.get_by_label("Effective date").fill((today - dt.timedelta(days=7)).isoformat())
    shoot(page, "wizard-1-security")
    save_and_continue(page)

    # 2. BAMs: only one at first, a warning (not an error) on the next page.
    expect(
        page.get_by_role("heading", name="Step 2 of 7: Business Account Managers")
    ).to_be_visible()
    first = page.get_by_role("group", name="First Business Account Manager")
    expect(first.get_by_label("Email")).to_have_value("dana@maple.example.com")  # prefilled
    first.get_by_label("Responsible for").select_option("payments")
    shoot(page, "wizard-2-bams")
    save_and_continue(page)
    expect(page.get_by_role("heading", name="Step 3 of 7: CCP profiles")).to_be_visible()
    expect(page.get_by_text("we recommend two")).to_be_visible()
    shoot(page, "wizard-2-bams-warning")

    # Revisit step 2 from the step bar and add the second BAM.
    steps_nav.get_by_role("link", name=re.compile("Business Account Managers")).click()
    second = page.get_by_role("group", name="Second Business Account Manager (recommended)")
    second.get_by_label("Full name").fill("Luc Tremblay")
    second.get_by_label("Email").fill("luc@maple.example.com")
    save_and_continue(page)

    # 3. CCP profiles: each person's sign-in method and profile.
    expect(page.get_by_role("heading", name="Step 3 of 7: CCP profiles")).to_be_visible()
    for name, method in (("Dana Whitfield", "gckey"), ("Luc Tremblay", "sign_in_partner")):
        person = page.get_by_role("group", name=re.compile(name))
        person.get_by_label("Sign-in method").select_option(method)
        person.get_by_label("CCP profile created").check()
    shoot(page, "wizard-3-profiles")
    save_and_continue(page)

    # 4. Business information (opened from the step bar: "continue" skips a step the checklist
    # already shows done): the BN9 the broker recorded, read only; the live account check, the
    # punctuation reminder, the statement upload.
    page.get_by_role("navigation", name="Onboarding steps").get_by_role(
        "link", name=re.compile("Business information")
    ).click()
    expect(page.get_by_role("heading", name="Step 4 of 7: Business information")).to_be_visible()
    expect(page.get_by_text("to the punctuation")).to_be_visible()
    bn9 = page.get_by_label("Business Number (BN9)")
    expect(bn9).to_be_disabled()
    expect(bn9).to_have_value(maple.bn9)
    accounts = page.get_by_label("Import-export program accounts (RM)")
    accounts.fill("123456782RM0001")
    accounts.blur()
    expect(page.locator("#accounts-live")).to_contain_text("belongs to Business Number")
    accounts.fill(f"{bn15}\n{maple.bn9}RM0002")
    page.locator("#id_address_line1").fill("100 King Street West")  # label "Address *"
    page.get_by_label("Address (line 2)").fill("Suite 5")
    page.get_by_label("Postal code").fill("M5H 1A1")
    statement = tmp_path / "soa-2026-10.pdf"
    statement.write_bytes(b"%PDF-1.7\n% statement of account\n")
    page.get_by_label("Latest statement of account").set_input_files(str(statement))
    shoot(page, "wizard-4-business")
    save_and_continue(page)

    # 5. Registration in the CCP.
    expect(page.get_by_role("heading", name="Step 5 of 7: Register the business")).to_be_visible()
    page.get_by_label("Yes, our business is registered in the CCP").check()
    page.get_by_label("Date of registration").fill((today - dt.timedelta(days=2)).isoformat())
    shoot(page, "wizard-5-registration")
    save_and_continue(page)

    # 6. Employee access: everyone approved.
    expect(page.get_by_role("heading", name="Step 6 of 7: Employee access")).to_be_visible()
    for name in ("Dana Whitfield", "Luc Tremblay"):
        page.get_by_role("group", name=re.compile(name)).get_by_label(
            "Access approved by a BAM"
        ).check()
    shoot(page, "wizard-6-employee-access")
    save_and_continue(page)

    # 7. Broker access: a blank expiry date is refused, with the reason; typed values stay.
    expect(page.get_by_role("heading", name="Step 7 of 7: Broker access")).to_be_visible()
    page.get_by_label(re.compile("Business Management Relationship")).check()
    page.get_by_label(re.compile("proxy Business Account Manager")).check()
    page.get_by_role("button", name="Save and review").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name="Expiry date")).to_be_visible()
    expect(page.locator("#id_expiry_date_errors")).to_have_text(
        "Enter the expiry date you chose in the CCP; it cannot be left blank."
    )
    expect(page.get_by_text("Enter the expiry date you chose in the CCP")).to_have_count(1)  # once
    expect(page.get_by_label(re.compile("Business Management Relationship"))).to_be_checked()
    shoot(page, "wizard-7-broker-access-blank-expiry")
    summary.get_by_role("link", name="Expiry date").click()
    expect(page.get_by_label("Expiry date")).to_be_focused()
    page.get_by_label("Expiry date").fill((today + dt.timedelta(days=730)).isoformat())
    shoot(page, "wizard-7-broker-access")
    page.get_by_role("button", name="Save and review").click()

    # Review, then finish.
    expect(page.get_by_role("heading", name="Review and finish", level=2)).to_be_visible()
    # The checklist's count: step 1 is not done (RM0002, added at step 4, has no security).
    expect(page.get_by_text("6 of 7 steps done")).to_be_visible()
    shoot(page, "wizard-8-review")
    page.get_by_role("button", name="Finish onboarding").click()
    expect(page.get_by_role("heading", name="Onboarding finished")).to_be_visible()
    expect(page.locator("#checklist-7")).to_contain_text("Done")
    shoot(page, "wizard-9-done")

    # The records followed every step; the agent heard once.
    statuses = dict(OnboardingStep.objects.filter(importer=maple).values_list("step", "status"))
    # Step 1 is honest: the bond covers RM0001, and RM0002 was added at step 4 with no security.
    assert statuses == {**dict.fromkeys(range(1, 8), "done"), 1: "in_progress"}
    assert "RM0002" in OnboardingStep.objects.get(importer=maple, step=1).summary
    assert FinancialSecurity.objects.get().bond_number == "TB-778899"
    delegation = Delegation.objects.get(importer=maple)
    assert delegation.expiry_date == today + dt.timedelta(days=730)
    assert maple.program_accounts.count() == 2
    wizard = OnboardingWizard.objects.get(importer=maple)
    assert wizard.finished_by == dana
    assert wizard.data["business"]["statement_file"]["name"] == "soa-2026-10.pdf"
    sent = [m for m in mail.outbox if "finished the onboarding wizard" in m.subject]
    assert [m.to for m in sent] == [["alex.martin@broker.example.com"]]


def test_an_invited_contact_signs_up_leaves_and_resumes(page: Page, live_server, maple):
    """From the invitation link (W1's flow) to the wizard; "Save and finish later", sign out,
    sign in again: the wizard resumes at the saved step with the saved answer."""
    maple.email = (
        "luc@maple.example.com"  # the contact on record: a first BAM needs no confirmation
    )
    maple.save()
    invitation, token = invite(
        importer=maple,
        email="luc@maple.example.com",
        role=Membership.Role.BAM,
        full_name="Luc Tremblay",
        invited_by=maple.assigned_agent,
    )
    page.goto(live_server.url + reverse("invitations:accept", args=[token]))
    expect(page.get_by_role("heading", name="Create your login")).to_be_visible()
    page.locator("#id_password1").fill(DEFAULT_PASSWORD)
    page.locator("#id_password2").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Create my login").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert Membership.objects.filter(importer=maple, user__email=invitation.email).exists()

    wizard_url = f"{live_server.url}{reverse('onboarding:wizard', args=[maple.pk])}"
    page.goto(wizard_url)
    expect(page.get_by_role("heading", name="Step 1 of 7: Financial security")).to_be_visible()
    page.get_by_label("Surety bond (recommended)").check()
    page.get_by_label("Submitted to CBSA, not accepted yet").check()
    page.get_by_label("Surety company").fill("Trisura Guarantee Insurance Company")
    page.get_by_role("button", name="Save and finish later").click()
    expect(page.get_by_text("Step 1 still has something to correct")).to_be_visible()
    shoot(page, "wizard-0-saved-for-later")

    # Another day: sign out, sign in, and the wizard opens where it was left, as it was left.
    page.get_by_role("button", name="Sign out").click()
    page.goto(wizard_url)
    page.get_by_label("Email").fill("luc@maple.example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Step 1 of 7: Financial security")).to_be_visible()
    expect(page.get_by_label("Submitted to CBSA, not accepted yet")).to_be_checked()
    expect(page.get_by_label("Surety company")).to_have_value("Trisura Guarantee Insurance Company")
    expect(
        page.get_by_role("navigation", name="Onboarding steps").get_by_role(
            "link", name=re.compile("Financial security")
        )
    ).to_contain_text("needs your attention")
    shoot(page, "wizard-0-resumed")
