"""The payments API: the six personas on every endpoint, recording, the rules as the forms have them."""

import datetime as dt

import pytest

from payments.checks import run_payment_checks
from payments.models import FinancialSecurity, InterestRate, Payment
from payments.records import record_payment
from tests.factories import (
    FinancialSecurityFactory,
    ImporterFactory,
    PaymentFactory,
    ProgramAccountFactory,
)
from tests.kit import PERSONAS
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


@pytest.fixture
def world(personas, account):
    statement = make_statement(account, dt.date(2026, 10, 25), "812.40")
    payment, _plan = record_payment(
        importer=personas.importer_a,
        program_account=account,
        amount=D("300.00"),
        method="online_banking",
        paid_on=dt.date(2026, 11, 2),
        by=None,
    )
    run_payment_checks(today=dt.date(2026, 11, 23))
    return {
        "statement": statement,
        "payment": payment,
        "security": FinancialSecurityFactory(program_account=account),
        "alert": payment.importer.payment_alerts.get(kind="overdue"),
        "rate": InterestRate.objects.create(effective_from=dt.date(2026, 1, 1), annual_rate=9),
    }


DETAIL = dict.fromkeys(PERSONAS, 200) | {"employee_a": 403, "bam_b": 404}
BROKER = {p: 200 if p.startswith("broker") else 403 for p in PERSONAS}
SEES_A = {"broker_admin", "broker_agent", "broker_finance", "bam_a", "finance_a"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("endpoint", "key"),
    [("payments", "payment"), ("financial-securities", "security"), ("payment-alerts", "alert")],
)
def test_importer_scoped_endpoints(api_as, world, persona, endpoint, key):
    api = api_as(persona)

    listing = api.get(f"/api/v1/{endpoint}/")
    detail = api.get(f"/api/v1/{endpoint}/{world[key].pk}/")

    ids = [row["id"] for row in listing.json()["results"]]
    assert listing.status_code == 200
    assert (world[key].pk in ids) is (persona in SEES_A)
    if persona not in SEES_A:
        assert ids == []
    assert detail.status_code == DETAIL[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_interest_rates_are_for_broker_staff(api_as, world, persona):
    api = api_as(persona)

    assert api.get("/api/v1/interest-rates/").status_code == BROKER[persona]
    assert api.get(f"/api/v1/interest-rates/{world['rate'].pk}/").status_code == BROKER[persona]
    created = api.post(
        "/api/v1/interest-rates/",
        {"effective_from": "2026-10-01", "annual_rate": "8.000"},
        format="json",
    )
    assert created.status_code == (201 if persona == "broker_admin" else 403)


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/payments/").status_code == 401


def test_a_payment_shows_its_allocations_and_what_is_left(api_as, world):
    data = api_as("bam_a").get(f"/api/v1/payments/{world['payment'].pk}/").json()

    assert data["allocations"] == [
        {
            "statement": world["statement"].pk,
            "statement_date": "2026-10-25",
            "due_date": world["statement"].due_date.isoformat(),
            "amount": "300.00",
            "manual": False,
        }
    ]
    assert (data["unapplied"], data["status"], data["expected_posting"]) == (
        "0.00",
        "pending",
        "2026-11-05",
    )


PAYMENT = {
    "program_account": None,
    "amount": "512.40",
    "method": "pad",
    "paid_on": "2026-11-20",
}
CREATE = {
    "broker_admin": 201,
    "broker_agent": 403,
    "broker_finance": 201,
    "bam_a": 201,
    "finance_a": 201,
    "employee_a": 403,
    "bam_b": 400,  # importer A does not exist for them
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_recording_a_payment(api_as, personas, world, account, persona):
    body = PAYMENT | {"importer": personas.importer_a.pk, "program_account": account.pk}

    response = api_as(persona).post("/api/v1/payments/", body, format="json")

    assert response.status_code == CREATE[persona], response.content
    if response.status_code == 201:
        assert response.json()["allocations"][0]["amount"] == "512.40"
    if persona == "bam_b":
        assert response.json()["importer"] == ["No such importer."]


def test_the_api_refuses_a_credit_card_over_the_limit(api_as, personas, account):
    body = PAYMENT | {
        "importer": personas.importer_a.pk,
        "program_account": account.pk,
        "method": "credit_card",
        "amount": "5000.00",
    }

    response = api_as("broker_finance").post("/api/v1/payments/", body, format="json")

    assert response.status_code == 400
    assert response.json()["amount"][0].startswith(
        "CBSA accepts at most $4,999.99 by credit card per billing cycle per program account."
    )
    assert Payment.objects.count() == 0


def test_the_api_needs_allocations_for_a_broker_paid_payment(api_as, personas, world, account):
    body = PAYMENT | {
        "importer": personas.importer_a.pk,
        "program_account": account.pk,
        "method": "broker",
    }
    api = api_as("broker_finance")

    refused = api.post("/api/v1/payments/", body, format="json")
    by_hand = api.post(
        "/api/v1/payments/",
        body | {"allocations": [{"statement": world["statement"].pk, "amount": "512.40"}]},
        format="json",
    )
    too_much = api.post(
        "/api/v1/payments/",
        body | {"allocations": [{"statement": world["statement"].pk, "amount": "0.01"}]},
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json()["allocation"] == [
        "A payment the broker made on the importer's behalf goes to the statements it was made "
        "for: allocate it by hand."
    ]
    assert by_hand.status_code == 201
    assert too_much.status_code == 400
    assert too_much.json()["allocations"][0].startswith(
        "The statement of 2026-10-25 still asks for $0.00"
    )


def test_an_account_of_another_importer_is_refused(api_as, personas):
    other = personas.importer_b.program_accounts.get()
    body = PAYMENT | {"importer": personas.importer_a.pk, "program_account": other.pk}

    response = api_as("broker_finance").post("/api/v1/payments/", body, format="json")

    assert response.status_code == 400
    assert response.json()["program_account"] == [
        f"{other.bn15} is not a program account of this importer."
    ]


def test_status_and_allocate_actions(api_as, world):
    api = api_as("bam_a")
    pk = world["payment"].pk

    cleared = api.post(f"/api/v1/payments/{pk}/status/", {"status": "cleared"}, format="json")
    moved = api.post(f"/api/v1/payments/{pk}/allocate/", {"allocations": []}, format="json")
    back = api.post(f"/api/v1/payments/{pk}/allocate/", {}, format="json")
    refused = api_as("broker_agent").post(f"/api/v1/payments/{pk}/status/", {"status": "returned"})
    hidden = api_as("bam_b").post(f"/api/v1/payments/{pk}/status/", {"status": "returned"})

    assert (cleared.status_code, cleared.json()["status"]) == (200, "cleared")
    assert (moved.status_code, moved.json()["unapplied"]) == (200, "300.00")
    assert (back.status_code, back.json()["unapplied"]) == (200, "0.00")
    assert (refused.status_code, hidden.status_code) == (403, 404)


SECURITY = {
    "kind": "surety_bond",
    "surety_company": "Intact Insurance Company",
    "bond_number": "ic-9",
    "amount": "6000.00",
    "effective_date": "2026-11-01",
    "status": "active",
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_recording_a_security(api_as, account, persona):
    expected = CREATE | {"bam_b": 400}

    response = api_as(persona).post(
        "/api/v1/financial-securities/", SECURITY | {"program_account": account.pk}, format="json"
    )

    assert response.status_code == expected[persona], response.content
    if response.status_code == 201:
        data = response.json()
        assert (data["bond_number"], data["required_amount"], data["account_covered"]) == (
            "IC-9",
            "5000.00",
            True,
        )
        assert FinancialSecurity.objects.get().recorded_by is not None


def test_a_security_cannot_move_to_another_account(api_as, world, personas):
    other = ProgramAccountFactory(importer=personas.importer_a)

    response = api_as("broker_finance").patch(
        f"/api/v1/financial-securities/{world['security'].pk}/",
        {"program_account": other.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["program_account"] == [
        "A security cannot move to another program account."
    ]


def test_list_endpoints_run_in_constant_queries(api_as, personas, django_assert_max_num_queries):
    api = api_as("broker_finance")

    def add():
        account = ProgramAccountFactory(importer=ImporterFactory())
        make_statement(account, dt.date(2026, 9, 25), "100.00")
        PaymentFactory(program_account=account)
        FinancialSecurityFactory(program_account=account)

    add()
    counts = {}
    for endpoint in ("payments", "financial-securities"):
        with django_assert_max_num_queries(12) as one:
            response = api.get(f"/api/v1/{endpoint}/")
        assert response.status_code == 200
        assert len(response.json()["results"]) == 1
        counts[endpoint] = len(one.captured_queries)
    for _ in range(10):
        add()
    for endpoint in ("payments", "financial-securities"):
        with django_assert_max_num_queries(12) as many:
            response = api.get(f"/api/v1/{endpoint}/")
        assert response.status_code == 200
        assert len(response.json()["results"]) == 11
        assert len(many.captured_queries) == counts[endpoint]
