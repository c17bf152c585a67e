"""The importer's home page (issue 7, item 3): checklist progress, what needs them, statements,
reconciliation reports, payments and people, for each importer the user belongs to.

Importer B is seeded with distinctive statements, alerts and people in every test that shows
data, so "nothing of B ever appears" is checked on real markup, not on an empty page.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carm_portal import stored_text
from carm_portal.severity import Severity
from clients.models import Membership, OnboardingStep, OnboardingWizard, ProgramAccount
from delegation.models import DelegationAlert, RenewalRequest
from delegation.rules import Finding, Kind, finding_parts
from payments.models import PaymentAlert, StatementBalance
from statements.models import ReconciliationItem, ReconciliationRun
from tests.factories import (
    DelegationFactory,
    MembershipFactory,
    PaymentFactory,
    PortalUserFactory,
    StatementFactory,
)

HOME = reverse("home")
TODAY = dt.date(2026, 10, 27)  # the 2026-10-25 statement is due 2026-10-30: due soon
Step = OnboardingStep.Step
Status = OnboardingStep.Status


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 10, 27, 15, tzinfo=dt.UTC))


# --- Arrange: data for importer A (the user's) and B (someone else's) ------------------------


def account_of(importer) -> ProgramAccount:
    return importer.program_accounts.order_by("pk").first()


def monthly(n: int, *, latest: dt.date = dt.date(2026, 10, 25)) -> list[dt.date]:
    """``n`` statement dates, one a month on the 25th, newest first."""
    days, year, month = [], latest.year, latest.month
    for _ in range(n):
        days.append(dt.date(year, month, 25))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return days


def delegation_alert(importer, *, kind: str, message: str, severity: str = "warning", n: int = 0):
    delegation = DelegationFactory(importer=importer, expiry_date=dt.date(2026, 11, 5))
    return DelegationAlert.objects.create(
        importer=importer,
        delegation=delegation,
        kind=kind,
        severity=severity,
        message=message,
        expiry_date=delegation.expiry_date,
        key=f"{delegation.pk}:{kind}:{delegation.expiry_date.isoformat()}",  # the rules' key
        raised_on=TODAY,
    )


def payment_alert(importer, *, kind: str, message: str, statement=None, amount=None, n: int = 0):
    return PaymentAlert.objects.create(
        importer=importer,
        program_account=account_of(importer),
        statement=statement,
        kind=kind,
        severity="blocking" if kind == "overdue" else "warning",
        message=message,
        key=f"{kind}:{n}:{statement.pk if statement else 'none'}",
        deadline=statement.due_date if statement else dt.date(2027, 1, 15),
        amount=amount,
        raised_on=TODAY,
        raised_at=timezone.now(),
    )


def current_run(statement, *, open_exceptions: int = 0, resolved: int = 0) -> ReconciliationRun:
    run = ReconciliationRun.objects.create(
        statement=statement, status=ReconciliationRun.Status.SUCCEEDED, is_current=True
    )
    importer_id = statement.program_account.importer_id
    for position in range(open_exceptions + resolved):
        ReconciliationItem.objects.create(
            run=run,
            statement=statement,
            importer_id=importer_id,
            position=position,
            status=ReconciliationItem.Code.AMOUNT_MISMATCH,
            is_exception=True,
            key=f"tx{position}",
            resolution="" if position < open_exceptions else "explained",
            first_seen_at=timezone.now(),
        )
    return run


def seed(importer, *, statements: int = 3, alerts: int = 1, people: int = 2, tag: str = "A"):
    """Statements (the newest owing and due soon, the one before overdue), a current run per
    statement, open alerts of every family, a renewal request and CCP users, all named ``tag``."""
    account = account_of(importer)
    made = []
    for i, day in enumerate(monthly(statements)):
        made.append(
            StatementFactory(
                program_account=account,
                statement_date=day,
                closing_balance=Decimal("412.40") if i < 2 else 0,
                status="open" if i < 2 else "paid",
            )
        )
        current_run(made[-1], open_exceptions=2 if i == 0 else 0, resolved=1)
    delegation = DelegationFactory(importer=importer, expiry_date=dt.date(2026, 11, 5))
    RenewalRequest.objects.create(
        delegation=delegation,
        requested_expiry_date=dt.date(2027, 11, 5),
        message=f"Please extend, {tag}.",
    )
    for n in range(alerts):
        delegation_alert(importer, kind="expires_within_14", message=f"{tag} delegation {n} ends.")
        payment_alert(
            importer,
            kind="overdue",
            message=f"{tag} statement {n} is overdue.",
            statement=made[min(1, len(made) - 1)],
            amount=Decimal("412.40"),
            n=n,
        )
    payment_alert(importer, kind="annual_top_up", message=f"{tag} security needs a top-up.")
    for n in range(people):
        PortalUserFactory(importer=importer, full_name=f"{tag} Person {n}")
    PaymentFactory(program_account=account, amount=Decimal("77.70"), paid_on=dt.date(2026, 10, 2))
    return made


@pytest.fixture
def seeded(personas):
    """A with its data; B with distinctive data that must never show on A's people's pages."""
    a = seed(personas.importer_a, tag="Alpha")
    b = seed(personas.importer_b, tag="Bravo")
    PortalUserFactory(importer=personas.importer_b, full_name="Zed Bravoperson")
    return a, b


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def bravo_leaks(html: str, personas, b_statements) -> list[str]:
    """Everything of importer B that could leak into A's page, found in ``html``."""
    markers = [
        "Bravo",
        personas.importer_b.legal_name,
        personas.importer_b.bn9,
        "bam@bravo.example.com",
        "Zed Bravoperson",
        f"/statements/{b_statements[0].pk}/",
        f"/onboarding/{personas.importer_b.pk}/",
        f"/invitations/importer/{personas.importer_b.pk}/",
    ]
    return [m for m in markers if m in html]


# --- Checklist progress -------------------------------------------------------------------------


def set_steps(importer, done: int) -> None:
    for step in Step.values:
        OnboardingStep.objects.update_or_create(
            importer=importer,
            step=step,
            defaults={"status": Status.DONE if step <= done else Status.NOT_STARTED},
        )


def test_the_checklist_shows_steps_done_and_the_bam_can_continue_onboarding(
    personas, client, seeded
):
    set_steps(personas.importer_a, 3)
    OnboardingWizard.objects.create(importer=personas.importer_a, current_step="ccp-profiles")

    html = page(client, personas.bam_a)

    text = text_of(html)
    assert "3 of 7 steps done" in text
    wizard = reverse("onboarding:wizard", args=[personas.importer_a.pk])
    assert f'<a class="button" href="{wizard}">Continue onboarding</a>' in html
    assert "Business registered in the CCP Not started" in text
    assert "Financial security Done" in text


def test_a_bam_who_never_started_is_invited_to_start(personas, client):
    OnboardingStep.objects.filter(importer=personas.importer_a).update(status=Status.NOT_STARTED)

    html = page(client, personas.bam_a)

    assert "Start onboarding</a>" in html
    assert "0 of 7 steps done" in text_of(html)


def test_once_all_steps_are_done_the_button_offers_to_review_the_answers(personas, client):
    set_steps(personas.importer_a, 7)

    html = page(client, personas.bam_a)

    assert "7 of 7 steps done" in text_of(html)
    assert "Review your answers</a>" in html
    assert "Continue onboarding" not in html


def test_a_finished_wizard_offers_review_even_while_the_broker_checks_steps(personas, client):
    set_steps(personas.importer_a, 5)
    OnboardingWizard.objects.create(importer=personas.importer_a, finished_at=timezone.now())

    html = page(client, personas.bam_a)

    assert "Review your answers</a>" in html


@pytest.mark.parametrize("who", ["employee_a", "finance_a"])
def test_only_the_bam_gets_the_onboarding_button(personas, client, who):
    user = personas.all()[who]

    html = page(client, user)

    assert "CARM onboarding checklist" in html
    assert reverse("onboarding:wizard", args=[personas.importer_a.pk]) not in html
    assert "Your Business Account Manager fills in the onboarding steps" in html


# --- Open alerts --------------------------------------------------------------------------------


def test_the_bam_sees_every_open_alert_with_a_sentence_a_date_and_a_link(personas, client, seeded):
    a_statements, _b = seeded
    DelegationAlert.objects.create(
        importer=personas.importer_a,
        kind="expired",
        severity="blocking",
        message="Alpha resolved alert.",
        key="resolved",
        raised_on=TODAY,
        resolved_at=timezone.now(),
    )

    html = page(client, personas.bam_a)

    text = text_of(html)
    renewal = RenewalRequest.objects.get(delegation__importer=personas.importer_a)
    assert "Renewal requested New expiry date: 2027-11-05" in text
    assert "Your broker asks you to extend the broker's delegation" in text  # the alert's words
    assert "Please extend, Alpha." in text
    assert f'href="#confirm-{renewal.pk}">Confirm it is done' in html
    assert f'id="confirm-{renewal.pk}"' in html  # the form the link jumps to
    assert "Expires within 14 days Expiry date: 2026-11-05" in text
    assert "Alpha delegation 0 ends." in text
    assert "Payment overdue Due date: 2026-10-01 $412.40 Alpha statement 0 is overdue." in text
    assert f'href="/statements/{a_statements[1].pk}/">See the statement' in html
    assert "Annual review top-up" in text
    assert "Alpha security needs a top-up." in text
    top_up = reverse("payments:security_create", args=[personas.importer_a.pk])
    assert f'href="{top_up}">Record a security' in html
    assert "Alpha resolved alert." not in text
    assert "Nothing needs your attention" not in text
    assert bravo_leaks(html, personas, seeded[1]) == []


def test_the_panels_show_the_open_rows_the_attention_card_read_without_reading_them_again(
    personas, client, seeded
):
    """The attention card reads the importer's renewals, delegation alerts and payment alerts;
    the delegation and payments panels below show the same rows, handed to them."""
    renewal = RenewalRequest.objects.get(delegation__importer=personas.importer_a)
    client.force_login(personas.bam_a)

    with CaptureQueriesContext(connection) as queries:
        html = client.get(HOME).content.decode()

    read = [q["sql"] for q in queries.captured_queries]
    for table in (
        "delegation_renewalrequest",
        "delegation_delegationalert",
        "payments_paymentalert",
    ):
        assert sum(f'FROM "{table}"' in sql for sql in read) == 1, table
    payments = html.split('<section class="card pay-panel"')[1].split("</section>")[0]
    assert "Alpha statement 0 is overdue." in payments
    assert "Alpha security needs a top-up." in payments
    delegations = html.split('id="delegation-title-')[1].split("</section>")[0]
    assert f'action="/delegations/renewals/{renewal.pk}/confirm/"' in delegations
    assert "Please extend, Alpha." in delegations
    assert "Expires within 14 days" in delegations  # the alert's badge in its delegation's row
    assert "Bravo" not in payments + delegations


def test_alerts_come_renewal_first_then_by_severity(personas, client, seeded):
    html = page(client, personas.bam_a)

    section = html.split('id="attention-title-')[1].split("</section>")[0]
    order = [
        text_of(m)
        for m in re.findall(r'<span class="badge badge--\w+">([^<]+)</span>', section)
        if text_of(m) != "5 open"
    ]
    assert order == [
        "Renewal requested",
        "Payment overdue",
        "Expires within 14 days",  # stored by the night's check (today's rules agree: shown once)
        "Expires within 14 days",  # the renewal's delegation, found live: no alert stored yet
        "Annual review top-up",
    ]


def test_an_employee_sees_delegation_alerts_but_no_payment_alert(personas, client, seeded):
    html = page(client, personas.employee_a)

    text = text_of(html)
    assert "Alpha delegation 0 ends." in text
    assert "Please extend, Alpha." in text
    renewal = RenewalRequest.objects.get(delegation__importer=personas.importer_a)
    assert f'href="{renewal.delegation.get_absolute_url()}">See the delegation' in html
    assert "asked your Business Account Manager to extend" in text
    assert "Confirm it is done" not in text
    assert "is overdue" not in text
    assert "top-up" not in text
    assert "$412.40" not in text


def test_with_nothing_open_the_page_says_so(personas, client):
    html = page(client, personas.bam_a)

    assert "Nothing needs your attention." in text_of(html)


def test_many_alerts_show_the_first_ten_and_say_how_many_more(personas, client):
    # 8 + 8 + top-up + renewal + the renewal's delegation expiring (found live) = 19
    seed(personas.importer_a, alerts=8, tag="Alpha")

    html = page(client, personas.bam_a)

    section = html.split('id="attention-title-')[1].split("</section>")[0]
    assert section.count('class="finding ') == 10
    assert "19 open" in text_of(section)
    assert "And 9 more" in text_of(section)


# --- Statements, reconciliation reports, payments ----------------------------------------------


def test_finance_sees_the_latest_statements_with_balances_and_due_badges(personas, client, seeded):
    html = page(client, personas.finance_a)

    section = html.split('id="statements-title-')[1].split("</section>")[0]
    text = text_of(section)
    bn15 = account_of(personas.importer_a).bn15
    assert f"2026-10-25 {bn15} 2026-10-30 Due soon $412.40 Open" in text
    assert f"2026-09-25 {bn15} 2026-10-01 Overdue $412.40 Open" in text
    assert f"2026-08-25 {bn15} 2026-08-31 $0.00 Paid" in text
    assert reverse("statements:importer", args=[personas.importer_a.pk]) in section
    assert bravo_leaks(html, personas, seeded[1]) == []


def test_a_statement_our_payments_cover_is_not_shown_overdue(personas, client):
    overdue, partly = seed(personas.importer_a, statements=2)[::-1]
    for statement, outstanding in ((overdue, 0), (partly, 100)):
        StatementBalance.objects.create(
            statement=statement,
            billed=Decimal("412.40"),
            outstanding=outstanding,
            computed_at=timezone.now(),
        )

    html = page(client, personas.bam_a)

    section = html.split('id="statements-title-')[1].split("</section>")[0]
    text = text_of(section)
    bn15 = account_of(personas.importer_a).bn15
    assert f"2026-10-25 {bn15} 2026-10-30 Due soon $412.40 $100.00 still owing Open" in text
    assert f"2026-09-25 {bn15} 2026-10-01 $412.40 Nothing owing Open" in text


def test_only_the_five_latest_statements_are_listed(personas, client):
    seed(personas.importer_a, statements=8)

    html = page(client, personas.bam_a)

    section = html.split('id="statements-title-')[1].split("</section>")[0]
    assert section.count("<tr>") == 6  # header + 5
    assert "2026-06-25" in section
    assert "2026-05-25" not in section


def test_reports_list_current_runs_with_open_exceptions_and_downloads(personas, client, seeded):
    a_statements, _b = seeded
    latest = a_statements[0]
    run = ReconciliationRun.objects.get(statement=latest, is_current=True)
    ReconciliationRun.objects.create(statement=latest, status="failed")  # never shown

    html = page(client, personas.finance_a)

    section = html.split('id="reports-title-')[1].split("</section>")[0]
    text = text_of(section)
    assert "Statement of 2026-10-25" in text
    assert "2 open exceptions" in text  # the resolved one does not count
    assert text.count("No open exception") == 2
    assert reverse("statements:reconciliation_pdf", args=[latest.pk, run.pk]) in section
    assert reverse("statements:reconciliation_csv", args=[latest.pk, run.pk]) in section
    assert reverse("statements:reconciliation", args=[latest.pk, run.pk]) in section
    assert section.count("report.pdf") == 3
    assert bravo_leaks(html, personas, seeded[1]) == []


def test_the_reports_and_statements_cards_read_only_the_columns_they_show(personas, client, seeded):
    """Building the SQL of every column of runs, statements, accounts and balances (listed twice
    around the window function) was most of these queries' CPU; the cards show a few."""
    client.force_login(personas.finance_a)

    with CaptureQueriesContext(connection) as queries:
        html = client.get(HOME).content.decode()

    windowed = [q["sql"] for q in queries.captured_queries if "ROW_NUMBER" in q["sql"]]
    runs = [sql for sql in windowed if 'FROM "statements_reconciliationrun"' in sql]
    statements = [sql for sql in windowed if 'FROM "statements_statement"' in sql]
    assert (len(runs), len(statements)) == (1, 1)
    for column in ("summary", "error", "phase", "task_id"):
        assert f'"statements_reconciliationrun"."{column}"' not in runs[0]
    assert '"statements_statement"."closing_balance"' not in runs[0]
    for column in ("opening_balance", "stated_closing_balance", "period_start"):
        assert f'"statements_statement"."{column}"' not in statements[0]
    assert '"payments_statementbalance"."outstanding"' in statements[0]
    assert "Statement of 2026-10-25" in html


def test_download_links_are_only_for_users_who_may_download(personas, client, seeded):
    employee = page(client, personas.employee_a)
    bam = page(client, personas.bam_a)

    assert "report.pdf" not in employee
    assert "items.csv" not in employee
    assert "Reconciliation reports" not in employee
    assert "report.pdf" in bam
    assert "items.csv" in bam


def test_the_bam_sees_payments_and_security(personas, client, seeded):
    html = page(client, personas.bam_a)

    assert "Payments and financial security" in html
    assert "$77.70" in html
    assert "Record a payment" in html


def test_an_employee_sees_no_finance_panel(personas, client, seeded):
    html = page(client, personas.employee_a)

    assert "Your statements" not in html
    assert "Payments and financial security" not in html
    assert "$77.70" not in html
    assert account_of(personas.importer_a).bn15 in html  # the accounts card is not finance
    assert "/statements/" not in html
    assert "/payments/" not in html


def test_finance_panels_say_so_when_empty(personas, client):
    html = page(client, personas.bam_a)

    text = text_of(html)
    assert "No statement of account on record yet." in text
    assert "No reconciliation yet." in text
    assert "No payment recorded." in text


# --- People -----------------------------------------------------------------------------------


def test_people_lists_members_and_ccp_users_and_the_bam_may_invite(personas, client, seeded):
    html = page(client, personas.bam_a)

    section = html.split('id="home-people-title-')[1].split("</section>")[0]
    text = text_of(section)
    assert "bam@alpha.example.com" in text
    assert "(you)" in text
    assert "employee@alpha.example.com Employee (read only)" in text
    assert "Alpha Person 0" in text
    assert "Alpha Person 1" in text
    invite = reverse("invitations:importer", args=[personas.importer_a.pk])
    assert f'href="{invite}">Invite a colleague' in section
    assert bravo_leaks(html, personas, seeded[1]) == []


@pytest.mark.parametrize("who", ["employee_a", "finance_a"])
def test_only_those_who_may_invite_see_the_invite_link(personas, client, who):
    user = personas.all()[who]

    html = page(client, user)

    assert "Invite a colleague" not in html
    assert "/invitations/" not in html
    assert "bam@alpha.example.com" in html


def test_people_say_so_when_there_is_nobody_in_the_ccp(personas, client):
    html = page(client, personas.bam_a)

    assert "No CCP user recorded yet." in text_of(html)


# --- Isolation and several importers -----------------------------------------------------------


@pytest.mark.parametrize("who", ["bam_a", "employee_a", "finance_a"])
def test_nothing_of_another_importer_ever_appears(personas, client, seeded, who):
    user = personas.all()[who]

    html = page(client, user)

    assert bravo_leaks(html, personas, seeded[1]) == []
    assert "Alpha Imports Inc." in html


def test_a_user_of_two_importers_sees_both(personas, client, seeded):
    MembershipFactory(
        user=personas.bam_a, importer=personas.importer_b, role=Membership.Role.EMPLOYEE
    )

    html = page(client, personas.bam_a)

    text = text_of(html)
    assert "<h1>Your importers</h1>" in html
    assert '<h2 id="importer-title-' in html
    assert "Alpha statement 0 is overdue." in text  # BAM of A: finance shown
    assert "Bravo delegation 0 ends." in text  # employee of B: delegation alerts
    assert "Bravo statement 0 is overdue." not in text  # but not B's finances
    assert "Zed Bravoperson" in text
    assert f'href="#importer-{personas.importer_b.pk}"' in html
    assert reverse("onboarding:wizard", args=[personas.importer_a.pk]) in html
    assert reverse("onboarding:wizard", args=[personas.importer_b.pk]) not in html
    assert reverse("statements:importer", args=[personas.importer_b.pk]) not in html
    assert_headings_in_order(html)


def test_one_importer_gets_one_h1_and_headings_never_skip_a_level(personas, client, seeded):
    html = page(client, personas.bam_a)

    assert_headings_in_order(html)


def assert_headings_in_order(html: str) -> None:
    """One h1, first; no level skipped on the way down."""
    levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", html)]
    assert levels.count(1) == 1
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


# --- Constant queries -----------------------------------------------------------------------


def count_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["bam_a", "employee_a"])
def test_the_page_runs_the_same_queries_for_3_or_30_statements_alerts_and_people(
    personas, client, django_assert_max_num_queries, who
):
    user = personas.all()[who]
    seed(personas.importer_a, statements=3, alerts=3, people=3)
    small = count_queries(client, user)  # importer A's three members: BAM, finance, employee

    seed(personas.importer_b, statements=30, alerts=30, people=30, tag="Bravo")
    account_a = account_of(personas.importer_a)
    for day in monthly(27, latest=dt.date(2026, 7, 25)):
        statement = StatementFactory(program_account=account_a, statement_date=day)
        current_run(statement, open_exceptions=1)
    for n in range(3, 30):
        delegation_alert(personas.importer_a, kind="expired", message=f"Alert {n}.", n=n)
        payment_alert(personas.importer_a, kind="overdue", message=f"Overdue {n}.", n=n)
        PortalUserFactory(importer=personas.importer_a)
        MembershipFactory(importer=personas.importer_a, role=Membership.Role.FINANCE)
        PaymentFactory(program_account=account_a, amount=n)

    client.force_login(user)
    with django_assert_max_num_queries(small):
        response = client.get(HOME)

    assert response.status_code == 200
    assert len(response.context["cards"][0].members) == 30


# --- Navigation -------------------------------------------------------------------------------


def nav_of(html: str) -> str:
    return html.split('<nav class="site-nav"')[1].split("</nav>")[0]


def test_the_nav_leads_a_bam_of_one_importer_to_its_wizard(personas, client):
    nav = nav_of(page(client, personas.bam_a))

    wizard = reverse("onboarding:wizard", args=[personas.importer_a.pk])
    assert f'<a href="{HOME}" aria-current="page">Home</a>' in nav
    assert f'<a href="{wizard}">Onboarding</a>' in nav


@pytest.mark.parametrize("who", ["employee_a", "finance_a"])
def test_the_nav_has_no_onboarding_link_for_those_who_may_not_onboard(personas, client, who):
    user = personas.all()[who]

    nav = nav_of(page(client, user))

    assert "Onboarding" not in nav
    assert "Home</a>" in nav


def test_the_nav_leads_a_bam_of_several_importers_home(personas, client):
    MembershipFactory(user=personas.bam_a, importer=personas.importer_b, role=Membership.Role.BAM)

    nav = nav_of(page(client, personas.bam_a))

    assert f'<a href="{HOME}">Onboarding</a>' in nav
    assert "/onboarding/" not in nav


def test_broker_staff_get_no_onboarding_link(personas, client):
    nav = nav_of(page(client, personas.broker_agent))

    assert "Onboarding" not in nav


# --- Delegation findings, worded for who reads them ---------------------------------------------


def expiring_alert(importer):
    """A finding as the daily check stores it: the broker's sentence, with its parts."""
    delegation = DelegationFactory(importer=importer, expiry_date=dt.date(2026, 11, 10))
    parts = finding_parts(
        Finding(
            Kind.EXPIRES_SOON,
            Severity.WARNING,
            details=(14,),
            expiry_date=delegation.expiry_date,
        )
    )
    return DelegationAlert.objects.create(
        importer=importer,
        delegation=delegation,
        kind="expires_within_14",
        severity="warning",
        message=stored_text.render_stored(parts),
        message_parts=parts,
        expiry_date=delegation.expiry_date,
        key=f"{delegation.pk}:expires_within_14",
        raised_on=TODAY,
    )


def test_the_bam_is_told_to_extend_it_herself_not_to_ask_the_bam(personas, client):
    expiring_alert(personas.importer_a)

    bam = text_of(page(client, personas.bam_a))
    assert "(14 days left). Extend it in the CCP before then." in bam
    assert "Ask the importer's BAM" not in bam


def test_an_employee_keeps_the_sentence_that_names_the_bam(personas, client):
    expiring_alert(personas.importer_a)

    employee = text_of(page(client, personas.employee_a))
    assert "Ask the importer's BAM to extend it in the CCP before then." in employee
