"""Every bad input of issue 4, for both kinds of file: a clear answer, and the database exactly as
it was (apart from the record of the refusal)."""

import io
import time
import tracemalloc

import pytest

from statements.importing import copy_writer
from statements.importing.batches import import_path, import_stream
from statements.models import ImportBatch
from tests.statements.conftest import (
    ACCOUNT_A,
    HEADERS,
    ROWS,
    csv_text,
    run_import,
    snapshot,
)

pytestmark = pytest.mark.django_db
KINDS = ["statement", "entries"]
DATE_COLUMN = {"statement": "posted_on", "entries": "release_date"}
TEXT_COLUMN = {"statement": "reference", "entries": "client_reference"}


@pytest.fixture
def unchanged(accounts):
    """Asserts, after the test, that only a refused batch was added."""
    before = snapshot()
    refused = ImportBatch.objects.filter(status="refused").count()
    yield
    assert snapshot() == before
    assert ImportBatch.objects.filter(status="refused").count() == refused + 1


def refused(kind: str, content: str | bytes) -> ImportBatch:
    result = run_import(kind, content)
    assert not result.already_imported
    assert result.batch.status == "refused"
    assert result.batch.message.startswith("Refused:")
    return result.batch


def problems(batch: ImportBatch) -> list[tuple]:
    return [(e["row"], e["column"], e["value"]) for e in batch.errors]


def good(kind: str, n: int = 2) -> list[dict[str, str]]:
    return [ROWS[kind](transaction_number=f"12345{i:09d}") for i in range(n)]


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_encoding(kind, unchanged):
    content = csv_text(kind, [*good(kind), ROWS[kind](**{TEXT_COLUMN[kind]: "Café Müller"})])

    batch = refused(kind, content.encode("cp1252"))

    assert problems(batch) == [(4, "", "")]
    assert batch.errors[0]["reason"].startswith(
        "The file is not UTF-8 text: row 4 has the byte 0xE9"
    )
    assert "CSV UTF-8" in batch.errors[0]["reason"]


@pytest.mark.parametrize("kind", KINDS)
def test_utf16_file(kind, unchanged):
    batch = refused(kind, csv_text(kind, good(kind)).encode("utf-16"))

    assert batch.errors[0]["reason"].startswith("The file is UTF-16 text, not UTF-8.")


@pytest.mark.parametrize("kind", KINDS)
def test_missing_column(kind, unchanged):
    header = HEADERS[kind].replace(f"{DATE_COLUMN[kind]},", "")

    batch = refused(kind, csv_text(kind, good(kind), header=header))

    assert problems(batch) == [(1, DATE_COLUMN[kind], "")]
    assert batch.errors[0]["reason"].startswith(
        f"Required column missing: {DATE_COLUMN[kind]}. The header has: account_number,"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_extra_column_in_a_row(kind, unchanged):
    content = csv_text(kind, good(kind))
    lines = content.splitlines()
    lines[2] += ",surprise"

    batch = refused(kind, "\n".join(lines) + "\n")

    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "")]
    width = len(HEADERS[kind].split(","))
    assert batch.errors[0]["reason"].startswith(
        f"This row has {width + 1} fields and the header {width}"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_extra_column_in_the_header_is_ignored_and_listed(kind, accounts):
    header = HEADERS[kind] + ",Broker note"

    batch = run_import(kind, csv_text(kind, good(kind), header=header)).batch

    assert batch.status == "accepted"
    assert batch.warnings == ["Column “Broker note” is not one we know: it was ignored."]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("blank", ["", ",,,,,,,,,,,,,,,,,,"[:0] or "  "])
def test_blank_line(kind, blank, unchanged):
    lines = csv_text(kind, good(kind, 3)).splitlines()
    lines.insert(2, blank)

    batch = refused(kind, "\n".join(lines) + "\n")

    assert problems(batch) == [(3, "", "")]
    assert batch.errors[0]["reason"] == "Blank row: delete it (every row is one line)."


@pytest.mark.parametrize("kind", KINDS)
def test_row_of_empty_fields(kind, unchanged):
    lines = csv_text(kind, good(kind, 3)).splitlines()
    lines.insert(2, "," * (len(HEADERS[kind].split(",")) - 1))

    batch = refused(kind, "\n".join(lines) + "\n")

    assert problems(batch) == [(3, "", "")]


@pytest.mark.parametrize("kind", KINDS)
def test_dollar_sign_in_an_amount(kind, unchanged):
    batch = refused(kind, csv_text(kind, [*good(kind), ROWS[kind](amount="$1431.03")]))

    assert problems(batch) == [(4, "amount", "$1431.03")]
    assert batch.errors[0]["reason"] == "No currency sign: write the number alone, e.g. 1431.03."


@pytest.mark.parametrize("kind", KINDS)
def test_thousands_separator_in_an_amount(kind, unchanged):
    batch = refused(kind, csv_text(kind, [ROWS[kind](amount='"1,431.03"')]))

    assert problems(batch) == [(2, "amount", "1,431.03")]
    assert batch.errors[0]["reason"] == (
        "No thousands separator or decimal comma: write 1431.03, not 1,431.03."
    )


@pytest.mark.parametrize("kind", KINDS)
def test_three_decimals(kind, unchanged):
    batch = refused(kind, csv_text(kind, [ROWS[kind](gst="1020.530", amount="1431.030")]))

    assert problems(batch) == [(2, "amount", "1431.030"), (2, "gst", "1020.530")]
    assert {e["reason"] for e in batch.errors} == {"At most 2 decimal places (cents)."}


@pytest.mark.parametrize("kind", KINDS)
def test_13_digit_transaction_number(kind, unchanged):
    batch = refused(kind, csv_text(kind, [ROWS[kind](transaction_number="1234500000001")]))

    assert problems(batch) == [(2, "transaction_number", "1234500000001")]
    assert batch.errors[0]["reason"] == ("A transaction number has 14 digits; this one has 13.")


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_bn15(kind, unchanged):
    batch = refused(kind, csv_text(kind, [ROWS[kind](account_number="123456789RM0001")]))

    assert problems(batch) == [(2, "account_number", "123456789RM0001")]
    assert "is not valid: its 9th digit does not match" in batch.errors[0]["reason"]
    assert batch.unknown_accounts == []


@pytest.mark.parametrize("kind", KINDS)
def test_rt_account_is_not_an_import_account(kind, unchanged):
    batch = refused(kind, csv_text(kind, [ROWS[kind](account_number="123456782RT0001")]))

    assert "only an import-export (RM) account" in batch.errors[0]["reason"]


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_bn15(kind, unchanged):
    unknown = "123456782RM0002"
    rows = [
        ROWS[kind](),
        ROWS[kind](account_number=unknown, transaction_number="12345000000025"),
        ROWS[kind](account_number=unknown, transaction_number="12345000000033"),
    ]

    batch = refused(kind, csv_text(kind, rows))

    assert batch.unknown_accounts == [{"bn15": unknown, "first_row": 3, "rows": 2}]
    assert problems(batch) == [(3, "account_number", unknown)]
    assert batch.message == (
        "Refused: 1 problem found; nothing from this file was imported. "
        "Unknown program accounts: 123456782RM0002."
    )


@pytest.mark.parametrize("kind", KINDS)
def test_components_that_do_not_sum(kind, unchanged):
    batch = refused(kind, csv_text(kind, [ROWS[kind](gst="1020.80")]))

    assert problems(batch) == [(2, "amount", "1431.03")]
    assert batch.errors[0]["reason"] == (
        "The amount 1431.03 is not the sum of the components (1431.30): they differ by -0.27."
    )


@pytest.mark.parametrize("kind", KINDS)
def test_impossible_date(kind, unchanged):
    batch = refused(kind, csv_text(kind, [ROWS[kind](**{DATE_COLUMN[kind]: "2026-02-30"})]))

    assert problems(batch) == [(2, DATE_COLUMN[kind], "2026-02-30")]
    assert batch.errors[0]["reason"] == "2026-02-30 is not a date: 2026-02 has 28 days."


@pytest.mark.parametrize("kind", KINDS)
def test_empty_file(kind, unchanged):
    batch = refused(kind, b"")

    assert batch.errors == [
        {"row": None, "column": "", "value": "", "reason": "The file is empty."}
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_header_only_file(kind, unchanged):
    batch = refused(kind, HEADERS[kind] + "\n")

    assert [e["reason"] for e in batch.errors] == ["The file has a header but no rows."]


@pytest.mark.parametrize("kind", KINDS)
def test_50_mb_file_with_one_bad_row_at_the_end(kind, unchanged, tmp_path):
    """50 MB streamed: refused at its last row, nothing kept. The rows carry a long ignored
    column so the file reaches 50 MB in ~110,000 rows and the test stays fast."""
    path = tmp_path / "big.csv"
    filler = "x" * 400
    header = HEADERS[kind] + ",description"
    make = ROWS[kind]
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        while out.tell() < 50 * 1024 * 1024:
            block = [
                csv_text(
                    kind,
                    [make(transaction_number=f"12345{count + i:09d}", description=filler)],
                    header=header,
                ).split("\n", 1)[1]
                for i in range(1000)
            ]
            out.write("".join(block))
            count += 1000
        out.write(
            csv_text(kind, [make(amount="1431.031", description=filler)], header=header).split(
                "\n", 1
            )[1]
        )
    assert path.stat().st_size > 50 * 1024 * 1024

    started = time.monotonic()
    result = import_path(kind=kind, path=path)
    elapsed = time.monotonic() - started

    batch = result.batch
    assert batch.status == "refused"
    assert problems(batch) == [(count + 2, "amount", "1431.031")]
    assert batch.row_count == count + 1
    assert elapsed < 30


@pytest.mark.parametrize("kind", KINDS)
def test_same_file_twice(kind, accounts):
    content = csv_text(kind, good(kind))
    first = run_import(kind, content).batch
    before = snapshot()
    batches = ImportBatch.objects.count()

    again = run_import(kind, content)

    assert again.already_imported
    assert again.batch == first
    assert again.message.startswith(
        f"Already imported: this file (SHA-256 {first.sha256[:12]}…) was imported as batch "
        f"#{first.pk} on "
    )
    assert again.message.endswith("Nothing changed.")
    assert snapshot() == before
    assert ImportBatch.objects.count() == batches


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_file_may_be_imported_again_once_fixed_elsewhere(kind, db):
    content = csv_text(kind, good(kind))
    assert run_import(kind, content).batch.status == "refused"  # accounts not created yet

    from tests.factories import ImporterFactory, ProgramAccountFactory

    ProgramAccountFactory(importer=ImporterFactory(bn9=ACCOUNT_A[:9]), bn15=ACCOUNT_A)

    assert run_import(kind, content).batch.status == "accepted"


def test_not_valid_csv_is_refused_with_its_row(unchanged):
    content = HEADERS["statement"] + '\n"unclosed,2025-06-25\n'

    batch = refused("statement", content)

    assert batch.errors[0]["reason"].startswith("Row 2 is not valid CSV")


def test_a_spreadsheet_workbook_is_refused(unchanged):
    batch = refused("statement", b"PK\x03\x04" + b"\x00" * 100)

    assert batch.errors[0]["reason"].startswith("This is a spreadsheet workbook (.xlsx)")


@pytest.mark.parametrize("kind", KINDS)
def test_memory_does_not_grow_with_the_number_of_rows(kind, accounts, monkeypatch):
    monkeypatch.setattr(copy_writer, "FLUSH_ROWS", 500)

    def peak(rows: int, month: int) -> int:
        extra = {"statement_date": f"2025-{month:02d}-25"} if kind == "statement" else {}
        content = csv_text(
            kind,
            [ROWS[kind](transaction_number=f"1{rows:04d}{i:09d}", **extra) for i in range(rows)],
        ).encode()
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = import_stream(kind=kind, stream=io.BytesIO(content), file_name=f"{rows}.csv")
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        assert result.batch.status == "accepted"
        return peak

    small, large = peak(2_000, 6), peak(8_000, 7)

    assert large < small * 1.5
