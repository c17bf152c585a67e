"""Progress of a running import, seen from another connection while its transaction is open.

PostgreSQL only: there the import writes progress through a side connection. SQLite allows one
writer at a time, so progress is written when the import ends (and the page says "running").
"""

import io

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from carm_portal import progress as progress_module
from statements.importing.batches import claim, create_batch, run_batch
from statements.importing.progress import Progress
from statements.models import ImportBatch
from tests.factories import ImporterFactory, ProgramAccountFactory
from tests.statements.conftest import ACCOUNT_A, csv_text, statement_row

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="live progress needs PostgreSQL"),
]


def test_the_page_sees_progress_before_the_import_commits(monkeypatch):
    ProgramAccountFactory(importer=ImporterFactory(bn9=ACCOUNT_A[:9]), bn15=ACCOUNT_A)
    monkeypatch.setattr(progress_module, "EVERY_SECONDS", 0)
    content = csv_text(
        "statement", [statement_row(transaction_number=f"12345{i:09d}") for i in range(10_000)]
    ).encode()
    batch = create_batch(kind="statement", file_name="x.csv", stream=io.BytesIO(content))
    batch = claim(batch.pk)
    seen = []
    observer = connections.create_connection(DEFAULT_DB_ALIAS)
    update = Progress.update

    def watched(self, **kwargs):
        update(self, **kwargs)
        with observer.cursor() as cursor:
            cursor.execute(
                "SELECT status, phase, row_count, bytes_read FROM statements_importbatch "
                "WHERE id = %s",
                [batch.pk],
            )
            seen.append(cursor.fetchone())
            cursor.execute("SELECT COUNT(*) FROM statements_statementline")
            seen.append(cursor.fetchone())

    monkeypatch.setattr(Progress, "update", watched)
    try:
        run_batch(batch=batch, stream=io.BytesIO(content))
    finally:
        observer.close()

    assert ImportBatch.objects.get(pk=batch.pk).status == "accepted"
    progress = [row for row in seen if len(row) == 4]
    lines_seen = [row[0] for row in seen if len(row) == 1]
    assert {status for status, *_ in progress} == {"running"}
    assert [phase for _status, phase, *_ in progress][:2] == ["reading", "reading"]
    assert progress[-1][1] == "checking"
    assert progress[3][2] > progress[1][2] > 0  # rows read grow while the import runs
    assert progress[3][3] > progress[1][3] > 0  # and so do the bytes
    assert set(lines_seen) == {0}  # nothing of the file is visible before it commits


def test_a_second_reading_says_so_and_starts_the_count_again(monkeypatch):
    ProgramAccountFactory(importer=ImporterFactory(bn9=ACCOUNT_A[:9]), bn15=ACCOUNT_A)
    monkeypatch.setattr(progress_module, "EVERY_SECONDS", 0)
    rows = [statement_row(transaction_number=f"12345{i:09d}") for i in range(6_000)]
    rows[-1]["amount"] = "1431.04"  # does not sum: found by the block pass, listed row by row
    content = csv_text("statement", rows).encode()
    batch = create_batch(kind="statement", file_name="x.csv", stream=io.BytesIO(content))
    batch = claim(batch.pk)
    seen = []
    update = Progress.update

    def watched(self, **kwargs):
        update(self, **kwargs)
        seen.append((kwargs["phase"], kwargs["rows"]))

    monkeypatch.setattr(Progress, "update", watched)
    run_batch(batch=batch, stream=io.BytesIO(content))

    assert ImportBatch.objects.get(pk=batch.pk).status == "refused"
    phases = [phase for phase, _rows in seen]
    again = phases.index("reading again, row by row")
    assert set(phases[1:again]) == {"reading"}
    assert seen[again] == ("reading again, row by row", 0)
    assert seen[again + 1][1] > 0
    assert phases[-1] == "checking"
