"""The annual review recorded per RM account, and the daily check reading it (one rule)."""

import datetime as dt

import pytest

from clients.models import Importer
from payments.checks import run_security_checks
from payments.models import PaymentAlert, SecurityReview
from payments.reviews import record_annual_reviews, required_in_force
from tests.factories import FinancialSecurityFactory
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(personas):
    Importer.objects.filter(pk=personas.importer_a.pk).update(status=Importer.Status.ACTIVE)
    return personas.importer_a.program_accounts.get()


def open_kinds():
    return sorted(PaymentAlert.objects.filter(resolved_at=None).values_list("kind", flat=True))


def test_nothing_is_recorded_before_20_october(account):
    assert record_annual_reviews([account.pk], today=dt.date(2026, 10, 19)) == 0
    assert not SecurityReview.objects.exists()


def test_the_review_is_computed_from_the_months_before_20_october_once(account):
    make_statement(account, dt.date(2026, 9, 25), "16000.00")
    make_statement(account, dt.date(2026, 10, 25), "30000.00")  # after the review: not counted

    assert record_annual_reviews([account.pk], today=dt.date(2026, 10, 20)) == 1
    assert record_annual_reviews([account.pk], today=dt.date(2026, 10, 21)) == 0

    review = SecurityReview.objects.get(program_account=account)
    assert (review.review_date, review.top_up_by, review.source) == (
        dt.date(2026, 10, 20),
        dt.date(2027, 1, 15),
        SecurityReview.Source.COMPUTED,
    )
    assert (review.required_bond, review.required_cash) == (D("8000.00"), D("16000.00"))


def test_an_entered_figure_wins_over_the_computed_one(account):
    make_statement(account, dt.date(2026, 9, 25), "16000.00")
    SecurityReview.objects.create(
        program_account=account,
        review_date=dt.date(2026, 10, 20),
        top_up_by=dt.date(2027, 1, 15),
        required_bond=D("6000.00"),
        required_cash=D("12000.00"),
        source=SecurityReview.Source.ENTERED,
    )
    FinancialSecurityFactory(program_account=account, amount=D("6000.00"), expiry_date=None)

    run_security_checks(today=dt.date(2026, 11, 2))

    review = SecurityReview.objects.get(program_account=account)
    assert (review.source, review.required_bond) == (SecurityReview.Source.ENTERED, D("6000.00"))
    assert required_in_force(
        program_account=account, kind="surety_bond", on_date=dt.date(2026, 11, 2)
    ) == D("6000.00")
    # 6,000 posted covers the entered figure: no top-up, only the forecast of the computed 8,000
    assert open_kinds() == ["security_forecast"]


def test_the_daily_check_asks_for_a_top_up_then_blocks_after_15_january(account):
    make_statement(account, dt.date(2026, 9, 25), "16000.00")
    FinancialSecurityFactory(program_account=account, amount=D("5000.00"), expiry_date=None)

    run_security_checks(today=dt.date(2026, 10, 20))
    run_security_checks(today=dt.date(2026, 10, 21))
    assert open_kinds() == ["annual_top_up"]
    assert PaymentAlert.objects.count() == 1  # alerted once
    assert SecurityReview.objects.filter(program_account=account).count() == 1

    run_security_checks(today=dt.date(2027, 1, 16))
    assert open_kinds() == ["security_insufficient"]


def test_a_rising_peak_between_reviews_is_a_forecast_in_the_daily_check(account):
    FinancialSecurityFactory(program_account=account, amount=D("5000.00"), expiry_date=None)
    run_security_checks(today=dt.date(2026, 10, 20))  # reviewed at the $5,000 minimum
    make_statement(account, dt.date(2027, 3, 25), "16000.00")

    run_security_checks(today=dt.date(2027, 4, 1))
    run_security_checks(today=dt.date(2027, 4, 2))

    alert = PaymentAlert.objects.get()
    assert (alert.kind, alert.severity, alert.deadline) == (
        "security_forecast",
        "warning",
        dt.date(2027, 10, 20),
    )
    assert alert.resolved_at is None
