"""Importing statement-of-account files: the sample, header variants, statements, all or nothing."""

import datetime as dt
from decimal import Decimal

import pytest

from clients.access import BrokerRole
from statements.importing import copy_writer
from statements.importing.batches import import_path
from statements.models import ImportBatch, Statement, StatementLine
from tests.factories import UserFactory
from tests.statements.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    SAMPLES,
    csv_text,
    run_import,
    snapshot,
    statement_row,
)

pytestmark = pytest.mark.django_db
D = dt.date


def test_sample_file_imports_two_statements_with_their_balances(accounts):
    user = UserFactory(roles=[BrokerRole.FINANCE])

    result = import_path(kind="statement", path=SAMPLES / "statement.csv", user=user)

    batch = result.batch
    assert (batch.status, batch.statement_count, batch.line_count, batch.account_count) == (
        "accepted",
        2,
        13,
        2,
    )
    assert batch.message == "Imported 2 statements (13 lines) for 2 program accounts."
    a = Statement.objects.get(program_account__bn15=ACCOUNT_A)
    b = Statement.objects.get(program_account__bn15=ACCOUNT_B)
    assert (a.statement_date, a.period_start, a.period_end) == (
        D(2025, 6, 25),
        D(2025, 5, 18),
        D(2025, 6, 17),
    )
    assert (a.opening_balance, a.closing_balance, a.line_count) == (
        Decimal("1250.00"),
        Decimal("2400.03"),
        11,
    )
    assert (b.opening_balance, b.closing_balance, b.line_count) == (
        Decimal("0.00"),
        Decimal("1045.00"),
        2,
    )
    assert a.due_date == D(2025, 7, 1)  # given in the file: Canada Day, a weekday
    assert b.due_date == D(2025, 7, 1)  # absent: computed, 10 weekdays after 17 June
    assert (a.status, a.source_batch) == ("open", batch)


def test_identical_lines_are_kept_as_two_lines(accounts):
    run_import("statement", (SAMPLES / "statement.csv").read_bytes())

    twice = StatementLine.objects.filter(transaction_number="12345000000041").order_by("position")
    assert [(line.position, line.amount) for line in twice] == [
        (7, Decimal("57.30")),
        (8, Decimal("57.30")),
    ]


def test_lines_keep_their_file_row_type_and_components(accounts):
    run_import("statement", (SAMPLES / "statement.csv").read_bytes())

    line = StatementLine.objects.get(transaction_number="12345000000017")
    assert (line.position, line.line_type, line.posted_on) == (3, "CAD", D(2025, 5, 21))
    assert (line.customs_duties, line.gst, line.excise_taxes, line.amount) == (
        Decimal("410.50"),
        Decimal("1020.53"),
        Decimal("0.00"),
        Decimal("1431.03"),
    )
    payment = StatementLine.objects.get(line_type="PAYMENT")
    assert (payment.reference, payment.amount, payment.transaction_number) == (
        "PAY-0000123",
        Decimal("-1250.00"),
        "",
    )


def test_each_statement_gets_one_history_record_naming_the_batch_and_user(accounts):
    user = UserFactory(roles=[BrokerRole.FINANCE])

    batch = run_import("statement", (SAMPLES / "statement.csv").read_bytes(), user=user).batch

    records = Statement.history.order_by("history_id")
    assert [(r.history_type, r.history_user) for r in records] == [("+", user), ("+", user)]
    assert {r.history_change_reason for r in records} == {f"Imported from batch #{batch.pk}"}
    assert {r.closing_balance for r in records} == {Decimal("2400.03"), Decimal("1045.00")}


def test_headers_match_whatever_their_case_spacing_order_or_alias(accounts):
    header = " Amount ,Posting Date,TYPE,Account-Number,SOA date,Transaction No,GST,Customs Duties"
    rows = [
        statement_row(
            **{
                "Posting Date": "2025-05-21",
                "TYPE": "CAD",
                "Account-Number": ACCOUNT_A,
                "SOA date": "2025-06-25",
                "Transaction No": "12345000000017",
                "GST": "1020.53",
                "Customs Duties": "410.50",
                " Amount ": "1431.03",
            }
        )
    ]

    batch = run_import("statement", csv_text("statement", rows, header=header)).batch

    assert batch.status == "accepted"
    assert StatementLine.objects.get().gst == Decimal("1020.53")


def test_byte_order_mark_and_quoted_fields_are_read(accounts):
    content = (
        "\ufeffaccount_number,statement_date,line_type,posted_on,reference,amount\n"
        f'"{ACCOUNT_A}",2025-06-25,PAYMENT,2025-06-02,"PAY, ""urgent""",-10.00\n'
    )

    batch = run_import("statement", content).batch

    assert batch.status == "accepted"
    assert StatementLine.objects.get().reference == 'PAY, "urgent"'


def test_identifiers_are_normalised_before_they_are_checked(accounts):
    row = statement_row(account_number="123 456 782 rm 0001", transaction_number="12345 0000 00017")

    batch = run_import("statement", csv_text("statement", [row])).batch

    assert batch.status == "accepted"
    line = StatementLine.objects.select_related("statement__program_account").get()
    assert (line.statement.program_account.bn15, line.transaction_number) == (
        ACCOUNT_A,
        "12345000000017",
    )


def test_an_unknown_column_is_ignored_with_a_warning(accounts):
    header = "account_number,statement_date,line_type,transaction_number,posted_on,amount,Notes"
    row = statement_row(Notes="checked by Marc")

    batch = run_import("statement", csv_text("statement", [row], header=header)).batch

    assert batch.status == "accepted"
    assert batch.warnings == ["Column “Notes” is not one we know: it was ignored."]


def test_a_statement_in_many_flushes_is_written_whole(accounts, monkeypatch):
    monkeypatch.setattr(copy_writer, "FLUSH_ROWS", 3)
    rows = [
        statement_row(
            line_type="OPENING_BALANCE",
            transaction_number="",
            customs_duties="",
            gst="",
            amount="100.00",
        )
    ]
    rows += [
        statement_row(transaction_number=f"12345{n:09d}", account_number=account)
        for n in range(10)
        for account in (ACCOUNT_A, ACCOUNT_B)
    ]

    batch = run_import("statement", csv_text("statement", rows)).batch

    assert (batch.status, batch.statement_count, batch.line_count) == ("accepted", 2, 21)
    a = Statement.objects.get(program_account__bn15=ACCOUNT_A)
    assert (a.line_count, a.opening_balance, a.closing_balance) == (
        11,
        Decimal("100.00"),
        Decimal("100.00") + 10 * Decimal("1431.03"),
    )
    assert list(a.lines.values_list("position", flat=True)) == [2, *range(3, 23, 2)]


def test_a_bad_row_after_many_written_rows_leaves_nothing(accounts, monkeypatch):
    monkeypatch.setattr(copy_writer, "FLUSH_ROWS", 3)
    rows = [statement_row(transaction_number=f"12345{n:09d}") for n in range(20)]
    rows.append(statement_row(amount="1431.04"))
    before = snapshot()

    batch = run_import("statement", csv_text("statement", rows)).batch

    assert batch.status == "refused"
    assert [(e["row"], e["column"]) for e in batch.errors] == [(22, "amount")]
    assert snapshot() == before


def test_a_statement_already_imported_refuses_the_new_file(accounts):
    first = run_import("statement", csv_text("statement", [statement_row()])).batch
    other = statement_row(transaction_number="12345000000025", amount="1431.03")
    before = snapshot()

    batch = run_import("statement", csv_text("statement", [other])).batch

    assert batch.status == "refused"
    assert batch.errors == [
        {
            "row": 2,
            "column": "statement_date",
            "value": "2025-06-25",
            "reason": f"The statement of {ACCOUNT_A} issued 2025-06-25 is already imported "
            f"(batch #{first.pk}). A statement is imported once; to replace it, ask an "
            "administrator to remove the old one first.",
        }
    ]
    assert snapshot() == before


def test_lines_of_one_statement_must_agree_on_the_due_date(accounts):
    rows = [statement_row(due_date="2025-07-01"), statement_row(due_date="2025-07-02")]

    batch = run_import("statement", csv_text("statement", rows)).batch

    assert (batch.errors[0]["row"], batch.errors[0]["column"]) == (3, "due_date")
    assert "Row 2 gives this statement the due date 2025-07-01" in batch.errors[0]["reason"]


def test_a_statement_has_one_opening_balance(accounts):
    opening = {
        "line_type": "OPENING_BALANCE",
        "transaction_number": "",
        "customs_duties": "",
        "gst": "",
        "amount": "5.00",
    }
    rows = [statement_row(**opening), statement_row(**opening)]

    batch = run_import("statement", csv_text("statement", rows)).batch

    assert batch.errors[0]["row"] == 3
    assert batch.errors[0]["reason"] == "This statement already has its opening balance (row 2)."


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        (
            {
                "line_type": "PAYMENT",
                "transaction_number": "",
                "customs_duties": "",
                "gst": "",
                "amount": "50.00",
            },
            "amount",
            "A PAYMENT reduces the balance",
        ),
        ({"transaction_number": ""}, "transaction_number", "Required for a CAD line."),
        ({"line_type": "REFUND"}, "line_type", "Unknown line type"),
        ({"reference": "x" * 65}, "reference", "At most 64 characters."),
        ({"posted_on": ""}, "posted_on", "Required: a date as YYYY-MM-DD."),
        ({"posted_on": "21/05/2025"}, "posted_on", "Expected a date as YYYY-MM-DD"),
        ({"amount": ""}, "amount", "Required: the line's total."),
    ],
)
def test_line_rules(accounts, values, column, reason):
    batch = run_import("statement", csv_text("statement", [statement_row(**values)])).batch

    assert batch.status == "refused"
    assert [(e["row"], e["column"]) for e in batch.errors] == [(2, column)]
    assert batch.errors[0]["reason"].startswith(reason)


def test_zero_components_mean_no_breakdown(accounts):
    zeros = dict.fromkeys(["customs_duties", "gst"], "0.00")
    row = statement_row(line_type="PAYMENT", transaction_number="", amount="-10.00", **zeros)

    batch = run_import("statement", csv_text("statement", [row])).batch

    assert batch.status == "accepted"


def test_lowercase_line_type_and_spaces_around_values_are_accepted(accounts):
    row = statement_row(line_type=" cad ", amount=" 1431.03", posted_on="2025-05-21 ")

    batch = run_import("statement", csv_text("statement", [row])).batch

    assert batch.status == "accepted"
    assert StatementLine.objects.get().line_type == "CAD"


def test_errors_are_listed_up_to_the_cap_and_the_rest_counted(accounts, settings):
    settings.STATEMENTS_IMPORT_MAX_ERRORS = 5
    rows = [statement_row(amount="1,431.03") for _ in range(12)]

    batch = run_import("statement", csv_text("statement", rows)).batch

    assert (batch.error_count, len(batch.errors), batch.hidden_error_count) == (12, 5, 7)
    assert [e["row"] for e in batch.errors] == [2, 3, 4, 5, 6]
    assert batch.message == "Refused: 12 problems found; nothing from this file was imported."


def test_a_user_imports_only_into_accounts_they_may_manage(accounts, personas):
    batch = run_import(
        "statement", csv_text("statement", [statement_row()]), user=personas.bam_a
    ).batch

    assert batch.status == "refused"
    assert batch.unknown_accounts == [{"bn15": ACCOUNT_A, "first_row": 2, "rows": 1}]
    assert ImportBatch.objects.get().uploaded_by == personas.bam_a


def test_the_refusal_is_recorded(accounts):
    run_import("statement", csv_text("statement", [statement_row(amount="$1431.03")]), name="x.csv")

    batch = ImportBatch.objects.get()
    assert (batch.status, batch.file_name, batch.error_count, batch.row_count) == (
        "refused",
        "x.csv",
        1,
        1,
    )
    assert batch.finished_at is not None


# --- The stated closing balance (CLOSING_BALANCE) ------------------------------------------------

CLOSING = {
    "line_type": "CLOSING_BALANCE",
    "transaction_number": "",
    "customs_duties": "",
    "gst": "",
}


def test_a_stated_closing_balance_is_stored_on_the_statement_and_is_not_a_line(accounts):
    rows = [statement_row(), statement_row(**CLOSING, amount="1500.00")]

    batch = run_import("statement", csv_text("statement", rows)).batch

    assert (batch.status, batch.statement_count, batch.line_count) == ("accepted", 1, 1)
    statement = Statement.objects.get()
    assert (
        statement.closing_balance,
        statement.stated_closing_balance,
        statement.line_count,
    ) == (Decimal("1431.03"), Decimal("1500.00"), 1)
    assert list(statement.lines.values_list("line_type", "position")) == [("CAD", 2)]


def test_without_a_closing_balance_row_nothing_is_stated(accounts):
    batch = run_import("statement", csv_text("statement", [statement_row()])).batch

    assert batch.status == "accepted"
    assert Statement.objects.get().stated_closing_balance is None


def test_a_statement_states_one_closing_balance(accounts):
    rows = [
        statement_row(**CLOSING, amount="5.00"),
        statement_row(),
        statement_row(**CLOSING, amount="5.00"),
    ]
    before = snapshot()

    batch = run_import("statement", csv_text("statement", rows)).batch

    assert batch.status == "refused"
    assert [(e["row"], e["column"], e["reason"]) for e in batch.errors] == [
        (4, "line_type", "This statement already has its stated closing balance (row 2).")
    ]
    assert snapshot() == before
