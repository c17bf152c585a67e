"""Statement pages: access for every persona, filters, constant queries, the statement's totals and
balance check, uploads (at once and by the worker), the batch page and its error CSV."""

import datetime as dt
from decimal import Decimal
from pathlib import PurePath

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from statements.models import ImportBatch, Statement
from tests.factories import (
    ImportBatchFactory,
    ProgramAccountFactory,
    StatementFactory,
    StatementLineFactory,
)
from tests.kit import PERSONAS
from tests.statements.conftest import ACCOUNT_A, SAMPLES, csv_text, statement_row

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def statement_a(personas):
    account = personas.importer_a.program_accounts.get()
    statement = StatementFactory(
        program_account=account,
        statement_date=dt.date(2026, 10, 25),
        opening_balance=Decimal("100.00"),
        closing_balance=Decimal("150.00"),
        line_count=2,
    )
    StatementLineFactory(
        statement=statement,
        position=2,
        line_type="OPENING_BALANCE",
        transaction_number="",
        amount=Decimal("100.00"),
    )
    StatementLineFactory(
        statement=statement,
        position=3,
        customs_duties=Decimal("20.00"),
        gst=Decimal("30.00"),
        amount=Decimal("50.00"),
    )
    return statement


@pytest.fixture
def batch(personas):
    return ImportBatchFactory(
        status="refused",
        error_count=1,
        errors=[{"row": 2, "column": "amount", "value": "$1", "reason": "No currency sign."}],
    )


BROKER = {"broker_admin", "broker_agent", "broker_finance"}
FINANCE_A = dict.fromkeys(PERSONAS, 200) | {"employee_a": 403, "bam_b": 404}
LIST = dict.fromkeys(PERSONAS, 200) | {"employee_a": 403}
IMPORTS = {p: (200 if p in BROKER else 403) for p in PERSONAS}
BATCH = {p: (200 if p in BROKER else 404) for p in PERSONAS}
UPLOAD_POST = {p: (302 if p in BROKER else 403) for p in PERSONAS}


def _cases():
    for persona in PERSONAS:
        yield "get", "/statements/", persona, LIST[persona]
        yield "get", "/statements/importer/{i}/", persona, FINANCE_A[persona]
        yield "get", "/statements/{s}/", persona, FINANCE_A[persona]
        yield "get", "/statements/imports/", persona, IMPORTS[persona]
        yield "get", "/statements/imports/new/", persona, IMPORTS[persona]
        yield "post", "/statements/imports/new/", persona, UPLOAD_POST[persona]
        yield "get", "/statements/imports/{b}/", persona, BATCH[persona]
        yield "get", "/statements/imports/{b}/errors.csv", persona, BATCH[persona]


@pytest.mark.parametrize(("method", "url", "persona", "expected"), list(_cases()))
def test_access(personas, client_for, statement_a, batch, method, url, persona, expected):
    client = client_for(personas.all()[persona])
    path = url.format(i=personas.importer_a.pk, s=statement_a.pk, b=batch.pk)
    if method == "get":
        response = client.get(path)
    else:
        upload = SimpleUploadedFile("s.csv", b"account_number\n", content_type="text/csv")
        response = client.post(path, {"kind": "statement", "file": upload})
    assert response.status_code == expected


@pytest.mark.parametrize(
    "url",
    [
        "/statements/",
        "/statements/importer/1/",
        "/statements/1/",
        "/statements/imports/",
        "/statements/imports/new/",
        "/statements/imports/1/",
        "/statements/imports/1/errors.csv",
    ],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_importer_sees_only_its_own_statements(personas, client_for, statement_a):
    StatementFactory(program_account=personas.importer_b.program_accounts.get())

    response = client_for(personas.bam_a).get("/statements/")

    assert [s.pk for s in response.context["statements"]] == [statement_a.pk]
    assert response.context["can_import"] is False


def test_a_batch_is_visible_to_the_person_who_sent_it(personas, client_for):
    mine = ImportBatchFactory(uploaded_by=personas.bam_a)

    response = client_for(personas.bam_a).get(f"/statements/imports/{mine.pk}/")

    assert response.status_code == 403  # theirs, but importing is for the broker's staff


# --- Lists: filters and queries -----------------------------------------------------------------


@pytest.fixture
def portfolio(personas):
    """Four statements: overdue, due soon, due later, and paid."""
    a = personas.importer_a.program_accounts.get()
    b = personas.importer_b.program_accounts.get()
    return {
        "overdue": StatementFactory(
            program_account=a, statement_date=dt.date(2026, 9, 25), closing_balance=10
        ),
        "soon": StatementFactory(
            program_account=a,
            statement_date=dt.date(2026, 10, 25),
            closing_balance=10,
            due_date=TODAY + dt.timedelta(days=3),
        ),
        "later": StatementFactory(
            program_account=b,
            statement_date=dt.date(2026, 11, 25),
            closing_balance=10,
            due_date=TODAY + dt.timedelta(days=20),
        ),
        "paid": StatementFactory(
            program_account=b,
            statement_date=dt.date(2026, 9, 25),
            closing_balance=10,
            status="paid",
        ),
    }


def test_list_filters(personas, client_for, portfolio):
    client = client_for(personas.broker_finance)

    def ids(query: str) -> set[int]:
        return {s.pk for s in client.get(f"/statements/?{query}").context["statements"]}

    p = {name: s.pk for name, s in portfolio.items()}
    assert ids("") == set(p.values())
    assert ids("due=overdue") == {p["overdue"]}
    assert ids("due=due_soon") == {p["soon"]}
    assert ids("status=paid") == {p["paid"]}
    assert ids("period=2026-09-25") == {p["overdue"], p["paid"]}
    assert ids("q=Bravo") == {p["later"], p["paid"]}
    assert ids(f"q={personas.importer_a.bn9}") == {p["overdue"], p["soon"]}
    response = client.get("/statements/")
    assert response.context["counts"] == {"overdue": 1, "due_soon": 1}
    assert b"2026-09-25 \xc2\xb7 2026-08-18 \xe2\x80\x93 2026-09-17" in response.content


def test_importer_list_shows_only_that_importer(personas, client_for, portfolio):
    response = client_for(personas.bam_a).get(f"/statements/importer/{personas.importer_a.pk}/")

    assert {s.pk for s in response.context["statements"]} == {
        portfolio["overdue"].pk,
        portfolio["soon"].pk,
    }
    assert "q" not in response.context["form"].fields
    assert b"Overdue" in response.content


@pytest.mark.parametrize("url", ["/statements/", "/statements/importer/{i}/"])
def test_lists_run_in_constant_queries(personas, client_for, django_assert_max_num_queries, url):
    client = client_for(personas.broker_agent)
    account = personas.importer_a.program_accounts.get()
    path = url.format(i=personas.importer_a.pk)
    first = StatementFactory(program_account=account, statement_date=dt.date(2025, 1, 25))
    with django_assert_max_num_queries(12) as one:
        response = client.get(path)
    assert response.status_code == 200
    assert [s.pk for s in response.context["statements"]] == [first.pk]
    for month in range(2, 13):
        StatementFactory(program_account=account, statement_date=dt.date(2025, month, 25))
    for _ in range(10):
        other = ProgramAccountFactory(importer=personas.importer_a)
        StatementFactory(program_account=other, statement_date=dt.date(2025, 3, 25))
    with django_assert_max_num_queries(12) as many:
        response = client.get(path)
    assert response.status_code == 200
    assert len(response.context["statements"]) == 22
    assert len(many.captured_queries) == len(one.captured_queries)


# --- One statement ----------------------------------------------------------------------------


def test_detail_shows_totals_and_a_balanced_check(personas, client_for, statement_a):
    response = client_for(personas.bam_a).get(f"/statements/{statement_a.pk}/")

    totals = response.context["totals"]
    assert [(c.name, c.amount) for c in totals.components] == [
        ("customs_duties", Decimal("20.00")),
        ("gst", Decimal("30.00")),
    ]
    assert [(t.line_type, t.count, t.amount) for t in totals.by_type] == [
        ("CAD", 1, Decimal("50.00")),
        ("OPENING_BALANCE", 1, Decimal("100.00")),
    ]
    check = response.context["check"]
    assert (check.opening, check.lines, check.computed, check.closing, check.ok) == (
        Decimal("100.00"),
        Decimal("50.00"),
        Decimal("150.00"),
        Decimal("150.00"),
        True,
    )
    assert b"Balanced" in response.content
    assert response.context["can_see_batch"] is False


def test_detail_flags_a_statement_that_does_not_balance(personas, client_for, statement_a):
    Statement.objects.filter(pk=statement_a.pk).update(closing_balance=Decimal("151.00"))

    response = client_for(personas.broker_agent).get(f"/statements/{statement_a.pk}/")

    check = response.context["check"]
    assert (check.ok, check.difference) == (False, Decimal("1.00"))
    assert b"Does not balance" in response.content


def test_detail_filters_and_paginates_lines_in_constant_queries(
    personas, client_for, statement_a, django_assert_max_num_queries
):
    client = client_for(personas.broker_agent)
    # 21: the 20 of the page, plus one for the CADs accounted late (services' compliance_ui)
    with django_assert_max_num_queries(21) as few:
        response = client.get(f"/statements/{statement_a.pk}/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == statement_a.lines.count()
    for position in range(4, 254):
        StatementLineFactory(statement=statement_a, position=position, amount=Decimal("1.00"))
    with django_assert_max_num_queries(21) as many:
        response = client.get(f"/statements/{statement_a.pk}/?type=CAD&page=2")
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    page = response.context["page"]
    assert (page.number, page.paginator.count, len(response.context["lines"])) == (2, 251, 100)
    assert response.context["lines"][0].position == 103


def test_detail_shows_the_import_in_the_history(personas, client_for, accounts_for_personas):
    response = client_for(personas.broker_finance).post(
        "/statements/imports/new/",
        {"kind": "statement", "file": sample_upload(personas)},
    )
    statement = Statement.objects.get()

    page = client_for(personas.broker_finance).get(statement.get_absolute_url())

    assert response.status_code == 302
    entry = page.context["history"][0]
    assert (entry.action, entry.who, entry.reason) == (
        "created",
        personas.broker_finance,
        f"Imported from batch #{statement.source_batch_id}",
    )
    assert page.context["can_see_batch"] is True


# --- Uploads ----------------------------------------------------------------------------------


@pytest.fixture
def accounts_for_personas(personas):
    """Importer A's account is the BN15 of the sample rows."""
    personas.importer_a.program_accounts.update(bn15=ACCOUNT_A)
    type(personas.importer_a).objects.filter(pk=personas.importer_a.pk).update(bn9=ACCOUNT_A[:9])
    return personas


def sample_upload(personas, **values) -> SimpleUploadedFile:
    content = csv_text("statement", [statement_row(**values)]).encode()
    return SimpleUploadedFile("june.csv", content, content_type="text/csv")


def test_a_small_upload_is_imported_at_once(personas, client_for, accounts_for_personas):
    response = client_for(personas.broker_agent).post(
        "/statements/imports/new/",
        {"kind": "statement", "file": sample_upload(personas)},
        follow=True,
    )

    batch = ImportBatch.objects.get()
    assert response.redirect_chain == [(f"/statements/imports/{batch.pk}/", 302)]
    assert (batch.status, batch.uploaded_by, batch.file_name) == (
        "accepted",
        personas.broker_agent,
        "june.csv",
    )
    assert b"Imported 1 statement (1 line) for 1 program account." in response.content
    assert response.context["refresh_seconds"] is None


def test_a_refused_upload_shows_its_errors(personas, client_for, accounts_for_personas):
    response = client_for(personas.broker_agent).post(
        "/statements/imports/new/",
        {"kind": "statement", "file": sample_upload(personas, amount="1431.035")},
        follow=True,
    )

    assert b"At most 2 decimal places (cents)." in response.content
    assert b"Download as CSV" in response.content
    assert Statement.objects.count() == 0


def test_the_same_upload_twice_goes_to_the_first_batch(personas, client_for, accounts_for_personas):
    client = client_for(personas.broker_agent)
    client.post("/statements/imports/new/", {"kind": "statement", "file": sample_upload(personas)})
    first = ImportBatch.objects.get()

    response = client.post(
        "/statements/imports/new/",
        {"kind": "statement", "file": sample_upload(personas)},
        follow=True,
    )

    assert response.redirect_chain == [(f"/statements/imports/{first.pk}/", 302)]
    assert b"Already imported" in response.content
    assert ImportBatch.objects.count() == 1


def test_a_large_upload_is_queued_for_the_heavy_worker(
    personas,
    client_for,
    accounts_for_personas,
    settings,
    media,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from carm_portal.celery import app

    settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES = 10
    # The Celery app read its settings once; set eager on it, not on Django's settings.
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    client = client_for(personas.broker_agent)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/statements/imports/new/", {"kind": "statement", "file": sample_upload(personas)}
        )
    batch = ImportBatch.objects.get()
    assert (batch.status, bool(batch.source_file)) == ("queued", True)
    page = client.get(response["Location"])
    assert b'<meta http-equiv="refresh" content="2">' in page.content
    assert "Queued — it will start when a worker is available".encode() in page.content

    for callback in callbacks:
        callback()

    batch.refresh_from_db()
    assert (batch.status, batch.line_count) == ("accepted", 1)
    assert [p.name for p in media.rglob("*.csv")] == [PurePath(batch.source_file.name).name]
    page = client.get(response["Location"])
    assert b'http-equiv="refresh"' not in page.content


def test_a_running_batch_shows_its_progress(personas, client_for):
    running = ImportBatchFactory(
        status="running", size=1000, bytes_read=420, row_count=4200, phase="reading"
    )

    response = client_for(personas.broker_agent).get(f"/statements/imports/{running.pk}/")

    assert b'<progress class="import-progress" max="100" value="42">' in response.content
    assert b"Importing: reading" in response.content
    assert b'http-equiv="refresh"' in response.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "statement"}, "This field is required."),
        ({"kind": "payments", "file": "x"}, "Select a valid choice."),
    ],
)
def test_upload_form_errors(personas, client_for, data, message):
    if data.get("file"):
        data["file"] = SimpleUploadedFile("x.csv", b"x")
    response = client_for(personas.broker_agent).post("/statements/imports/new/", data)

    assert response.status_code == 200
    assert message in str(response.context["form"].errors)
    assert ImportBatch.objects.count() == 0


def test_an_upload_over_the_limit_is_refused_by_the_form(personas, client_for, settings):
    settings.STATEMENTS_UPLOAD_MAX_BYTES = 10
    response = client_for(personas.broker_agent).post(
        "/statements/imports/new/", {"kind": "statement", "file": sample_upload(personas)}
    )

    assert "the limit is 10\xa0bytes" in str(response.context["form"].errors["file"])


def test_errors_download_as_csv(personas, client_for, settings):
    settings.STATEMENTS_IMPORT_MAX_ERRORS = 2
    rows = [statement_row(amount="$1"), statement_row(gst="x"), statement_row(posted_on="")]
    from tests.statements.conftest import run_import

    batch = run_import("statement", csv_text("statement", rows)).batch

    response = client_for(personas.broker_finance).get(f"/statements/imports/{batch.pk}/errors.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="batch-{batch.pk}-errors.csv"'
    )
    lines = response.content.decode().splitlines()
    assert lines[0] == "row,column,value,reason"
    assert lines[1].startswith(f'2,account_number,{ACCOUNT_A},"No program account')
    assert len(lines) == 4  # the header, 2 listed problems of 4, the count of the rest
    assert lines[-1] == ',,,"… and 2 more problems, not listed."'


def test_batch_list_filters(personas, client_for):
    accepted = ImportBatchFactory(status="accepted")
    refused = ImportBatchFactory(status="refused", kind="entries")
    client = client_for(personas.broker_admin)

    def ids(query: str) -> list[int]:
        return [b.pk for b in client.get(f"/statements/imports/?{query}").context["batches"]]

    assert ids("") == [refused.pk, accepted.pk]
    assert ids("status=refused") == [refused.pk]
    assert ids("kind=statement") == [accepted.pk]


def test_the_sample_file_is_documented_as_it_imports(personas, client_for):
    """docs/samples/statement.csv names its two accounts; they import with the right totals."""
    assert (SAMPLES / "statement.csv").read_text().count(ACCOUNT_A) == 12  # 11 lines, its closing
