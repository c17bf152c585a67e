"""The statements API: the six personas, filters, lines, uploads, constant queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from statements.models import ImportBatch
from tests.factories import (
    BrokerEntryFactory,
    ImportBatchFactory,
    ProgramAccountFactory,
    StatementFactory,
    StatementLineFactory,
)
from tests.kit import PERSONAS
from tests.statements.conftest import ACCOUNT_A, csv_text, statement_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def data(personas):
    a = personas.importer_a.program_accounts.get()
    b = personas.importer_b.program_accounts.get()
    statement = StatementFactory(program_account=a, closing_balance=Decimal("50.00"))
    StatementLineFactory(statement=statement, position=3, amount=Decimal("50.00"), gst=50)
    StatementLineFactory(
        statement=statement,
        position=2,
        line_type="OPENING_BALANCE",
        transaction_number="",
        amount=0,
    )
    return {
        "statement": statement,
        "other": StatementFactory(program_account=b),
        "entry": BrokerEntryFactory(program_account=a, amount=Decimal("50.00")),
        "other_entry": BrokerEntryFactory(program_account=b),
        "batch": ImportBatchFactory(),
    }


LIST_IDS = {
    "broker_admin": {"statement", "other"},
    "broker_agent": {"statement", "other"},
    "broker_finance": {"statement", "other"},
    "bam_a": {"statement"},
    "finance_a": {"statement"},
    "employee_a": set(),
    "bam_b": {"other"},
}
DETAIL_A = dict.fromkeys(PERSONAS, 200) | {"employee_a": 403, "bam_b": 404}
BATCHES = {p: (200 if p.startswith("broker") else 403) for p in PERSONAS}
BATCH_DETAIL = {p: (200 if p.startswith("broker") else 404) for p in PERSONAS}


@pytest.mark.parametrize("persona", PERSONAS)
def test_statement_list_holds_what_the_persona_may_see(api_as, data, persona):
    response = api_as(persona).get("/api/v1/statements/")

    assert response.status_code == 200
    names = {
        name
        for name in ("statement", "other")
        if data[name].pk in {row["id"] for row in response.json()["results"]}
    }
    assert names == LIST_IDS[persona]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "path",
    ["/api/v1/statements/{s}/", "/api/v1/statements/{s}/lines/", "/api/v1/broker-entries/{e}/"],
)
def test_one_statement_or_entry_of_importer_a(api_as, data, persona, path):
    url = path.format(s=data["statement"].pk, e=data["entry"].pk)

    assert api_as(persona).get(url).status_code == DETAIL_A[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_import_batches_are_for_the_broker(api_as, data, persona):
    client = api_as(persona)

    assert client.get("/api/v1/import-batches/").status_code == BATCHES[persona]
    assert (
        client.get(f"/api/v1/import-batches/{data['batch'].pk}/").status_code
        == (BATCH_DETAIL[persona])
    )


def test_anonymous_gets_401():
    assert APIClient().get("/api/v1/statements/").status_code == 401


def test_statement_fields_and_lines(api_as, data):
    statement = data["statement"]
    client = api_as("bam_a")

    row = client.get(f"/api/v1/statements/{statement.pk}/").json()
    lines = client.get(f"/api/v1/statements/{statement.pk}/lines/").json()

    assert row == {
        "id": statement.pk,
        "importer": statement.program_account.importer_id,
        "importer_name": "Alpha Imports Inc.",
        "program_account": statement.program_account.bn15,
        "statement_date": "2026-10-25",
        "period_start": "2026-09-18",
        "period_end": "2026-10-17",
        "due_date": "2026-10-30",
        "opening_balance": "0.00",
        "closing_balance": "50.00",
        "stated_closing_balance": None,
        "line_count": 0,
        "status": "open",
        "source_batch": statement.source_batch_id,
        "balance_check": row["balance_check"],  # below
    }
    check = row["balance_check"]
    assert {k: v for k, v in check.items() if k != "findings"} == {
        "ok": True,
        "exception_count": 0,
        "opening": "0.00",
        "lines": "50.00",
        "computed_closing": "50.00",
        "stated_closing": None,
        "closing_difference": None,
        "previous_statement": None,
        "previous_statement_date": None,
        "previous_closing": None,
        "opening_difference": None,
    }
    assert [(f["code"], f["is_exception"]) for f in check["findings"]] == [
        ("no_stated_balance", False),
        ("no_previous_statement", False),
    ]
    assert [(line["position"], line["line_type"], line["gst"]) for line in lines["results"]] == [
        (2, "OPENING_BALANCE", "0.00"),
        (3, "CAD", "50.00"),
    ]


def test_statement_filters(api_as, data, personas):
    client = api_as("broker_finance")
    bn15 = data["statement"].program_account.bn15

    def ids(query: str) -> list[int]:
        return [row["id"] for row in client.get(f"/api/v1/statements/?{query}").json()["results"]]

    assert ids(f"importer={personas.importer_a.pk}") == [data["statement"].pk]
    assert ids(f"program_account={bn15[:9]} {bn15[9:]}") == [data["statement"].pk]
    assert ids("status=paid") == []
    assert ids("due=overdue") == [data["statement"].pk]  # 2026-10-30 has passed, 50.00 unpaid
    assert client.get("/api/v1/statements/?due=later").status_code == 400


def test_entry_filters(api_as, data):
    client = api_as("broker_agent")
    entry = data["entry"]

    response = client.get(
        f"/api/v1/broker-entries/?transaction_number={entry.transaction_number}"
        "&accounted_from=2026-10-01&accounted_to=2026-10-31"
    )

    assert [row["id"] for row in response.json()["results"]] == [entry.pk]


def test_statement_list_runs_in_constant_queries(api_as, personas, django_assert_max_num_queries):
    client = api_as("broker_agent")
    first = StatementFactory(program_account=personas.importer_a.program_accounts.get())
    with django_assert_max_num_queries(8) as one:
        response = client.get("/api/v1/statements/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [first.pk]
    for _ in range(10):
        StatementFactory(program_account=ProgramAccountFactory())
    with django_assert_max_num_queries(8) as many:
        response = client.get("/api/v1/statements/")
    assert response.status_code == 200
    assert response.json()["count"] == 11
    assert len(response.json()["results"]) == 11
    assert len(many.captured_queries) == len(one.captured_queries)


@pytest.fixture
def account_a(personas):
    personas.importer_a.program_accounts.update(bn15=ACCOUNT_A)
    type(personas.importer_a).objects.filter(pk=personas.importer_a.pk).update(bn9=ACCOUNT_A[:9])


def upload(**values):
    content = csv_text("statement", [statement_row(**values)]).encode()
    return SimpleUploadedFile("june.csv", content, content_type="text/csv")


def test_upload_imports_and_answers_the_batch(api_as, account_a):
    client = api_as("broker_finance")

    response = client.post("/api/v1/import-batches/", {"kind": "statement", "file": upload()})

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["statement_count"], body["line_count"], body["errors"]) == (
        "accepted",
        1,
        1,
        [],
    )
    assert body["uploaded_by"] == "finance@broker.example.com"
    again = client.post("/api/v1/import-batches/", {"kind": "statement", "file": upload()})
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert ImportBatch.objects.count() == 1


def test_upload_of_a_bad_file_answers_its_errors(api_as, account_a):
    response = api_as("broker_agent").post(
        "/api/v1/import-batches/", {"kind": "statement", "file": upload(amount="$1431.03")}
    )

    body = response.json()
    assert (response.status_code, body["status"], body["error_count"]) == (201, "refused", 1)
    assert body["errors"][0] == {
        "row": 2,
        "column": "amount",
        "value": "$1431.03",
        "reason": "No currency sign: write the number alone, e.g. 1431.03.",
    }


@pytest.mark.parametrize("persona", ["bam_a", "finance_a", "employee_a"])
def test_importer_people_cannot_upload(api_as, account_a, persona):
    response = api_as(persona).post(
        "/api/v1/import-batches/", {"kind": "statement", "file": upload()}
    )

    assert response.status_code == 403
    assert ImportBatch.objects.count() == 0


def test_upload_needs_a_kind_and_a_file(api_as):
    response = api_as("broker_agent").post("/api/v1/import-batches/", {"kind": "payments"})

    assert response.status_code == 400
    assert set(response.json()) == {"kind", "file"}


def test_a_large_upload_is_queued(api_as, account_a, settings, media):
    settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES = 10

    response = api_as("broker_agent").post(
        "/api/v1/import-batches/", {"kind": "statement", "file": upload()}
    )

    assert (response.status_code, response.json()["status"]) == (201, "queued")
    assert ImportBatch.objects.get().source_file


@pytest.mark.parametrize("path", ["/api/v1/statements/", "/api/v1/broker-entries/"])
@pytest.mark.parametrize("importer", ["99999999999999999999", "1.5", "0"])
def test_an_importer_id_no_row_can_have_is_a_400(api_as, path, importer):
    """Not a 500 from the database (SQLite cannot hold the number, PostgreSQL's bigint either)."""
    response = api_as("broker_agent").get(path, {"importer": importer})

    assert response.status_code == 400
    assert set(response.json()) == {"importer"}
