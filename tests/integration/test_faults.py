"""Faults, with a real worker process on Redis and PostgreSQL: a worker killed (SIGKILL) in the
middle of an import and of a reconciliation, then restarted; the broker unreachable during an
upload; the database connection dropped in the middle of a request.

A worker is a separate ``celery worker`` process here (it must be killable), so the tests need a
database that process can share (PostgreSQL) and a broker that keeps unacknowledged messages
(Redis): without them they are skipped, except in CI (``CI`` set), where they must run.

"Mid-job" is made certain, not timed: the test holds a lock the job needs (a table lock for the
import's COPY, the statement's row lock for the reconciliation) and kills the worker once its
database session is seen waiting on it, i.e. with the job claimed and half-written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from carm_portal.celery import app
from statements.importing.batches import create_batch
from statements.models import ImportBatch, ReconciliationRun, Statement, StatementLine
from statements.reconciliation import runs
from statements.redispatch import Redispatched, redispatch
from statements.tasks import heavy_import_batch, heavy_reconcile_statement
from tests.factories import ImporterFactory, ProgramAccountFactory
from tests.statements.conftest import ACCOUNT_A, csv_text, statement_row
from tests.statements.test_reconcile import E, L, build, txn
from tests.worker import broker_at, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
LINES = 40
STALE_SECONDS = 2
VISIBILITY_SECONDS = 4

# The worker process: the project's Celery app, with Redis handing an unacknowledged message to
# the next worker after a few seconds (production: an hour) and sweeping for such messages on every
# idle poll.
LAUNCH = f"""
import sys
import django
django.setup()
from carm_portal.celery import app
app.conf.broker_transport_options = {{
    **(app.conf.broker_transport_options or {{}}),
    "visibility_timeout": {VISIBILITY_SECONDS},
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}}
queue = sys.argv[1]
app.worker_main(["worker", "-P", "solo", "-Q", queue, "-n", queue + "-" + sys.argv[2] + "@%h",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"])
"""


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the fault tests: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres() -> dict:
    _need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL)")
    return connection.settings_dict


@pytest.fixture
def redis_broker(postgres) -> str:
    url = app.conf.broker_url or ""
    _need(url.startswith("redis://"), "needs Redis as the broker (REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        _need(False, f"Redis at {url} unreachable: {exc}")
    return url


def _database_url(db: dict) -> str:
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _locker(db: dict) -> psycopg.Connection:
    """A connection of the test's own, to hold locks and drop sessions."""
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
    )


class Worker:
    """A ``celery worker`` process consuming one queue, killable with SIGKILL."""

    def __init__(self, queue: str, broker: str, db: dict, log_dir: Path) -> None:
        self.queue = queue
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "carm_portal.settings",
            "DATABASE_URL": _database_url(db),
            "REDIS_URL": broker,
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "STATEMENTS_IMPORT_STALE_SECONDS": str(STALE_SECONDS),
            "RECONCILIATION_STALE_SECONDS": str(STALE_SECONDS),
            "C_FORCE_ROOT": "1",
            "PYTHONPATH": str(BASE_DIR),
        }
        self.log_dir = log_dir
        self.count = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.count += 1
        self.log = self.log_dir / f"worker-{self.count}.log"
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", LAUNCH, self.queue, str(self.count)],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert wait_for(lambda: b"ready." in self.log.read_bytes(), timeout=60), self.output()

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture
def worker(redis_broker, postgres, tmp_path, settings) -> Iterator[Worker]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    process = Worker(f"faults-{uuid.uuid4().hex[:10]}", redis_broker, postgres, tmp_path)
    yield process
    process.stop()


@contextlib.contextmanager
def heavy_tasks_routed_to(queue: str) -> Iterator[None]:
    """Send the ``heavy_*`` tasks to the test worker's queue instead of ``heavy``."""
    saved = app.conf.task_routes

    def use(routes) -> None:
        app.conf.task_routes = routes
        app.amqp.flush_routes()
        app.amqp.router = app.amqp.Router()

    use({"*.heavy_*": {"queue": queue}})
    try:
        yield
    finally:
        use(saved)


def waiting_on_a_lock(locker: psycopg.Connection) -> bool:
    """Whether another session of this database waits on a lock (the worker, mid-job)."""
    with locker.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def statement_file(lines: int = LINES) -> bytes:
    return csv_text("statement", [statement_row(transaction_number=txn(n)) for n in range(lines)])


def account_a():
    importer = ImporterFactory(bn9=ACCOUNT_A[:9])
    return ProgramAccountFactory(importer=importer, bn15=ACCOUNT_A)


# --- (a) A worker killed mid-job, then restarted --------------------------------------------


def test_a_worker_killed_mid_import_then_restarted_imports_the_file_once(worker, postgres):
    account_a()
    content = statement_file().encode()
    batch = create_batch(kind="statement", file_name="june.csv", stream=io.BytesIO(content))
    batch.source_file.save("june.csv", ContentFile(content))
    locker = _locker(postgres)
    with locker.cursor() as cursor:  # the import's COPY of the lines must wait for the test
        cursor.execute("LOCK TABLE statements_statementline IN SHARE MODE")

    heavy_import_batch.apply_async(kwargs={"batch_id": batch.pk}, queue=worker.queue)
    worker.start()
    assert wait_for(lambda: waiting_on_a_lock(locker), timeout=60), worker.output()
    assert ImportBatch.objects.get(pk=batch.pk).status == "running"  # claimed, half-way

    worker.kill()
    locker.rollback()  # the dead worker's session gets its lock, finds no client, rolls back
    assert StatementLine.objects.count() == 0
    worker.start()

    assert wait_for(
        lambda: ImportBatch.objects.get(pk=batch.pk).status == "accepted", timeout=90
    ), worker.output()
    time.sleep(VISIBILITY_SECONDS + 2)  # any second delivery would have run by now
    done = ImportBatch.objects.get(pk=batch.pk)
    assert (done.line_count, done.statement_count) == (LINES, 1)
    assert StatementLine.objects.count() == LINES
    assert Statement.objects.count() == 1
    assert ImportBatch.objects.count() == 1
    assert done.started_at and done.started_at > timezone.now() - dt.timedelta(minutes=2)
    locker.close()


def test_a_worker_killed_mid_reconciliation_then_restarted_reconciles_once(
    worker, postgres, monkeypatch
):
    statement = build(
        [L("CAD", txn(1), "10.00"), L("CAD", txn(2), "2.00"), L("INTEREST", "", "1.00")],
        [E(txn(1), "10.00"), E(txn(3), "3.00")],
    )
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: None)  # sent to the test's queue below
    run = runs.start_reconciliation(statement=statement)
    locker = _locker(postgres)
    with locker.cursor() as cursor:  # the run's transaction must wait for the statement's lock
        cursor.execute(
            "SELECT id FROM statements_statement WHERE id = %s FOR UPDATE", [statement.pk]
        )

    heavy_reconcile_statement.apply_async(kwargs={"run_id": run.pk}, queue=worker.queue)
    worker.start()
    assert wait_for(lambda: waiting_on_a_lock(locker), timeout=60), worker.output()
    assert ReconciliationRun.objects.get(pk=run.pk).status == "running"

    worker.kill()
    locker.rollback()
    worker.start()

    assert wait_for(
        lambda: ReconciliationRun.objects.get(pk=run.pk).status == "succeeded", timeout=90
    ), worker.output()
    time.sleep(VISIBILITY_SECONDS + 2)
    done = ReconciliationRun.objects.get(pk=run.pk)
    assert (done.is_current, done.item_count, done.exception_count) == (True, 4, 3)
    assert ReconciliationRun.objects.filter(statement=statement).count() == 1
    assert done.items.count() == 4
    locker.close()


# --- (b) The broker unreachable during an upload ---------------------------------------------


def test_an_upload_while_the_broker_is_down_runs_once_it_is_back(
    worker, personas, client_for, settings
):
    settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES = 10
    personas.importer_a.program_accounts.update(bn15=ACCOUNT_A)
    type(personas.importer_a).objects.filter(pk=personas.importer_a.pk).update(bn9=ACCOUNT_A[:9])
    client = client_for(personas.broker_agent)
    upload = SimpleUploadedFile("june.csv", statement_file(3).encode())

    with broker_at("redis://127.0.0.1:1/0"):  # a closed port
        response = client.post(
            reverse("statements:upload"), {"kind": "statement", "file": upload}, follow=True
        )

    assert response.status_code == 200
    assert "Queued — it will start when a worker is available" in response.content.decode()
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.dispatched_at) == ("queued", None)

    with heavy_tasks_routed_to(worker.queue):
        worker.start()
        resent = redispatch(now=timezone.now() + dt.timedelta(minutes=2))  # what beat does
        assert resent == Redispatched(batches=1)
        assert wait_for(lambda: ImportBatch.objects.get().status == "accepted", timeout=60), (
            worker.output()
        )
        assert redispatch(now=timezone.now() + dt.timedelta(minutes=3)) == Redispatched()

    assert ImportBatch.objects.get().line_count == StatementLine.objects.count() == 3


def test_a_worker_records_its_heartbeat_for_the_queue_it_serves(worker):
    from carm_portal.models import WorkerHeartbeat
    from carm_portal.tasks import heartbeat

    worker.start()
    heartbeat.apply_async(queue=worker.queue)

    assert wait_for(lambda: WorkerHeartbeat.objects.filter(queue=worker.queue).exists())
    row = WorkerHeartbeat.objects.get(queue=worker.queue)
    assert row.hostname.startswith(worker.queue)


# --- (c) The database connection dropped mid-request -------------------------------------------


def test_a_connection_dropped_mid_request_shows_the_error_page_and_writes_nothing(
    postgres, personas, client_for, settings, tmp_path, monkeypatch
):
    settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES = 10
    settings.MEDIA_ROOT = str(tmp_path / "media")
    storage = ImportBatch._meta.get_field("source_file").storage
    save = storage.save
    locker = _locker(postgres)
    locker.autocommit = True

    def drop_then_save(name, content, *args, **kwargs):
        # The batch row is written (not committed); now the database drops the connection.
        pid = connection.connection.info.backend_pid
        locker.execute("SELECT pg_terminate_backend(%s)", [pid])
        return save(name, content, *args, **kwargs)

    monkeypatch.setattr(storage, "save", drop_then_save)
    client = client_for(personas.broker_agent)
    client.raise_request_exception = False
    upload = SimpleUploadedFile("june.csv", statement_file(3).encode())

    response = client.post(reverse("statements:upload"), {"kind": "statement", "file": upload})

    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "Traceback" not in body and "OperationalError" not in body and "terminat" not in body
    assert ImportBatch.objects.count() == 0
    locker.close()
