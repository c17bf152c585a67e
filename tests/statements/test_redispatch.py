"""Jobs survive a broker outage: an upload or a "Reconcile" click with the broker down answers
with the queued message (never a 500), the job stays queued in the database, and the re-dispatch
job (statements/redispatch.py) sends it once the broker is back; what it re-sends and when."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from carm_portal.celery import app
from carm_portal.worker_health import record_heartbeat
from statements import redispatch as redispatch_module
from statements.importing import batches
from statements.models import ImportBatch, ReconciliationRun, Statement, StatementLine
from statements.reconciliation import runs
from statements.redispatch import Redispatched, redispatch
from statements.tasks import heavy_import_batch, redispatch_queued_jobs
from tests.factories import ImportBatchFactory, ReconciliationRunFactory, StatementFactory
from tests.statements.conftest import ACCOUNT_A, csv_text, statement_row
from tests.statements.reconciliation_fixtures import reconciled_statement

QUEUED_MESSAGE = "Queued — it will start when a worker is available"
NOW = dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def settled(settings):
    settings.JOBS_DISPATCH_GRACE_SECONDS = 60
    settings.JOBS_REDISPATCH_SECONDS = 900
    settings.STATEMENTS_IMPORT_STALE_SECONDS = 3600
    settings.RECONCILIATION_STALE_SECONDS = 3600


@pytest.fixture
def sent(monkeypatch):
    """Record what the re-dispatch sends instead of sending it (the broker takes everything)."""
    calls: list[tuple[str, object]] = []

    def batch(pk):
        calls.append(("batch", pk))
        return True

    def run_group(ids, task_id):
        calls.append(("runs", (sorted(ids), task_id)))
        return True

    monkeypatch.setattr(batches, "dispatch", batch)
    monkeypatch.setattr(runs, "dispatch", run_group)
    return calls


def batch(status="queued", *, created, dispatched=None, started=None) -> ImportBatch:
    made = ImportBatchFactory(status=status, started_at=started, dispatched_at=dispatched)
    ImportBatch.objects.filter(pk=made.pk).update(created_at=created)
    return made


def run(
    status="queued", *, created, dispatched=None, started=None, task_id=""
) -> ReconciliationRun:
    made = ReconciliationRunFactory(
        status=status,
        is_current=False,
        started_at=started,
        finished_at=None,
        dispatched_at=dispatched,
        task_id=task_id,
    )
    ReconciliationRun.objects.filter(pk=made.pk).update(created_at=created)
    return made


# --- What is re-sent, and when ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_never_sent_is_sent_after_the_grace_period(settled, sent):
    young = batch(created=NOW - dt.timedelta(seconds=30))
    old = batch(created=NOW - dt.timedelta(seconds=61))

    done = redispatch(now=NOW)

    assert sent == [("batch", old.pk)]
    assert done == Redispatched(batches=1)
    assert ImportBatch.objects.get(pk=young.pk).dispatched_at is None


@pytest.mark.django_db
def test_a_job_sent_but_never_started_is_sent_again_after_the_limit(settled, sent):
    hour_ago = NOW - dt.timedelta(hours=1)
    batch(created=hour_ago, dispatched=NOW - dt.timedelta(seconds=899))
    lost = batch(created=hour_ago, dispatched=NOW - dt.timedelta(seconds=901))

    redispatch(now=NOW)

    assert sent == [("batch", lost.pk)]


@pytest.mark.django_db
def test_only_a_job_left_running_by_a_dead_worker_is_sent_again(settled, sent):
    day_ago = NOW - dt.timedelta(days=1)
    batch("running", created=day_ago, dispatched=day_ago, started=NOW - dt.timedelta(minutes=59))
    dead = batch(
        "running", created=day_ago, dispatched=day_ago, started=NOW - dt.timedelta(hours=2)
    )
    for status in ("accepted", "refused"):
        batch(status, created=day_ago, started=day_ago)

    redispatch(now=NOW)

    assert sent == [("batch", dead.pk)]


@pytest.mark.django_db
def test_runs_queued_together_are_sent_again_together_under_their_task_id(settled, sent):
    old = NOW - dt.timedelta(minutes=5)
    together = [run(created=old, task_id="group-1") for _ in range(2)]
    alone = run(created=old, task_id="single")
    run("succeeded", created=old, task_id="done")
    run("failed", created=old, task_id="failed")
    run("running", created=old, started=NOW - dt.timedelta(minutes=1), task_id="busy")

    done = redispatch(now=NOW)

    assert sorted(sent) == [
        ("runs", (sorted(r.pk for r in together), "group-1")),
        ("runs", ([alone.pk], "single")),
    ]
    assert done == Redispatched(runs=3)


@pytest.mark.django_db
def test_a_second_pass_sends_nothing_again(settled, sent):
    old = NOW - dt.timedelta(minutes=5)
    batch(created=old)
    run(created=old, task_id="t")

    first = redispatch(now=NOW)
    second = redispatch(now=NOW + dt.timedelta(minutes=1))

    assert (first, second) == (Redispatched(batches=1, runs=1), Redispatched())
    assert len(sent) == 2


@pytest.mark.django_db
def test_a_send_that_fails_is_tried_again_next_pass(settled, monkeypatch):
    queued = batch(created=NOW - dt.timedelta(minutes=5))
    monkeypatch.setattr(batches, "dispatch", lambda pk: False)

    first = redispatch(now=NOW)

    assert first == Redispatched(unreachable=1)
    assert ImportBatch.objects.get(pk=queued.pk).dispatched_at is None
    monkeypatch.setattr(batches, "dispatch", lambda pk: True)
    assert redispatch(now=NOW + dt.timedelta(minutes=1)) == Redispatched(batches=1)


@pytest.mark.django_db
def test_a_job_another_pass_took_meanwhile_is_not_sent_twice(settled, sent, monkeypatch):
    queued = batch(created=NOW - dt.timedelta(minutes=5))
    due = redispatch_module._due
    # Another beat process moves the row between our read and our claim.
    monkeypatch.setattr(
        redispatch_module,
        "_due",
        lambda **kw: (
            ImportBatch.objects.filter(pk=queued.pk).update(dispatched_at=NOW) and due(**kw)
        ),
    )

    assert redispatch(now=NOW) == Redispatched()
    assert sent == []


@pytest.mark.django_db
def test_the_task_re_sent_for_a_job_already_running_or_finished_does_nothing(accounts, media):
    running = ImportBatchFactory(status="running", started_at=timezone.now())
    accepted = ImportBatchFactory(status="accepted")

    assert heavy_import_batch(batch_id=running.pk) == ""
    assert heavy_import_batch(batch_id=accepted.pk) == ""
    assert ImportBatch.objects.get(pk=running.pk).status == "running"


# --- The broker down: an upload and a click, then the broker back ---------------------------


@pytest.fixture
def account_a(personas):
    personas.importer_a.program_accounts.update(bn15=ACCOUNT_A)
    type(personas.importer_a).objects.filter(pk=personas.importer_a.pk).update(bn9=ACCOUNT_A[:9])
    return personas.importer_a.program_accounts.get()


def later(seconds: int = 120) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


@pytest.mark.django_db(transaction=True)
def test_an_upload_with_the_broker_down_is_queued_not_an_error(
    personas, client_for, account_a, settings, media, broker_down, monkeypatch
):
    settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES = 10
    client = client_for(personas.broker_agent)
    content = csv_text("statement", [statement_row()]).encode()

    response = client.post(
        reverse("statements:upload"),
        {"kind": "statement", "file": SimpleUploadedFile("june.csv", content)},
    )

    assert response.status_code == 302
    queued = ImportBatch.objects.get()
    assert (queued.status, queued.dispatched_at, bool(queued.source_file)) == ("queued", None, True)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert QUEUED_MESSAGE in page.content.decode()
    # Retrying the upload names the kept batch; nothing was lost.
    again = client.post(
        reverse("statements:upload"),
        {"kind": "statement", "file": SimpleUploadedFile("june.csv", content)},
    )
    assert again["Location"] == queued.get_absolute_url()

    assert redispatch(now=later()) == Redispatched(unreachable=1)  # still down
    assert ImportBatch.objects.get().dispatched_at is None

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the broker is back
    assert redispatch(now=later()) == Redispatched(batches=1)

    done = ImportBatch.objects.get()
    assert (done.status, done.line_count) == ("accepted", 1)
    assert done.dispatched_at is not None
    assert StatementLine.objects.count() == 1
    assert redispatch(now=later(300)) == Redispatched()


@pytest.mark.django_db(transaction=True)
def test_a_reconcile_click_with_the_broker_down_is_queued_not_an_error(
    personas, client_for, account_a, broker_down, monkeypatch
):
    statement = StatementFactory(program_account=account_a)
    client = client_for(personas.broker_agent)

    response = client.post(reverse("statements:reconcile", args=[statement.pk]))

    assert response.status_code == 302
    queued = ReconciliationRun.objects.get()
    assert (queued.status, queued.dispatched_at) == ("queued", None)
    page = client.get(response["Location"]).content.decode()
    assert QUEUED_MESSAGE in page
    assert "No worker has been seen" in page  # broker staff are told why it waits

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    assert redispatch_queued_jobs() == (  # within the grace
        "0 batches, 0 filings, 0 runs, 0 PDFs re-sent; 0 unreachable"
    )
    assert redispatch(now=later()) == Redispatched(runs=1)

    finished = ReconciliationRun.objects.get()
    assert (finished.status, finished.is_current) == ("succeeded", True)
    assert Statement.objects.get(pk=statement.pk).reconciliation_runs.count() == 1


# --- Worker health where a job waits ----------------------------------------------------------


@pytest.mark.django_db
def test_the_run_page_warns_staff_not_importers_when_no_worker_is_seen(
    personas, client_for, account_a
):
    waiting = ReconciliationRunFactory(
        statement=StatementFactory(program_account=account_a),
        status="queued",
        is_current=False,
        task_id=uuid.uuid4().hex,
    )
    url = waiting.get_absolute_url()

    staff = client_for(personas.broker_finance).get(url).content.decode()
    bam = client_for(personas.bam_a).get(url).content.decode()

    assert "No worker has been seen for 5 minutes." in staff
    assert "No worker has been seen" not in bam and QUEUED_MESSAGE in bam


@pytest.mark.django_db
def test_the_batch_page_shows_the_last_heartbeat_when_workers_are_up(personas, client_for):
    for queue in ("default", "heavy"):
        record_heartbeat(queue=queue, hostname="celery@w1")
    waiting = ImportBatchFactory(status="queued")

    page = client_for(personas.broker_agent).get(waiting.get_absolute_url()).content.decode()

    assert "Workers: last seen" in page and "No worker has been seen" not in page


@pytest.mark.django_db
def test_the_staff_dashboard_names_the_silent_queue(personas, client_for):
    record_heartbeat(queue="default", hostname="celery@w1")

    page = client_for(personas.broker_admin).get(reverse("home")).content.decode()

    assert "No worker has been seen" in page
    assert "Queue “heavy”: never seen." in page
    assert "Queue “default”" not in page


@pytest.mark.django_db
def test_the_queued_job_and_the_warning_read_in_french(personas, client_for, settings):
    waiting = ImportBatchFactory(status="queued")
    client = client_for(personas.broker_agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    page = client.get(waiting.get_absolute_url()).content.decode()

    assert "En file d'attente — le traitement commencera" in page
    assert "Aucun processus de traitement n'a donné signe de vie depuis 5 minutes." in page
    assert "File « heavy » : aucun signe de vie." in page


# --- Reconciliation PDFs --------------------------------------------------------------------


@pytest.mark.django_db
def test_pdf_renders_queued_never_sent_or_abandoned_are_sent_again(settled, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(
        redispatch_module.reports, "dispatch_pdf", lambda pk: sent.append(pk) or True
    )
    old = NOW - dt.timedelta(minutes=5)

    def pdf(**fields) -> ReconciliationRun:
        return ReconciliationRunFactory(**fields)

    never_sent = pdf(pdf_status="queued", pdf_requested_at=old)
    pdf(pdf_status="queued", pdf_requested_at=NOW - dt.timedelta(seconds=10))  # in its grace
    pdf(pdf_status="queued", pdf_requested_at=old, pdf_dispatched_at=old)  # sent, waiting
    dead = pdf(
        pdf_status="rendering",
        pdf_rendered_at=NOW - dt.timedelta(hours=1),
        pdf_dispatched_at=NOW - dt.timedelta(hours=1),
    )
    pdf(pdf_status="rendering", pdf_rendered_at=NOW - dt.timedelta(minutes=1))  # still rendering
    pdf(pdf_status="ready", pdf_requested_at=old)

    first = redispatch(now=NOW)
    second = redispatch(now=NOW + dt.timedelta(seconds=30))

    assert sorted(sent) == sorted([never_sent.pk, dead.pk])
    assert (first.pdfs, second) == (2, Redispatched())
    assert redispatch(now=NOW + dt.timedelta(seconds=51)).pdfs == 1  # the young one's grace ended


@pytest.mark.django_db(transaction=True)
def test_a_large_pdf_asked_for_with_the_broker_down_is_rendered_once_it_is_back(
    personas, client_for, settings, media, broker_down, monkeypatch
):
    settings.RECONCILIATION_PDF_INLINE_ITEMS = 5
    run = reconciled_statement(personas.importer_a.program_accounts.get())
    url = reverse("statements:reconciliation_pdf", args=[run.statement_id, run.pk])
    client = client_for(personas.broker_finance)

    waiting = client.get(url)

    assert waiting.status_code == 200 and "being prepared" in waiting.content.decode()
    run.refresh_from_db()
    assert (run.pdf_status, run.pdf_dispatched_at) == ("queued", None)
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    assert redispatch(now=later()) == Redispatched(pdfs=1)
    run.refresh_from_db()
    assert run.pdf_status == "ready" and run.pdf_dispatched_at is not None


@pytest.mark.django_db
def test_the_statement_page_says_a_run_is_queued_and_warns_staff(personas, client_for, account_a):
    statement = StatementFactory(program_account=account_a)
    ReconciliationRunFactory(statement=statement, status="queued", is_current=False)
    url = reverse("statements:detail", args=[statement.pk])

    staff = client_for(personas.broker_agent).get(url).content.decode()
    bam = client_for(personas.bam_a).get(url).content.decode()

    assert QUEUED_MESSAGE in staff and "No worker has been seen" in staff
    assert QUEUED_MESSAGE in bam and "No worker has been seen" not in bam


@pytest.mark.django_db(transaction=True)
def test_an_api_upload_with_the_broker_down_answers_the_queued_batch(
    api_as, account_a, settings, media, broker_down
):
    settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES = 10
    content = csv_text("statement", [statement_row()]).encode()

    response = api_as("broker_agent").post(
        "/api/v1/import-batches/",
        {"kind": "statement", "file": SimpleUploadedFile("june.csv", content)},
    )

    assert (response.status_code, response.json()["status"]) == (201, "queued")
    assert ImportBatch.objects.get().dispatched_at is None
