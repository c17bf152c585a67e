"""An agent's morning in headless Chromium: sign in with two-factor authentication, land on
Today, narrow it to a client group, follow a number to its worklist, hand an exception to a
colleague in bulk, then find a CBSA transaction number from the header's search box and open it.
Screenshots of each step go to var/screenshots/."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect

from clients.access import BrokerRole
from statements.models import ReconciliationItem
from tests.browser.helpers import BROWSER_MARKS, shoot
from tests.factories import (
    DEFAULT_PASSWORD,
    ClientGroupFactory,
    ImporterFactory,
    ProgramAccountFactory,
    ReconciliationItemFactory,
    ReconciliationRunFactory,
    StatementFactory,
    StatementLineFactory,
    UserFactory,
)
from tests.mfa import totp_code

pytestmark = BROWSER_MARKS


@pytest.fixture
def morning():
    """Alex's clients in two groups, three open exceptions assigned to Alex (two in Quebec), a
    colleague to hand one to, and a CAD line on a Quebec statement."""
    alex = UserFactory(
        email="alex.martin@broker.example.com", full_name="Alex Martin", roles=[BrokerRole.AGENT]
    )
    EmailAddress.objects.create(user=alex, email=alex.email, verified=True, primary=True)
    sam = UserFactory(
        email="sam.roy@broker.example.com", full_name="Sam Roy", roles=[BrokerRole.AGENT]
    )
    quebec = ClientGroupFactory(name="Québec")
    ontario = ClientGroupFactory(name="Ontario")
    laurentide = ImporterFactory(
        legal_name="Laurentide Imports Inc.", client_group=quebec, assigned_agent=alex
    )
    maple = ImporterFactory(
        legal_name="Maple Leaf Provisions Inc.", client_group=ontario, assigned_agent=alex
    )
    items = {}
    for importer, numbers in (
        (laurentide, ["11223000000011", "11223000000012"]),
        (maple, ["11223000000021"]),
    ):
        statement = StatementFactory(program_account=ProgramAccountFactory(importer=importer))
        run = ReconciliationRunFactory(statement=statement)
        for number in numbers:
            items[number] = ReconciliationItemFactory(
                run=run, transaction_number=number, difference=Decimal("12.50"), assigned_to=alex
            )
    line_statement = laurentide.program_accounts.get().statements.get()
    StatementLineFactory(
        statement=line_statement, transaction_number="11223000009999", amount=Decimal("431.20")
    )
    return {"alex": alex, "sam": sam, "quebec": quebec, "items": items, "statement": line_statement}


def sign_in(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label("Code").fill(totp_code())
    page.get_by_role("button", name="Sign in").click()


def tile(page: Page, key: str):
    return page.locator(f'[data-figure="{key}"]')


def test_an_agents_morning(page: Page, live_server, morning):
    alex, quebec = morning["alex"], morning["quebec"]
    sign_in(page, live_server, alex)

    # Today, for Alex's own clients: three exceptions are Alex's.
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(tile(page, "my_exceptions").locator(".tile__value")).to_have_text("3")
    shoot(page, "morning-today")

    # Narrow Today to the Québec group: two of them.
    page.get_by_label("Show").select_option(label="Québec")
    page.get_by_role("button", name="Show this group").click()
    expect(page).to_have_url(re.compile(rf"[?&]group={quebec.pk}\b"))
    expect(tile(page, "my_exceptions").locator(".tile__value")).to_have_text("2")

    # The number opens its worklist, with the same filters in a bookmarkable URL.
    tile(page, "my_exceptions").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/statements/reconciliation/\?.*assignee=mine"))
    expect(page).to_have_url(re.compile(rf"group={quebec.pk}"))
    expect(page.get_by_role("heading", name="Reconciliation exceptions")).to_be_visible()
    rows = page.locator("table tbody tr:has(input[name=bulk-items])")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("11223000000021")).to_have_count(0)  # Ontario's stays out
    shoot(page, "morning-worklist-quebec")

    # Hand one exception to Sam, in bulk.
    page.get_by_label("Tick 11223000000012 of Laurentide Imports Inc.").check()
    page.locator("select[name=bulk-assignee]").select_option(
        label="Sam Roy <sam.roy@broker.example.com>"
    )
    page.get_by_role("button", name="Apply to the ticked exceptions").click()
    expect(page.get_by_text("1 exception updated.")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("11223000000011")
    moved = ReconciliationItem.objects.get(pk=morning["items"]["11223000000012"].pk)
    assert moved.assigned_to == morning["sam"]
    shoot(page, "morning-worklist-reassigned")

    # The header's search box: a CBSA transaction number, typed with spaces.
    box = page.get_by_role(
        "searchbox", name="Search importers, accounts, transactions, payments and people"
    )
    box.fill("11223 000009999")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Statement lines (1)")).to_be_visible()
    shoot(page, "morning-search")
    page.get_by_role("link", name="11223000009999 · CAD").click()

    statement = morning["statement"]
    expect(page).to_have_url(
        f"{live_server.url}/statements/{statement.pk}/?transaction=11223000009999"
    )
    lines = page.locator(
        "#lines-title ~ * table tbody tr, section[aria-labelledby=lines-title] table tbody tr"
    )
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("431.20")
    shoot(page, "morning-statement-line")
