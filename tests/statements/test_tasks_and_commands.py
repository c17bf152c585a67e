"""The Celery task (claimed once, on the heavy queue) and the two management commands."""

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from carm_portal.celery import app
from statements.importing.batches import create_batch
from statements.importing.problems import AlreadyImported
from statements.importing.progress import Progress
from statements.importing.statement_file import StatementImport
from statements.models import ImportBatch, Statement
from statements.tasks import heavy_import_batch
from tests.statements.conftest import SAMPLES, csv_text, statement_row

pytestmark = pytest.mark.django_db


def queued_batch(content: bytes, name: str = "june.csv") -> ImportBatch:
    batch = create_batch(kind="statement", file_name=name, stream=io.BytesIO(content))
    batch.source_file.save(name, ContentFile(content))
    return batch


def test_the_import_task_goes_to_the_heavy_queue():
    route = app.amqp.router.route({}, heavy_import_batch.name, args=(), kwargs={})

    assert route["queue"].name == "heavy"


def test_the_task_imports_a_queued_batch_and_keeps_the_accepted_file(accounts, media):
    content = csv_text("statement", [statement_row()]).encode()
    batch = queued_batch(content)

    message = heavy_import_batch(batch_id=batch.pk)

    batch.refresh_from_db()
    assert message == "Imported 1 statement (1 line) for 1 program account."
    assert (batch.status, batch.bytes_read) == ("accepted", batch.size)
    # An accepted statement file is the importer's record (statements.importing.received).
    assert [p.read_bytes() for p in media.rglob("*.csv")] == [content]


def test_the_task_drops_a_refused_file(accounts, media):
    batch = queued_batch(csv_text("statement", [statement_row(amount="1.00")]).encode())

    heavy_import_batch(batch_id=batch.pk)

    batch.refresh_from_db()
    assert (batch.status, batch.source_file.name) == ("refused", "")
    assert not any(media.rglob("*.csv"))


def test_a_batch_is_run_once_however_often_the_task_arrives(accounts, media):
    batch = queued_batch(csv_text("statement", [statement_row()]).encode())

    heavy_import_batch(batch_id=batch.pk)
    second = heavy_import_batch(batch_id=batch.pk)

    assert second == ""
    assert Statement.objects.count() == 1


def test_a_gone_batch_is_ignored(db):
    assert heavy_import_batch(batch_id=987654) == ""


def test_a_batch_left_running_by_a_dead_worker_is_claimed_again(accounts, media, settings):
    batch = queued_batch(csv_text("statement", [statement_row()]).encode())
    ImportBatch.objects.filter(pk=batch.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=2)
    )

    heavy_import_batch(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.status == "accepted"


def test_a_running_batch_is_left_alone(accounts, media):
    batch = queued_batch(csv_text("statement", [statement_row()]).encode())
    ImportBatch.objects.filter(pk=batch.pk).update(status="running", started_at=timezone.now())

    assert heavy_import_batch(batch_id=batch.pk) == ""
    assert ImportBatch.objects.get(pk=batch.pk).status == "running"


def test_a_missing_upload_refuses_the_batch(accounts, media):
    batch = queued_batch(b"account_number\n")
    batch.source_file.delete(save=False)

    heavy_import_batch(batch_id=batch.pk)

    batch.refresh_from_db()
    assert (batch.status, batch.message) == (
        "refused",
        "The uploaded file is no longer there; upload it again.",
    )


def test_an_unexpected_error_refuses_the_batch_and_is_raised(accounts, media, monkeypatch):
    batch = queued_batch(csv_text("statement", [statement_row()]).encode())

    def explode(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(StatementImport, "run", explode)

    with pytest.raises(RuntimeError):
        heavy_import_batch(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.status == "refused"
    assert batch.message == "The import stopped on an unexpected error and nothing was imported."
    assert Statement.objects.count() == 0


def test_the_same_file_cannot_be_queued_twice(accounts, media):
    content = csv_text("statement", [statement_row()]).encode()
    first = queued_batch(content)

    with pytest.raises(AlreadyImported) as raised:
        queued_batch(content)

    assert raised.value.batch == first
    assert "is already being imported as batch" in str(raised.value)


# --- Commands -----------------------------------------------------------------------------------


def test_import_statement_command(accounts):
    out = io.StringIO()

    call_command("import_statement", str(SAMPLES / "statement.csv"), stdout=out)

    batch = ImportBatch.objects.get()
    assert out.getvalue() == (
        f"statement.csv (batch #{batch.pk}): Imported 2 statements (13 lines) for 2 program "
        "accounts.\n"
    )


def test_import_entries_command_records_who(accounts, personas):
    out = io.StringIO()

    call_command(
        "import_entries",
        str(SAMPLES / "entries.csv"),
        "--by",
        personas.broker_finance.email.upper(),
        stdout=out,
    )

    assert "Imported 8 entries for 2 program accounts." in out.getvalue()
    assert ImportBatch.objects.get().uploaded_by == personas.broker_finance


def test_command_says_a_file_was_already_imported(accounts):
    call_command("import_statement", str(SAMPLES / "statement.csv"), stdout=io.StringIO())
    out = io.StringIO()

    call_command("import_statement", str(SAMPLES / "statement.csv"), stdout=out)

    assert out.getvalue().startswith("Already imported: this file (SHA-256 ")
    assert out.getvalue().rstrip().endswith("Nothing changed.")


def test_command_refuses_a_bad_file_with_its_rows_and_no_traceback(accounts, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        csv_text(
            "statement",
            [statement_row(amount="$1"), statement_row(transaction_number="123")],
        )
    )
    err = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import_statement", str(path), stderr=err)

    batch = ImportBatch.objects.get()
    assert str(raised.value) == (
        f"bad.csv (batch #{batch.pk}): Refused: 2 problems found; nothing from this file was "
        "imported."
    )
    assert err.getvalue().splitlines() == [
        "  row 2, amount ('$1'): No currency sign: write the number alone, e.g. 1431.03.",
        "  row 3, transaction_number ('123'): A transaction number has 14 digits; this one has 3.",
    ]


def test_command_lists_only_the_first_errors(accounts, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(csv_text("statement", [statement_row(amount="x")] * 40))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_statement", str(path), stderr=err)

    lines = err.getvalue().splitlines()
    assert len(lines) == 26
    assert lines[-1] == "  … and 15 more (every listed one is on the batch page)."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.csv"], "No such file: /no/such/file.csv"),
        (["{tmp}"], "Not a file: {tmp}"),
        (["{sample}", "--by", "nobody@example.com"], "No user with the email address"),
    ],
)
def test_command_bad_arguments(db, tmp_path, args, message):
    args = [a.format(tmp=tmp_path, sample=SAMPLES / "statement.csv") for a in args]

    with pytest.raises(CommandError) as raised:
        call_command("import_statement", *args)

    assert str(raised.value).startswith(message.format(tmp=tmp_path))


def test_command_exits_non_zero_from_the_shell(tmp_path):
    """What a person at a terminal sees: the message, exit status 1, no traceback."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "import_statement", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DATABASE_URL": "sqlite:///:memory:"},
    )

    assert result.returncode == 1
    assert result.stderr == f"CommandError: No such file: {tmp_path / 'missing.csv'}\n"


def test_progress_is_written_from_a_side_connection(db):
    """The reporter writes nothing inside a transaction (the page could not see it anyway)."""
    batch = ImportBatch.objects.create(kind="statement", file_name="x", sha256="1")

    progress = Progress.for_batch(batch)

    assert progress.live is False
    progress.update(phase="reading", bytes_read=10, rows=5, force=True)
    batch.refresh_from_db()
    assert batch.row_count == 0
