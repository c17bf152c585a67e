"""Payments in headless Chromium, as the broker's finance clerk: preview a payment against two
overdue statements (CBSA's rule pays the oldest first, the rest left unpaid), be refused a card
payment over the cycle's cap with the room left spelled out, then record the payment and find it
on the list. Screenshots go to var/screenshots/payments-*.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from carm_portal.calendar import cbsa_today
from clients.access import BrokerRole
from payments.models import Payment
from tests.browser.helpers import BROWSER_MARKS, shoot, sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    ImporterFactory,
    PaymentFactory,
    ProgramAccountFactory,
    StatementFactory,
    StatementLineFactory,
    UserFactory,
)
from tests.mfa import totp_code

pytestmark = BROWSER_MARKS

CARD_CAP = Decimal("4999.99")  # CBSA's limit per billing cycle per program account
ALREADY_BY_CARD = Decimal("4000.00")


@pytest.fixture
def cedar():
    """An importer owing two overdue statements ($1,200.00 from September, $3,000.00 from
    October), with $4,000.00 already paid by card in today's billing cycle."""
    importer = ImporterFactory(legal_name="Northern Cedar Lumber Co.")
    account = ProgramAccountFactory(importer=importer)
    september = StatementFactory(
        program_account=account, statement_date=dt.date(2026, 9, 25), closing_balance=1200
    )
    StatementLineFactory(statement=september, amount=1200)
    october = StatementFactory(
        program_account=account,
        statement_date=dt.date(2026, 10, 25),
        opening_balance=1200,
        closing_balance=4200,
    )
    StatementLineFactory(statement=october, amount=3000)
    PaymentFactory(
        program_account=account,
        method="credit_card",
        amount=ALREADY_BY_CARD,
        paid_on=cbsa_today(),
        reference="CARD-EARLIER",
    )
    return importer


@pytest.fixture
def clerk():
    user = UserFactory(
        email="sam.okafor@broker.example.com", full_name="Sam Okafor", roles=[BrokerRole.FINANCE]
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_preview_card_cap_and_record(page: Page, live_server, clerk, cedar):
    sign_in(page, live_server.url, clerk.email, DEFAULT_PASSWORD, totp=totp_code())
    page.goto(f"{live_server.url}/payments/new/{cedar.pk}/")
    expect(page.get_by_role("heading", name="Record a payment")).to_be_visible()

    # Preview $2,000.00 by online banking: September's $1,200.00 paid in full, then $800.00 of
    # October's $3,000.00, leaving $2,200.00.
    page.get_by_label("Amount (CAD)").fill("2000.00")
    page.get_by_label("Method").select_option(label="Online banking bill payment")
    page.get_by_label("Reference").fill("BMO-778812")
    page.get_by_role("button", name="Preview").click()
    plan = page.get_by_role("table", name="Statements this payment pays").locator("tbody tr")
    expect(plan).to_have_count(2)
    expect(plan.nth(0)).to_contain_text("2026-09-25")
    expect(plan.nth(0).locator("td").nth(2)).to_have_text("$1,200.00")
    expect(plan.nth(0).locator("td").nth(3)).to_have_text("$0.00")
    expect(plan.nth(1)).to_contain_text("2026-10-25")
    expect(plan.nth(1).locator("td").nth(2)).to_have_text("$800.00")
    expect(plan.nth(1).locator("td").nth(3)).to_have_text("$2,200.00")
    expect(page.get_by_text("This is a partial payment.")).to_be_visible()
    expect(page.get_by_text("It leaves $2,200.00 unpaid on a statement.")).to_be_visible()
    expect(page.get_by_label("Amount (CAD)")).to_have_value("2000.00")  # the form keeps it
    shoot(page, "payments-preview")
    assert Payment.objects.count() == 1  # a preview records nothing

    # The same by credit card: over the cap, refused with the room left in the cycle.
    page.get_by_label("Method").select_option(label="Credit card (CCP)")
    page.get_by_role("button", name="Preview").click()
    room = CARD_CAP - ALREADY_BY_CARD
    refusal = page.get_by_text("CBSA accepts at most $4,999.99 by credit card")
    expect(refusal.first).to_be_visible()
    expect(refusal.first).to_contain_text("$4,000.00 was already paid by card")
    expect(refusal.first).to_contain_text(f"at most ${room} more can be")
    expect(page.get_by_role("table", name="Statements this payment pays")).to_have_count(0)
    shoot(page, "payments-card-cap")

    # Back to online banking, and record it.
    page.get_by_label("Method").select_option(label="Online banking bill payment")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("$2,000.00")
    expect(page.get_by_text("BMO-778812").first).to_be_visible()
    shoot(page, "payments-recorded")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments").click()
    row = page.locator("table tbody tr", has_text="BMO-778812")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("$2,000.00")
    expect(row).to_contain_text("Northern Cedar Lumber Co.")
    shoot(page, "payments-list")

    payment = Payment.objects.get(reference="BMO-778812")
    assert (payment.amount, payment.method) == (Decimal("2000.00"), "online_banking")
    applied = sorted(a.amount for a in payment.allocations.all())
    assert applied == [Decimal("800.00"), Decimal("1200.00")]
