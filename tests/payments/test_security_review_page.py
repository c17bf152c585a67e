"""The annual-review page of an RM account: CBSA's figure entered, corrected, checked against."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clients.models import Importer
from payments.checks import run_security_checks
from payments.models import PaymentAlert, SecurityForecast, SecurityReview
from payments.reviews import required_in_force
from tests.factories import FinancialSecurityFactory
from tests.kit import PERSONAS
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db

# The payments conftest's today: 2026-11-23, in the top-up window of the 2026-10-20 review.
REVIEW = dt.date(2026, 10, 20)


@pytest.fixture
def account(personas):
    Importer.objects.filter(pk=personas.importer_a.pk).update(status=Importer.Status.ACTIVE)
    return personas.importer_a.program_accounts.get()


def url(account) -> str:
    return reverse("payments:security_review", args=[account.pk])


def entry(**changes) -> dict[str, str]:
    data = {
        "review_date": "2026-10-20",
        "required_bond": "6000.00",
        "required_cash": "",
        "cbsa_reference": "RPP-2026-0042",
        "notes": "Notice received by mail.",
    }
    data.update(changes)
    return data


ACCESS = dict(zip(PERSONAS, (200, 403, 200, 200, 200, 403, 404), strict=True))


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_open_the_page(personas, client_for, account, persona):
    response = client_for(personas.all()[persona]).get(url(account))
    assert response.status_code == ACCESS[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_enter_a_figure(personas, client_for, account, persona):
    response = client_for(personas.all()[persona]).post(url(account), entry())
    expected = 302 if ACCESS[persona] == 200 else ACCESS[persona]
    assert response.status_code == expected
    assert SecurityReview.objects.filter(program_account=account).exists() == (expected == 302)


def test_a_guessed_account_id_is_not_found(personas, client_for):
    response = client_for(personas.bam_a).get(reverse("payments:security_review", args=[999999]))
    assert response.status_code == 404


def test_cbsa_figure_replaces_the_computed_one_and_the_check_follows(personas, client_for, account):
    make_statement(account, dt.date(2026, 9, 25), "16000.00")  # computed: 8,000.00 as a bond
    FinancialSecurityFactory(program_account=account, amount=D("6000.00"), expiry_date=None)
    run_security_checks(today=dt.date(2026, 11, 23))
    assert list(PaymentAlert.objects.filter(resolved_at=None).values_list("kind", flat=True)) == [
        "annual_top_up"
    ]

    SecurityForecast.objects.all().delete()  # saving must compute it again

    response = client_for(personas.broker_finance).post(url(account), entry())

    assert response.status_code == 302
    review = SecurityReview.objects.get(program_account=account)
    assert (review.source, review.required_bond, review.required_cash) == (
        SecurityReview.Source.ENTERED,
        D("6000.00"),
        D("12000.00"),  # twice the bond, the cash field left blank
    )
    assert (review.top_up_by, review.cbsa_reference) == (
        dt.date(2027, 1, 15),
        "RPP-2026-0042",
    )
    assert review.recorded_by == personas.broker_finance
    # 6,000 posted covers CBSA's 6,000: the top-up is resolved; 8,000 stays the forecast
    assert list(PaymentAlert.objects.filter(resolved_at=None).values_list("kind", flat=True)) == [
        "security_forecast"
    ]
    assert required_in_force(
        program_account=account, kind="surety_bond", on_date=dt.date(2026, 11, 23)
    ) == D("6000.00")
    # the forecast snapshot was recomputed for the account: 8,000.00 at the next review, 2,000 short
    row = SecurityForecast.objects.get(program_account=account)
    assert (row.required_bond, row.shortfall, row.review_on) == (
        D("8000.00"),
        D("2000.00"),
        dt.date(2027, 10, 20),
    )


def test_a_correction_keeps_its_history(personas, client_for, account):
    client = client_for(personas.bam_a)
    client.post(url(account), entry())
    client.post(url(account), entry(required_bond="7500.50", required_cash="15001.00"))

    review = SecurityReview.objects.get(program_account=account)
    assert (review.required_bond, review.required_cash) == (D("7500.50"), D("15001.00"))
    records = review.history.order_by("history_date")
    assert [r.required_bond for r in records] == [D("6000.00"), D("7500.50")]
    assert {r.history_user for r in records} == {personas.bam_a}
    page = client.get(url(account)).content.decode()
    assert "RPP-2026-0042" in page
    assert 'value="7500.50"' in page  # the form shows the figure entered, to correct it


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"review_date": "2026-10-21"}, "20 October"),
        ({"review_date": "0205-10-20"}, "Enter a date between"),
        ({"review_date": "2027-10-20"}, "has not taken place"),
        ({"review_date": "yesterday"}, "Enter a valid date"),
        ({"required_bond": "6000.123"}, "2 decimal places"),
        ({"required_bond": "4999.99"}, "between"),
        ({"required_bond": "6000.00", "required_cash": "5000.00"}, "less than a surety bond"),
        ({"required_bond": ""}, "required"),
    ],
)
def test_bad_input_is_shown_again_with_the_reason(personas, client_for, account, changes, message):
    data = entry(**changes)
    response = client_for(personas.broker_admin).post(url(account), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'value="RPP-2026-0042"' in page  # what was typed is kept
    assert not SecurityReview.objects.exists()


def test_the_security_page_shows_the_review_and_links_to_it(personas, client_for, account):
    security = FinancialSecurityFactory(program_account=account, amount=D("6000.00"))
    client = client_for(personas.broker_finance)
    client.post(url(account), entry())

    page = client.get(reverse("payments:security_detail", args=[security.pk])).content.decode()

    assert "RPP-2026-0042" in page
    assert url(account) in page
    agent_view = client_for(personas.broker_agent).get(
        reverse("payments:security_detail", args=[security.pk])
    )
    assert agent_view.status_code == 200
    assert url(account) not in agent_view.content.decode()  # no link without the right
