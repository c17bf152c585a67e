"""A NUL byte in a file is refused whole, with its row, before anything is stored.

PostgreSQL cannot store a NUL in text (it answered 500); SQLite stored it. Both now refuse the file
with the same row-numbered reason, and nothing but the refused batch is added.
"""

from __future__ import annotations

import pytest

from statements.models import ImportBatch
from tests.statements.conftest import ROWS, csv_text, run_import, snapshot

pytestmark = pytest.mark.django_db

TEXT_COLUMN = {"statement": "reference", "entries": "client_reference"}


@pytest.mark.parametrize("kind", ["statement", "entries"])
@pytest.mark.parametrize("rows_before", [0, 2, 2500])  # first row, early, past a block of 2,000
def test_a_nul_in_a_reference_refuses_the_file_with_its_row(kind, rows_before, accounts):
    good = [ROWS[kind](transaction_number=f"12345{i:09d}") for i in range(rows_before)]
    bad = ROWS[kind](transaction_number="99999000000001", **{TEXT_COLUMN[kind]: "INV\x00-42"})
    content = csv_text(kind, [*good, bad])
    before = snapshot()

    result = run_import(kind, content)

    batch = result.batch
    assert batch.status == "refused"
    row = rows_before + 2  # the header is row 1
    assert batch.errors[0]["row"] == row
    assert batch.errors[0]["reason"].startswith(f"Row {row} holds a NUL character")
    assert snapshot() == before
    assert ImportBatch.objects.filter(status="refused").count() == 1
