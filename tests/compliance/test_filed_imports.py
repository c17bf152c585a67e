"""Statement files and generated PDFs the product receives or makes are filed as the importer's
compliance documents (statements signals -> services.compliance.receivers)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import PurePath

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carm_portal.calendar import cbsa_today
from carm_portal.celery import app
from services import requests_flow as flow
from services.compliance import receivers
from services.models import ComplianceDocument, RequestStatus
from statements import reports
from statements.importing import received
from statements.importing.batches import import_stream
from statements.importing.received import ReceivedFile
from statements.models import ImportBatch, ReconciliationRun, Statement, StatementLine
from statements.redispatch import Redispatched, redispatch
from statements.signals import statement_file_received
from statements.stored_files import delete_unless_kept
from statements.tasks import heavy_render_reconciliation_pdf
from tests.factories import ProgramAccountFactory
from tests.statements.conftest import csv_text, entry_row, statement_row
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db

# The statement issued 2025-06-25 bills the period 2025-05-18 – 2025-06-17 (CBSA's calendar): its
# record date is the period's end, kept six years after the end of 2025.
PERIOD_END = dt.date(2025, 6, 17)
KEEP_UNTIL = dt.date(2031, 12, 31)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def bn15(importer) -> str:
    return importer.program_accounts.get().bn15


def statement_file(*importers) -> bytes:
    rows = [
        statement_row(account_number=bn15(importer), transaction_number=f"12345{n:09d}")
        for n, importer in enumerate(importers, 1)
    ]
    return csv_text("statement", rows).encode()


@pytest.fixture(autouse=True)
def worker(monkeypatch):
    """The filing job runs as it is sent, once the import commits (Celery's eager mode: the real
    task and its real dispatch, without a worker process)."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def imported(content: bytes, capture, *, kind: str = "statement", name: str = "soa-june.csv"):
    with capture(execute=True):
        return import_stream(kind=kind, stream=io.BytesIO(content), file_name=name)


def stored_bytes(document: ComplianceDocument) -> bytes:
    with default_storage.open(document.file.name, "rb") as stored:
        return stored.read()


def test_an_imported_statement_file_is_filed_as_the_importers_soa(
    personas, django_capture_on_commit_callbacks
):
    content = statement_file(personas.importer_a)

    result = imported(content, django_capture_on_commit_callbacks)

    assert result.batch.status == "accepted"
    document = ComplianceDocument.objects.get()
    assert (document.importer, document.document_type, document.original_name) == (
        personas.importer_a,
        "soa",
        "soa-june.csv",
    )
    assert (document.record_date, document.retain_until) == (PERIOD_END, KEEP_UNTIL)
    assert document.statement == Statement.objects.get()
    assert stored_bytes(document) == content
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.file.name == ImportBatch.objects.get().source_file.name


def test_a_statement_file_is_filed_once_however_often_it_arrives(
    personas, django_capture_on_commit_callbacks
):
    content = statement_file(personas.importer_a)
    first = imported(content, django_capture_on_commit_callbacks)
    again = imported(content, django_capture_on_commit_callbacks)
    document = ComplianceDocument.objects.get()
    # The same announcement delivered twice (a retried task) files nothing more.
    statement_file_received.send(
        sender=ImportBatch,
        batch=first.batch,
        received=[
            ReceivedFile(
                importer_id=personas.importer_a.pk,
                path=document.file.name,
                name="soa-june.csv",
                record_date=PERIOD_END,
                statement_ids=(),
            )
        ],
    )
    # The batch and its statement deleted, then the same content imported again: a new batch,
    # but the same record.
    StatementLine.objects.all().delete()
    Statement.objects.all().delete()
    ImportBatch.objects.all().delete()
    third = imported(content, django_capture_on_commit_callbacks, name="soa-june (2).csv")

    assert again.already_imported and third.batch.status == "accepted"
    assert list(ComplianceDocument.objects.values_list("pk", flat=True)) == [document.pk]
    assert stored_bytes(document) == content  # deleting the batch left the record's file


def test_the_import_commits_before_its_file_is_filed_as_a_job_of_its_own(
    personas, django_capture_on_commit_callbacks
):
    content = statement_file(personas.importer_a, personas.importer_b)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = import_stream(kind="statement", stream=io.BytesIO(content), file_name="soa.csv")

    # The import's answer: its statements are there, the file is stored, nothing filed yet.
    batch = ImportBatch.objects.get()
    assert (result.batch.status, Statement.objects.count()) == ("accepted", 2)
    assert batch.source_file and (batch.filed_at, batch.filing_sent_at) == (None, None)
    assert not ComplianceDocument.objects.exists()

    for callback in callbacks:  # the commit: the filing job is sent (and, here, runs)
        callback()

    batch.refresh_from_db()
    assert batch.filed_at is not None and batch.filing_sent_at is not None
    assert ComplianceDocument.objects.count() == 2


def test_a_filing_sent_while_the_broker_was_down_is_sent_again_by_the_redispatch(
    personas, django_capture_on_commit_callbacks, monkeypatch, settings, broker_down
):
    settings.JOBS_DISPATCH_GRACE_SECONDS = 60
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    imported(statement_file(personas.importer_a), django_capture_on_commit_callbacks)
    assert not ComplianceDocument.objects.exists()
    assert ImportBatch.objects.get().filing_sent_at is None  # the broker did not take it
    soon = timezone.now() + dt.timedelta(seconds=30)
    later = timezone.now() + dt.timedelta(seconds=120)

    assert redispatch(now=soon) == Redispatched()  # within the grace: its own send may be coming
    # Still down: the filing and the reconciliation the import queued both wait.
    assert redispatch(now=later) == Redispatched(unreachable=2)
    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the broker is back
    assert redispatch(now=later) == Redispatched(filings=1, runs=1)
    assert redispatch(now=later + dt.timedelta(hours=1)) == Redispatched()  # filed: never again

    document = ComplianceDocument.objects.get()
    assert document.importer == personas.importer_a
    assert ImportBatch.objects.get().filed_at is not None


def test_a_filing_killed_half_way_is_finished_by_running_it_again(
    personas, django_capture_on_commit_callbacks
):
    content = statement_file(personas.importer_a, personas.importer_b)
    with django_capture_on_commit_callbacks(execute=False):  # its filing message never went
        batch = import_stream(kind="statement", stream=io.BytesIO(content), file_name="s.csv").batch
    # A worker died while writing importer A's extract, before anything was filed.
    folder = PurePath(batch.source_file.name).parent
    half = str(folder / f"{batch.pk}-e{personas.importer_a.pk}.csv")
    default_storage.save(half, ContentFile(content[:20]))

    first = received.file_batch(batch.pk)
    again = received.file_batch(batch.pk)  # the message delivered twice

    assert (len(first), again) == (2, [])
    a = ComplianceDocument.objects.get(importer=personas.importer_a)
    header, row_a, _row_b = content.decode().splitlines()
    assert a.file.name == half
    assert stored_bytes(a).decode().splitlines() == [header, row_a]
    assert ComplianceDocument.objects.count() == 2
    assert sorted(default_storage.listdir(str(folder))[1]) == sorted(
        [PurePath(batch.source_file.name).name]
        + [f"{batch.pk}-e{i.pk}.csv" for i in (personas.importer_a, personas.importer_b)]
    )


def test_filing_a_file_about_many_importers_takes_the_same_queries_as_about_two(
    personas, django_capture_on_commit_callbacks
):
    def queries_to_file(importers) -> int:
        content = statement_file(*importers)
        with django_capture_on_commit_callbacks(execute=False):  # the filing is run below
            batch = import_stream(
                kind="statement", stream=io.BytesIO(content), file_name=f"{len(importers)}.csv"
            ).batch
        with CaptureQueriesContext(connection) as queries:
            filed = received.file_batch(batch.pk)
        assert len(filed) == len(importers)
        return len(queries)

    two = queries_to_file([ProgramAccountFactory().importer for _ in range(2)])
    six = queries_to_file([ProgramAccountFactory().importer for _ in range(6)])

    assert two == six
    assert ComplianceDocument.objects.count() == 8
    # Each record's history says how it came (bulk-created with its history rows).
    assert ComplianceDocument.history.filter(history_change_reason="Filed on arrival").count() == 8


def test_an_import_stands_when_filing_fails(
    personas, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise OSError("storage unreachable")

    monkeypatch.setattr(receivers, "file_stored_many", broken)

    result = imported(statement_file(personas.importer_a), django_capture_on_commit_callbacks)

    assert (result.batch.status, Statement.objects.count()) == ("accepted", 1)
    assert not ComplianceDocument.objects.exists()
    assert "Filing statement file" in caplog.text


def test_a_file_about_two_importers_is_filed_as_each_ones_rows_only(
    personas, django_capture_on_commit_callbacks
):
    content = statement_file(personas.importer_a, personas.importer_b)

    imported(content, django_capture_on_commit_callbacks)

    a = ComplianceDocument.objects.get(importer=personas.importer_a)
    b = ComplianceDocument.objects.get(importer=personas.importer_b)
    header, row_a, row_b = content.decode().splitlines()
    assert stored_bytes(a).decode().splitlines() == [header, row_a]
    assert stored_bytes(b).decode().splitlines() == [header, row_b]
    assert bn15(personas.importer_b) not in stored_bytes(a).decode()
    assert (a.document_type, a.record_date, b.record_date) == ("soa", PERIOD_END, PERIOD_END)


def test_refused_and_entries_files_are_not_filed(personas, django_capture_on_commit_callbacks):
    refused = csv_text(
        "statement", [statement_row(account_number=bn15(personas.importer_a), amount="1.00")]
    ).encode()
    entries = csv_text("entries", [entry_row(account_number=bn15(personas.importer_a))]).encode()

    assert imported(refused, django_capture_on_commit_callbacks).batch.status == "refused"
    assert (
        imported(entries, django_capture_on_commit_callbacks, kind="entries").batch.status
        == "accepted"
    )
    assert not ComplianceDocument.objects.exists()


def test_the_upload_page_files_the_statement_for_its_importers_people_only(
    personas, client_for, django_capture_on_commit_callbacks
):
    content = statement_file(personas.importer_a)
    upload = io.BytesIO(content)
    upload.name = "soa-june.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.broker_agent).post(
            reverse("statements:upload"), {"kind": "statement", "file": upload}
        )
    assert response.status_code == 302
    document = ComplianceDocument.objects.get()
    download = reverse("compliance:document_download", args=[document.pk])

    listing = client_for(personas.bam_a).get(
        reverse("compliance:documents", args=[personas.importer_a.pk])
    )
    mine = client_for(personas.bam_a).get(download)
    theirs = client_for(personas.bam_b)

    assert listing.status_code == 200 and "soa-june.csv" in listing.content.decode()
    assert b"".join(mine.streaming_content) == content
    assert theirs.get(download).status_code == 404
    assert (
        theirs.get(reverse("compliance:documents", args=[personas.importer_a.pk])).status_code
        == 404
    )


def test_the_import_command_files_the_statement(
    personas, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "soa-june.csv"
    path.write_bytes(statement_file(personas.importer_a))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_statement", str(path), stdout=io.StringIO())

    document = ComplianceDocument.objects.get()
    assert (document.importer, document.original_name) == (personas.importer_a, "soa-june.csv")
    assert stored_bytes(document) == path.read_bytes()


def test_a_statement_retrieved_by_service_request_is_filed(
    personas, django_capture_on_commit_callbacks
):
    account = personas.importer_a.program_accounts.get()
    request = flow.request_soa(
        importer=personas.importer_a, program_account=account, period="June 2025", by=personas.bam_a
    )
    flow.advance(request=request, to=RequestStatus.SENT, by=personas.broker_agent)
    content = statement_file(personas.importer_a)

    with django_capture_on_commit_callbacks(execute=True):
        flow.attach_statement(
            request=request,
            upload=SimpleUploadedFile("cbsa-soa.csv", content, "text/csv"),
            by=personas.broker_agent,
        )

    document = ComplianceDocument.objects.get()
    assert (document.importer, document.uploaded_by, document.record_date) == (
        personas.importer_a,
        personas.broker_agent,
        PERIOD_END,
    )
    assert stored_bytes(document) == content


# --- Generated PDFs ---------------------------------------------------------------------------


@pytest.fixture
def run(personas) -> ReconciliationRun:
    return reconciled_statement(personas.importer_a.program_accounts.get())


def pdf_of(client, run: ReconciliationRun, capture) -> bytes:
    with capture(execute=True):
        response = client.get(
            reverse("statements:reconciliation_pdf", args=[run.statement_id, run.pk])
        )
    assert response.status_code == 200
    return response.content


def test_a_generated_reconciliation_pdf_is_filed_once_per_version(
    personas, client_for, run, django_capture_on_commit_callbacks
):
    client = client_for(personas.broker_finance)

    first = pdf_of(client, run, django_capture_on_commit_callbacks)
    again = pdf_of(client, run, django_capture_on_commit_callbacks)  # unchanged: the same PDF
    document = ComplianceDocument.objects.get()
    item = run.items.get(status="amount_mismatch")
    item.note = "Asked the client"
    item.save()
    changed = pdf_of(client, run, django_capture_on_commit_callbacks)

    assert first.startswith(b"%PDF") and again == first and changed != first
    assert (document.importer, document.document_type, document.statement_id) == (
        personas.importer_a,
        "reconciliation_report",
        run.statement_id,
    )
    assert document.record_date == cbsa_today()
    assert document.retain_until == dt.date(cbsa_today().year + 6, 12, 31)
    assert stored_bytes(document) == first  # the replaced PDF is kept: it is a record
    assert ComplianceDocument.objects.count() == 2
    assert stored_bytes(ComplianceDocument.objects.exclude(pk=document.pk).get()) == changed


def test_a_pdf_rendered_by_the_worker_is_filed(run, django_capture_on_commit_callbacks):
    reports.request_pdf(run)

    with django_capture_on_commit_callbacks(execute=True):
        name = heavy_render_reconciliation_pdf(run_id=run.pk)
        heavy_render_reconciliation_pdf(run_id=run.pk)  # a duplicate delivery

    document = ComplianceDocument.objects.get()
    assert (document.file.name, document.document_type) == (name, "reconciliation_report")
    assert stored_bytes(document).startswith(b"%PDF")


def test_deleting_the_statement_keeps_its_filed_pdf(
    personas, client_for, run, django_capture_on_commit_callbacks
):
    pdf = pdf_of(client_for(personas.broker_finance), run, django_capture_on_commit_callbacks)
    document = ComplianceDocument.objects.get()

    assert delete_unless_kept(document.file.name) is False  # statements asks before deleting
    run.statement.reconciliation_runs.all().delete()
    StatementLine.objects.filter(statement=run.statement).delete()
    run.statement.delete()

    response = client_for(personas.bam_a).get(
        reverse("compliance:document_download", args=[document.pk])
    )
    assert b"".join(response.streaming_content) == pdf
    assert (
        client_for(personas.bam_b)
        .get(reverse("compliance:document_download", args=[document.pk]))
        .status_code
        == 404
    )
