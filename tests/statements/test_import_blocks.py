"""The imports' block passes (PostgreSQL) against the careful passes they stand in for.

On PostgreSQL a statement file is first read in blocks, each checked a column at a time and
copied as text; a block it does not dare to take goes row by row, and any problem rolls the pass
back and reads the file again row by row (broker entries: through the staging table). These
tests hold them to what that promises: for every file, the same rows stored and the same answer
as the careful pass alone, and a retry (never a different outcome) when the file has a problem.
Blocks are made 7 rows long so that small files span many of them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection, transaction

from statements.importing import entry_file, statement_file
from statements.importing.entry_file import EntryImport
from statements.importing.statement_file import StatementImport
from statements.models import COMPONENTS, BrokerEntry, ImportBatch, Statement, StatementLine
from tests.statements.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    ENTRY_HEADER,
    STATEMENT_HEADER,
    entry_row,
    run_import,
    snapshot,
    statement_row,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the block pass runs on PostgreSQL only",
    ),
]
BLOCK = 7


@pytest.fixture
def passes(monkeypatch):
    """Small blocks, and a record of what each block and pass did."""
    monkeypatch.setattr(statement_file, "CHUNK_ROWS", BLOCK)  # where the passes read it
    seen = {"blocks": [], "row_passes": 0}
    block_taker, read_rows = StatementImport.block_taker, StatementImport._read_rows

    def spying_block_taker(self, statements):
        take = block_taker(self, statements)

        def take_block(first, block):
            taken = take(first, block)
            seen["blocks"].append(taken)
            return taken

        return take_block

    def counting_read_rows(self, records, statements):
        seen["row_passes"] += 1
        return read_rows(self, records, statements)

    monkeypatch.setattr(StatementImport, "block_taker", spying_block_taker)
    monkeypatch.setattr(StatementImport, "_read_rows", counting_read_rows)
    return seen


def stored() -> dict[str, object]:
    """What an import wrote, without ids (the two passes draw different ones)."""
    statements = {
        (s.program_account.bn15, s.statement_date): (
            s.period_start,
            s.period_end,
            s.due_date,
            s.opening_balance,
            s.closing_balance,
            s.stated_closing_balance,
            s.line_count,
            s.status,
        )
        for s in Statement.objects.select_related("program_account")
    }
    lines = [
        (
            line.statement.program_account.bn15,
            line.statement.statement_date,
            line.position,
            line.line_type,
            line.transaction_number,
            line.posted_on,
            line.reference,
            *(getattr(line, name) for name in COMPONENTS),
            line.amount,
        )
        for line in StatementLine.objects.select_related("statement__program_account").order_by(
            "position"
        )
    ]
    return {"statements": statements, "lines": lines}


def answer(batch: ImportBatch) -> dict[str, object]:
    return {
        "status": batch.status,
        "message": batch.message,
        "errors": batch.errors,
        "unknown": batch.unknown_accounts,
        "warnings": batch.warnings,
        "counts": (batch.row_count, batch.statement_count, batch.line_count, batch.account_count),
    }


class _Undo(Exception):
    """Rolls the first import back, with all it set off (payments matched to its lines...)."""


def both_passes(content: str, monkeypatch) -> tuple[dict, dict, dict, dict]:
    """Import ``content`` as it runs (blocks first), then again with the row pass alone."""
    try:
        with transaction.atomic():
            blocks = run_import("statement", content).batch
            first = answer(blocks), stored()
            raise _Undo
    except _Undo:
        pass
    monkeypatch.setattr(StatementImport, "optimistic", lambda self: False)
    rows = run_import("statement", content).batch
    return *first, answer(rows), stored()


def csv_text(rows: list[dict[str, str]], header: str = STATEMENT_HEADER) -> str:
    """A CSV file as a spreadsheet writes one: values quoted only where they must be."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = header.split(",")
    writer.writerow(columns)
    writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return out.getvalue()


def cad(n: int, **values: str) -> dict[str, str]:
    return statement_row(transaction_number=f"12345{n:09d}", **values)


def mixed_rows() -> list[dict[str, str]]:
    """Four statements of two accounts, two of them interleaved, with every kind of clean value:
    opening balances, stated closing balances (not lines: left out of the copied block), negative
    payments and credits, interest alone, components given or not, zero amounts, due dates on some
    lines only, references that COPY must escape."""
    june, july = "2025-06-25", "2025-07-25"
    rows = [
        statement_row(
            line_type="OPENING_BALANCE",
            transaction_number="",
            customs_duties="",
            gst="",
            amount="1250.00",
        ),
        *(cad(n, reference=f"F-{n}") for n in range(1, 9)),
        cad(9, customs_duties="0.00", gst="", amount="12.40"),  # amount alone: components zero
        cad(10, customs_duties="", gst="", amount="0"),
        statement_row(
            line_type="PAYMENT",
            transaction_number="",
            reference="PAY 1",
            customs_duties="",
            gst="",
            amount="-500.25",
            due_date="2025-07-08",
        ),
        statement_row(
            line_type="INTEREST",
            transaction_number="",
            customs_duties="",
            gst="",
            interest="3.10",
            amount="3.10",
        ),
        cad(11, reference='tab\there "quoted", back\\slash', due_date="2025-07-08"),
        statement_row(
            line_type="CLOSING_BALANCE",
            transaction_number="",
            customs_duties="",
            gst="",
            amount="13457.31",
        ),
        cad(12, reference="Écrou à 5 $, réf. ÀÉÎ"),
    ]
    for n in range(20, 34):  # account B's June and July statements, interleaved
        rows.append(
            cad(
                n,
                account_number=ACCOUNT_B,
                statement_date=july if n % 2 else june,
                customs_duties="1.01",
                gst="2.02",
                amount="3.03",
            )
        )
    rows.append(
        statement_row(
            account_number=ACCOUNT_B,
            statement_date=july,
            line_type="CREDIT",
            transaction_number="",
            customs_duties="",
            gst="",
            other="-7.50",
            amount="-7.50",
        )
    )
    rows.append(  # account B's July statement states its closing balance between its lines
        statement_row(
            account_number=ACCOUNT_B,
            statement_date=july,
            line_type="CLOSING_BALANCE",
            transaction_number="",
            customs_duties="",
            gst="",
            amount="-0.01",
        )
    )
    rows += [cad(n, statement_date=july, posted_on="2025-06-30") for n in range(40, 50)]
    return rows


def test_a_clean_file_is_taken_in_blocks_and_stored_as_the_row_pass_stores_it(
    accounts, passes, monkeypatch
):
    content = csv_text(mixed_rows())

    blocks_answer, blocks_stored, rows_answer, rows_stored = both_passes(content, monkeypatch)

    assert passes["row_passes"] == 1  # only the comparison's: the block pass took it all
    assert passes["blocks"] and all(passes["blocks"])
    assert blocks_answer["status"] == "accepted"
    assert blocks_answer == rows_answer
    assert blocks_stored == rows_stored
    assert len(blocks_stored["statements"]) == 4
    june_a = blocks_stored["statements"][(ACCOUNT_A, dt.date(2025, 6, 25))]
    assert june_a[2:7] == (
        dt.date(2025, 7, 8),
        Decimal("1250.00"),
        june_a[4],
        Decimal("13457.31"),
        15,
    )
    july_b = blocks_stored["statements"][(ACCOUNT_B, dt.date(2025, 7, 25))]
    assert july_b[5:7] == (Decimal("-0.01"), 8)  # its 7 CADs and the credit
    assert "CLOSING_BALANCE" not in {line[3] for line in blocks_stored["lines"]}
    june_b = blocks_stored["statements"][(ACCOUNT_B, dt.date(2025, 6, 25))]
    assert june_b[5] is None  # no CLOSING_BALANCE row: nothing stated
    quoted = next(line for line in blocks_stored["lines"] if "slash" in line[6])
    assert quoted[6] == 'tab\there "quoted", back\\slash'


def test_rows_the_blocks_do_not_dare_to_take_go_row_by_row_and_are_stored_the_same(
    accounts, passes, monkeypatch
):
    rows = mixed_rows()
    rows[3]["line_type"] = "cad"  # upper-cased by the row pass
    rows[12]["statement_date"] = " 2025-06-25 "  # spaces around values are trimmed
    rows[20]["transaction_number"] = "12345-000000-021"  # separators are dropped
    rows[30]["reference"] = "trailing space "
    content = csv_text(rows)

    blocks_answer, blocks_stored, rows_answer, rows_stored = both_passes(content, monkeypatch)

    assert passes["row_passes"] == 1  # no retry: those blocks went row by row, in the pass
    assert False in passes["blocks"] and True in passes["blocks"]
    assert blocks_answer["status"] == "accepted"
    assert (blocks_answer, blocks_stored) == (rows_answer, rows_stored)


def test_a_block_of_nothing_but_stated_closing_balances_is_taken_and_copies_nothing(
    accounts, passes, monkeypatch
):
    """Files that list every statement's CLOSING_BALANCE at the end: whole blocks of them."""
    months = [f"2025-{month:02d}-25" for month in range(1, 11)]
    rows = [cad(n, statement_date=day, posted_on="2024-12-20") for n, day in enumerate(months)]
    rows += [
        statement_row(
            statement_date=day,
            line_type="CLOSING_BALANCE",
            transaction_number="",
            customs_duties="",
            gst="",
            amount=f"{1431 + n}.03",
        )
        for n, day in enumerate(months)
    ]
    content = csv_text(rows)

    blocks_answer, blocks_stored, rows_answer, rows_stored = both_passes(content, monkeypatch)

    assert passes["row_passes"] == 1 and all(passes["blocks"])
    assert blocks_answer["status"] == "accepted"
    assert (blocks_answer, blocks_stored) == (rows_answer, rows_stored)
    assert blocks_answer["counts"] == (20, 10, 10, 1)
    assert [s[5] for _key, s in sorted(blocks_stored["statements"].items())] == [
        Decimal(f"{1431 + n}.03") for n in range(10)
    ]


@pytest.mark.parametrize(
    "header",
    [
        # no reference, no due date, only two components
        "account_number,statement_date,line_type,transaction_number,posted_on,customs_duties,gst,"
        "amount",
        # aliases and another column order, and a column we do not know (a warning)
        "amount,line_type,account_number,statement_date,posted_on,transaction_number,gst,"
        "customs_duties,reference,notes",
    ],
)
def test_other_headers_are_stored_the_same(accounts, passes, monkeypatch, header):
    rows = [row for row in mixed_rows() if not row.get("interest") and not row.get("other")]
    for row in rows:
        row["notes"] = "a note"
    content = csv_text(rows, header=header)

    blocks_answer, blocks_stored, rows_answer, rows_stored = both_passes(content, monkeypatch)

    assert blocks_answer["status"] == "accepted"
    assert all(passes["blocks"])
    assert (blocks_answer, blocks_stored) == (rows_answer, rows_stored)


def late(rows: list[dict[str, str]], index: int, **values: str) -> list[dict[str, str]]:
    rows = [dict(row) for row in rows]
    rows[index].update(values)
    return rows


BAD = {
    "components that do not sum, in the last block": lambda rows: late(
        rows, -1, customs_duties="1.00", gst="1.00", amount="2.01"
    ),
    "a positive payment": lambda rows: late(
        rows,
        10,
        line_type="PAYMENT",
        transaction_number="",
        amount="500.25",
        customs_duties="",
        gst="",
    ),
    "a second opening balance, blocks later": lambda rows: late(
        rows,
        25,
        account_number=ACCOUNT_A,
        statement_date="2025-06-25",
        line_type="OPENING_BALANCE",
        transaction_number="",
        customs_duties="",
        gst="",
        amount="1.00",
    ),
    "a second stated closing balance, blocks later": lambda rows: late(
        rows,
        27,
        account_number=ACCOUNT_A,
        statement_date="2025-06-25",
        line_type="CLOSING_BALANCE",
        transaction_number="",
        customs_duties="",
        gst="",
        amount="1.00",
    ),
    "two due dates for one statement, in different blocks": lambda rows: late(
        rows, -2, statement_date="2025-06-25", due_date="2025-08-11"
    ),
    "an unknown account late in the file": lambda rows: late(
        rows, -3, account_number="100000009RM0001"
    ),
    "an invalid date late in the file": lambda rows: late(rows, -4, posted_on="2025-02-30"),
    "three decimals": lambda rows: late(rows, 22, customs_duties="1.011", amount="3.031"),
    "a digit of another script": lambda rows: late(rows, 22, amount="٣.03"),
}


@pytest.mark.parametrize("problem", BAD)
def test_a_problem_anywhere_rolls_the_blocks_back_and_gets_the_row_pass_answer(
    accounts, passes, monkeypatch, problem
):
    content = csv_text(BAD[problem](mixed_rows()))
    before = snapshot()

    blocks_answer, blocks_stored, rows_answer, rows_stored = both_passes(content, monkeypatch)

    assert blocks_answer["status"] == "refused"
    assert blocks_answer["errors"], problem
    assert passes["row_passes"] == 2  # the retry, then the comparison
    assert blocks_answer == rows_answer
    assert blocks_stored == rows_stored == {"statements": {}, "lines": []}
    assert snapshot()["lines"] == before["lines"] == 0


def test_a_csv_error_after_clean_blocks_is_named_by_its_row(accounts, passes):
    content = csv_text(mixed_rows()) + f'{ACCOUNT_A},2025-06-25,CAD,"unclosed\n'

    batch = run_import("statement", content).batch

    assert batch.status == "refused"
    assert passes["row_passes"] == 1
    assert batch.errors[0]["row"] == len(mixed_rows()) + 2
    assert StatementLine.objects.count() == 0


def test_a_statement_imported_before_gets_the_row_pass_answer(accounts, passes, monkeypatch):
    rows = mixed_rows()
    run_import("statement", csv_text(rows[:5]))
    content = csv_text([*rows, cad(99, statement_date="2025-05-25")])
    lines_before = StatementLine.objects.count()

    batch = run_import("statement", content).batch

    assert batch.status == "refused"
    assert passes["row_passes"] == 1
    assert "already imported" in batch.errors[0]["reason"]
    assert StatementLine.objects.count() == lines_before


# --- Broker entries: blocks in the direct pass, the staged pass on any problem -------------------


@pytest.fixture
def entry_passes(monkeypatch):
    monkeypatch.setattr(entry_file, "CHUNK_ROWS", BLOCK)  # where the passes read it
    seen = {"blocks": [], "staged": 0}
    block_taker, staged = EntryImport.block_taker, EntryImport._staged

    def spying_block_taker(self, writer):
        take = block_taker(self, writer)

        def take_block(first, block):
            taken = take(first, block)
            seen["blocks"].append(taken)
            return taken

        return take_block

    def counting_staged(self):
        seen["staged"] += 1
        return staged(self)

    monkeypatch.setattr(EntryImport, "block_taker", spying_block_taker)
    monkeypatch.setattr(EntryImport, "_staged", counting_staged)
    return seen


def stored_entries() -> list[tuple]:
    return [
        (
            entry.program_account.bn15,
            entry.position,
            entry.transaction_number,
            entry.version,
            entry.release_date,
            entry.accounted_on,
            entry.client_reference,
            *(getattr(entry, name) for name in COMPONENTS),
            entry.amount,
        )
        for entry in BrokerEntry.objects.select_related("program_account").order_by("position")
    ]


def both_entry_passes(content: str, monkeypatch) -> tuple[dict, list, dict, list]:
    try:
        with transaction.atomic():
            direct = run_import("entries", content).batch
            first = answer(direct), stored_entries()
            raise _Undo
    except _Undo:
        pass
    monkeypatch.setattr(EntryImport, "optimistic", lambda self: False)
    staged = run_import("entries", content).batch
    return *first, answer(staged), stored_entries()


def mixed_entries() -> list[dict[str, str]]:
    rows = [
        entry_row(transaction_number=f"12345{n:09d}", client_reference=f"F-{n}")
        for n in range(1, 30)
    ]
    rows[3].update(version="2", gst="1020.54", amount="1431.04")  # an amendment
    rows[4].update(version="", customs_duties="", gst="", amount="99.99")  # version 1, no breakdown
    rows[5].update(client_reference='tab\there "quoted", back\\slash')
    rows[6].update(client_reference="Écrou à 5 $", account_number=ACCOUNT_B)
    rows[7].update(customs_duties="0", gst="", interest="-3.10", amount="-3.10")
    return rows


def entries_csv(rows: list[dict[str, str]]) -> str:
    return csv_text(rows, header=ENTRY_HEADER)


def test_clean_entries_are_taken_in_blocks_and_stored_as_the_staged_pass_stores_them(
    accounts, entry_passes, monkeypatch
):
    direct_answer, direct_stored, staged_answer, staged_stored = both_entry_passes(
        entries_csv(mixed_entries()), monkeypatch
    )

    assert entry_passes["staged"] == 1  # the comparison's only
    assert entry_passes["blocks"] and all(entry_passes["blocks"])
    assert direct_answer["status"] == "accepted"
    assert (direct_answer, direct_stored) == (staged_answer, staged_stored)
    assert direct_stored[5][6] == 'tab\there "quoted", back\\slash'


def test_entry_rows_the_blocks_do_not_dare_to_take_go_row_by_row(
    accounts, entry_passes, monkeypatch
):
    rows = mixed_entries()
    rows[2]["release_date"] = " 2025-05-16"
    rows[20]["transaction_number"] = "12345 000000 021"
    direct_answer, direct_stored, staged_answer, staged_stored = both_entry_passes(
        entries_csv(rows), monkeypatch
    )

    assert entry_passes["staged"] == 1
    assert False in entry_passes["blocks"] and True in entry_passes["blocks"]
    assert direct_answer["status"] == "accepted"
    assert (direct_answer, direct_stored) == (staged_answer, staged_stored)


BAD_ENTRIES = {
    "components that do not sum, late": lambda rows: late(rows, -1, amount="1431.04"),
    "the same version twice in the file": lambda rows: late(
        rows, -2, transaction_number="12345000000001"
    ),
    "an unknown account, late": lambda rows: late(rows, -3, account_number="100000009RM0001"),
    "a version that is not a number": lambda rows: late(rows, 15, version="v2"),
}


@pytest.mark.parametrize("problem", BAD_ENTRIES)
def test_an_entry_problem_anywhere_gets_the_staged_pass_answer(
    accounts, entry_passes, monkeypatch, problem
):
    content = entries_csv(BAD_ENTRIES[problem](mixed_entries()))

    direct_answer, direct_stored, staged_answer, staged_stored = both_entry_passes(
        content, monkeypatch
    )

    assert direct_answer["status"] == "refused"
    assert direct_answer["errors"], problem
    assert entry_passes["staged"] == 2  # the retry, then the comparison
    assert (
        (direct_answer, direct_stored)
        == (staged_answer, staged_stored)
        == (
            staged_answer,
            [],
        )
    )
