"""Dates a person enters run from 2000 to ten years ahead (carm_portal/dates.py), everywhere;
a payment cannot come back before it was made; a year the calendar cannot hold is a 400."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from carm_portal.dates import EARLIEST, check_business_date, latest
from payments.models import Payment
from payments.records import record_payment
from tests.payments.conftest import D

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)
PAYMENT = {"amount": "512.40", "method": "pad", "paid_on": "2026-11-20"}
SECURITY = {
    "kind": "surety_bond",
    "surety_company": "Intact Insurance Company",
    "bond_number": "ic-9",
    "amount": "6000.00",
    "effective_date": "2026-11-01",
    "status": "active",
}


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


def test_the_range_edges():
    check_business_date(EARLIEST)
    check_business_date(latest())
    check_business_date(None)
    assert latest() == dt.date(2036, 11, 23)
    for bad in (dt.date(1999, 12, 31), dt.date(2036, 11, 24), dt.date(1, 1, 1)):
        with pytest.raises(ValidationError) as refused:
            check_business_date(bad)
        assert refused.value.messages == ["Enter a date between 2000-01-01 and 2036-11-23."]


def test_the_range_is_a_setting(settings):
    settings.BUSINESS_DATE_MAX_YEARS_AHEAD = 2

    assert latest() == dt.date(2028, 11, 23)


def test_latest_from_29_february():
    assert latest(dt.date(2028, 2, 29)) == dt.date(2038, 2, 28)


@pytest.mark.parametrize("paid_on", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_api_refuses_an_absurd_payment_date(api_as, personas, account, paid_on):
    body = PAYMENT | {
        "importer": personas.importer_a.pk,
        "program_account": account.pk,
        "paid_on": paid_on,
    }

    response = api_as("bam_a").post("/api/v1/payments/", body, format="json")

    assert response.status_code == 400
    assert "paid_on" in response.json()
    assert not Payment.objects.exists()


@pytest.mark.parametrize("value", ["0000-01-01", "2026-02-30", "20261-01-01", "-001-01-01"])
def test_a_date_the_calendar_cannot_hold_is_a_field_error(api_as, personas, account, value):
    body = PAYMENT | {
        "importer": personas.importer_a.pk,
        "program_account": account.pk,
        "paid_on": value,
    }

    response = api_as("bam_a").post("/api/v1/payments/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["paid_on"]
    assert "out of range" not in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("effective_date", "0001-01-01"),
        ("expiry_date", "2100-01-01"),
        ("effective_date", "1970-01-01"),
    ],
)
def test_api_refuses_an_absurd_security_date(api_as, account, field, value):
    body = SECURITY | {"program_account": account.pk, field: value}

    response = api_as("bam_a").post("/api/v1/financial-securities/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_security_of_ten_years_is_accepted(api_as, account):
    body = SECURITY | {"program_account": account.pk, "expiry_date": "2036-10-31"}

    response = api_as("bam_a").post("/api/v1/financial-securities/", body, format="json")

    assert response.status_code == 201, response.content


@pytest.fixture
def payment(personas, account):
    made, _plan = record_payment(
        importer=personas.importer_a,
        program_account=account,
        amount=D("300.00"),
        method="online_banking",
        paid_on=dt.date(2026, 11, 2),
        by=None,
    )
    return made


@pytest.mark.parametrize("returned_on", ["2026-11-01", "2000-01-01", "2026-11-24"])
def test_api_refuses_a_return_before_the_payment_or_ahead(api_as, payment, returned_on):
    response = api_as("bam_a").post(
        f"/api/v1/payments/{payment.pk}/status/",
        {"status": "returned", "returned_on": returned_on},
        format="json",
    )

    assert response.status_code == 400
    assert "returned_on" in response.json()
    payment.refresh_from_db()
    assert (payment.status, payment.returned_on) == ("pending", None)


def test_api_accepts_a_return_on_the_day_of_payment(api_as, payment):
    response = api_as("bam_a").post(
        f"/api/v1/payments/{payment.pk}/status/",
        {"status": "returned", "returned_on": "2026-11-02"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["returned_on"] == "2026-11-02"


def test_the_page_refuses_a_return_before_the_payment(client_for, personas, payment):
    response = client_for(personas.bam_a).post(
        f"/payments/{payment.pk}/status/", {"status": "returned", "returned_on": "2026-10-01"}
    )

    assert response.status_code == 400
    assert "cannot come back before it was made" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_the_payment_page_refuses_an_absurd_date(client_for, personas, account):
    response = client_for(personas.bam_a).post(
        f"/payments/new/{personas.importer_a.pk}/",
        {
            "importer": personas.importer_a.pk,
            "program_account": account.pk,
            "amount": "10.00",
            "method": "online_banking",
            "paid_on": "1999-01-01",
        },
    )

    assert response.status_code in (200, 400)
    assert "Enter a date between 2000-01-01" in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("requested_on", "1899-01-01"), ("expiry_date", "2200-01-01")],
)
def test_api_refuses_an_absurd_delegation_date(api_as, personas, account, field, value):
    body = {
        "importer": personas.importer_a.pk,
        "kind": "bmr",
        "role": "pbam",
        field: value,
    }

    response = api_as("broker_agent").post("/api/v1/delegations/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
