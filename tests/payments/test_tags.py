"""The pieces other apps' pages include: the statement's payments box, the importer's panel and
its chart, the nav link."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from payments.models import InterestRate, Payment
from payments.records import record_payment, set_payment_status
from tests.factories import FinancialSecurityFactory
from tests.kit import PERSONAS
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db


def render(source: str, user, **context) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load payments_ui %}" + source).render(
        Context({"request": request, **context})
    )


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


@pytest.fixture
def statement(account):
    """Due 2026-10-30: 300 paid on time (cleared), 100 paid late (in transit), 412.40 owing."""
    statement = make_statement(account, dt.date(2026, 10, 25), "812.40")
    for amount, paid_on, status in (
        ("300.00", "2026-10-28", "cleared"),
        ("100.00", "2026-11-09", "pending"),
    ):
        record_payment(
            importer=account.importer,
            program_account=account,
            amount=D(amount),
            method="online_banking",
            paid_on=dt.date.fromisoformat(paid_on),
            status=status,
            by=None,
        )
    InterestRate.objects.create(effective_from=dt.date(2026, 1, 1), annual_rate=D("9.000"))
    return statement


def test_the_statement_box_shows_paid_outstanding_overdue_and_interest(personas, statement):
    html = render(
        "{% statement_payments statement %}", personas.broker_finance, statement=statement
    )

    text = " ".join(html.split())
    assert 'Billed on this statement</th><td class="num mono">$812.40' in text
    assert 'Paid (cleared)</th><td class="num mono">$300.00' in text
    assert 'Paid, in transit</th><td class="num mono">$100.00' in text
    assert 'Outstanding</th><td class="num mono"><strong>$412.40</strong>' in text
    assert '<strong>$412.40</strong> <span class="muted">(24 days)</span>' in text
    # 100.00 x 10 days + 412.40 x 24 days at 9 %: (1,000 + 9,897.60) x 9 / 36,500 = 2.6871 -> 2.69
    assert 'Interest, estimated</th><td class="num mono">$2.69' in text
    assert 'Late-payment penalty, estimated</th><td class="num mono">$200.00' in text
    assert "A payment in transit is not missing" in text
    assert 'badge--overdue">Overdue' in text


def test_a_returned_payment_is_shown_struck_out(personas, statement):
    payment = Payment.objects.get(status="cleared")
    set_payment_status(payment=payment, status=Payment.Status.RETURNED, by=None)

    html = render("{% statement_payments statement %}", personas.bam_a, statement=statement)

    assert '<del class="mono">$300.00</del>' in html
    assert "<strong>$712.40</strong>" in html


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_statement_box_is_for_finance_eyes_only(personas, statement, persona):
    html = render(
        "{% statement_payments statement %}", personas.all()[persona], statement=statement
    )

    assert ("Billed on this statement" in html) is (persona not in ("employee_a", "bam_b"))


def test_a_paid_statement_says_paid(personas, account):
    statement = make_statement(account, dt.date(2026, 10, 25), "100.00")
    record_payment(
        importer=account.importer,
        program_account=account,
        amount=D("100.00"),
        method="pad",
        paid_on=dt.date(2026, 10, 29),
        status="cleared",
        by=None,
    )

    html = render("{% statement_payments statement %}", personas.bam_a, statement=statement)

    assert 'badge--paid">Paid' in html
    assert "Interest, estimated" not in html


def test_the_importer_panel_and_its_chart(personas, account, statement):
    for month in (6, 7, 8, 9):
        make_statement(account, dt.date(2026, month, 25), "6000.00")
    make_statement(account, dt.date(2026, 5, 25), "12500.00")
    FinancialSecurityFactory(program_account=account, amount=D("5000.00"))

    html = render(
        "{% payments_panel importer %}", personas.broker_agent, importer=personas.importer_a
    )

    assert "Payments and financial security" in html
    assert '<svg viewBox="0 0 640 220" role="img"' in html
    assert (
        "6 statements in the last 12 months. The security posted covers months up to $10,000.00; "
        "1 month is above it."
    ) in html
    assert html.count("pay-chart__bar--over") == 1
    assert 'class="pay-chart__line"' in html
    assert "<summary>The figures</summary>" in html
    assert "$6,250.00</span> as a surety bond (50 %)" in html
    assert "Record a payment" not in html  # agents see payments but do not record them


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_panel_is_for_finance_eyes_only(personas, persona):
    html = render(
        "{% payments_panel importer %}", personas.all()[persona], importer=personas.importer_a
    )

    assert ("Payments and financial security" in html) is (persona not in ("employee_a", "bam_b"))


def test_the_importer_page_and_home_include_the_panel(personas, client_for):
    detail = client_for(personas.broker_finance).get(personas.importer_a.get_absolute_url())
    home = client_for(personas.bam_a).get("/")

    assert "Payments and financial security" in detail.content.decode()
    assert "Payments and financial security" in home.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_nav_link_shows_where_payments_can_be_seen(personas, client_for, persona):
    page = client_for(personas.all()[persona]).get("/delegations/").content.decode()

    assert ('href="/payments/"' in page) is (persona != "employee_a")


def test_the_panel_lists_what_is_still_owing_without_waiting_for_the_daily_check(
    personas, account, statement
):
    html = render("{% payments_panel importer %}", personas.bam_a, importer=personas.importer_a)

    text = " ".join(html.split())
    assert f'<a href="/statements/{statement.pk}/">2026-10-25</a>' in text
    assert '<td class="num mono">$412.40</td> <td class="num mono">$100.00</td>' in text
