"""The balance check that can fail (issue 14, item 2): CBSA's stated closing balance against the
opening balance plus the lines, and the opening balance against the previous statement's closing.

Everything goes the real way: files imported, the statement reconciled by the engine, the run page
and the worklist rendered, the PDF rendered and read back, the CSV written, the API asked. Each
case is also held to "nothing else stored differently": the same files, told a different stated
figure (or none), store the same lines, items and run figures.
"""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from pypdf import PdfReader

from statements import balance, reports
from statements.models import ReconciliationItem, ReconciliationRun, Statement, StatementLine
from statements.reconciliation.runs import reconcile_statement
from tests.statements.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    SAMPLES,
    csv_text,
    run_import,
    statement_row,
)

pytestmark = pytest.mark.django_db
D = Decimal
BALANCE = ReconciliationItem.Code.BALANCE_DIFFERENCE

SAMPLE_STATEMENT = (SAMPLES / "statement.csv").read_text()
SAMPLE_ENTRIES = (SAMPLES / "entries.csv").read_bytes()
STATED_A = "CLOSING_BALANCE,,2025-06-17,,,,,,,,,,,,,2400.03"  # account A's row in the sample


def june(stated: str | None = "2400.03") -> str:
    """The sample statement file, account A stating ``stated`` (None: no CLOSING_BALANCE row)."""
    if stated is None:
        return "".join(
            line
            for line in SAMPLE_STATEMENT.splitlines(keepends=True)
            if not line.startswith(f"{ACCOUNT_A},2025-06-25,CLOSING_BALANCE")
        )
    return SAMPLE_STATEMENT.replace(STATED_A, STATED_A.replace("2400.03", stated))


def earlier(statement_date: str, opening: str, cad: str, stated: str | None) -> str:
    """An earlier statement of account A: its opening balance, one CAD, maybe a stated closing."""
    common = {"statement_date": statement_date, "posted_on": "2025-04-20", "due_date": ""}
    no_breakdown = {"transaction_number": "", "customs_duties": "", "gst": ""}
    rows = [
        statement_row(**common, **no_breakdown, line_type="OPENING_BALANCE", amount=opening),
        statement_row(
            **common,
            transaction_number="12345000000900",
            customs_duties="",
            gst=cad,
            amount=cad,
        ),
    ]
    if stated is not None:
        rows.append(
            statement_row(**common, **no_breakdown, line_type="CLOSING_BALANCE", amount=stated)
        )
    return csv_text("statement", rows)


def reconcile_june(june_file: str, *before: str) -> ReconciliationRun:
    for content in before:
        assert run_import("statement", content).batch.status == "accepted"
    assert run_import("statement", june_file, name="june.csv").batch.status == "accepted"
    assert run_import("entries", SAMPLE_ENTRIES, name="entries.csv").batch.status == "accepted"
    statement = Statement.objects.get(program_account__bn15=ACCOUNT_A, statement_date="2025-06-25")
    return reconcile_statement(statement=statement, run_by=None)


def stored(run: ReconciliationRun) -> dict[str, object]:
    """What the run and the import stored, but the stated closing balance and what the balance
    check itself records on the run (its exception count and ``balance_ok``, and the items of its
    differences with their counts; ids left out)."""
    statement = run.statement
    own = ReconciliationItem.objects.filter(run=run, status=BALANCE).count()
    return {
        "statement": (
            statement.opening_balance,
            statement.closing_balance,
            statement.line_count,
            statement.status,
        ),
        "lines": list(
            StatementLine.objects.filter(statement=statement)
            .order_by("position")
            .values_list("position", "line_type", "transaction_number", "amount")
        ),
        "run": (
            run.status,
            {code: figures for code, figures in run.summary.items() if code != BALANCE},
            run.item_count - own,
            run.line_total,
            run.computed_closing,
            run.balance_difference,
        ),
        "items": list(
            ReconciliationItem.objects.filter(run=run)
            .exclude(status=BALANCE)
            .order_by("position")
            .values_list(
                "position", "status", "key", "statement_amount", "entry_amount", "difference"
            )
        ),
    }


class _Undo(Exception):
    pass


def stored_with(june_file: str, *before: str) -> dict[str, object]:
    """``stored`` for these files, rolled back afterwards (to compare two variants)."""
    try:
        with transaction.atomic():
            result = stored(reconcile_june(june_file, *before))
            raise _Undo
    except _Undo:
        return result


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_text(response) -> str:
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def pdf_text(run: ReconciliationRun) -> str:
    data = reports.render_pdf(run)
    return squash(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def csv_lines(run: ReconciliationRun) -> list[str]:
    out = io.StringIO(newline="")
    reports.write_csv(run, out)
    return out.getvalue().splitlines()


@pytest.fixture
def finance(personas, client_for):
    return client_for(personas.broker_finance)


# --- A clean statement balances ------------------------------------------------------------------


def test_a_clean_statement_balances(accounts, finance):
    run = reconcile_june(june("2400.03"), earlier("2025-05-25", "1000.00", "250.00", "1250.00"))

    check = balance.check(run.statement)
    assert (check.stated_closing, check.computed_closing, check.closing_difference) == (
        D("2400.03"),
        D("2400.03"),
        D("0.00"),
    )
    assert (check.previous_closing, check.opening, check.opening_difference) == (
        D("1250.00"),
        D("1250.00"),
        D("0.00"),
    )
    assert (check.ok, check.exception_count, check.findings) == (True, 0, ())
    page = page_text(finance.get(run.get_absolute_url()))
    assert "Balance check Balanced" in page
    assert "Closing balance the statement states $2,400.03" in page
    assert "Previous statement's closing balance (2025-05-25) $1,250.00" in page
    assert "Exceptions" in page and "Balance differences" not in page
    assert squash("Stated minus computed $0.00") in pdf_text(run)
    assert not any(line.startswith("balance_difference") for line in csv_lines(run))
    body = finance.get(f"/api/v1/reconciliation-runs/{run.pk}/").json()["balance_check"]
    assert (body["ok"], body["exception_count"], body["findings"]) == (True, 0, [])
    assert "Balance differences" not in page_text(finance.get(reverse("statements:worklist")))
    assert run.statement.status == Statement.Status.OPEN  # the sample has open exceptions


# --- A stated closing that differs ----------------------------------------------------------------


def test_a_stated_closing_that_differs_is_shown_everywhere_and_counts_as_an_exception(
    accounts, finance
):
    run = reconcile_june(june("2400.00"))
    message = (
        "The statement states a closing balance of 2400.00, but its opening balance plus its "
        "lines give 2400.03: a difference of -0.03."
    )

    check = balance.check(run.statement)
    assert (check.stated_closing, check.computed_closing, check.closing_difference) == (
        D("2400.00"),
        D("2400.03"),
        D("-0.03"),
    )
    assert [(f.code, f.is_exception, f.difference) for f in check.differences] == [
        ("closing_differs", True, D("-0.03"))
    ]
    assert check.differences[0].message == message
    # the run page: the figures, the finding, and its item: one more exception than the other 8
    response = finance.get(run.get_absolute_url())
    page = page_text(response)
    assert "Balance check Does not balance" in page
    assert "Closing balance the statement states $2,400.00" in page
    assert "Stated minus computed \u2212$0.03" in page
    assert f"{message} An exception to explain." in page
    assert (response.context["summary"].exception_count, response.context["exception_total"]) == (
        9,
        9,
    )
    assert "9 Exceptions" in page and "1 Balance differences" in page
    # the PDF, read back
    text = pdf_text(run)
    assert squash("Balance check: does not balance") in text
    assert squash("Closing balance the statement states $2,400.00") in text
    assert squash("Stated minus computed \u2212$0.03") in text
    assert squash(message) in text
    assert squash("1 balance difference counts among this run's 9 exceptions.") in text
    # the CSV: one row per item, the difference's item last (nothing written twice)
    lines = csv_lines(run)
    assert lines[0] == ",".join(reports.CSV_COLUMNS)
    assert lines[-1] == "balance_difference,,CLOSING_BALANCE,2400.00,2400.03,-0.03,,,,"
    assert len(lines) == 1 + run.item_count
    assert sum(line.startswith("balance_difference,") for line in lines) == 1
    assert reports.read_csv(lines)[-1]["difference"] == D("-0.03")
    # the worklist
    worklist = finance.get(reverse("statements:worklist"))
    assert "Balance differences" in page_text(worklist)
    assert f"{ACCOUNT_A} 2025-06-25 {message}" in page_text(worklist)
    assert f'{run.get_absolute_url()}#balance-check"' in worklist.content.decode()
    # the API: the run and the statement
    body = finance.get(f"/api/v1/reconciliation-runs/{run.pk}/").json()["balance_check"]
    assert (body["ok"], body["exception_count"]) == (False, 1)
    assert (body["stated_closing"], body["computed_closing"], body["closing_difference"]) == (
        "2400.00",
        "2400.03",
        "-0.03",
    )
    assert body["findings"][:1] == [
        {
            "code": "closing_differs",
            "message": message,
            "is_exception": True,
            "stated": "2400.00",
            "expected": "2400.03",
            "difference": "-0.03",
        }
    ]
    assert [f["code"] for f in body["findings"][1:]] == ["no_previous_statement"]  # said only
    statement = finance.get(f"/api/v1/statements/{run.statement_id}/").json()
    assert statement["stated_closing_balance"] == "2400.00"
    assert statement["balance_check"] == body


def test_a_stated_closing_that_differs_stores_nothing_else_differently(accounts):
    assert stored_with(june("2400.00")) == stored_with(june("2400.03")) == stored_with(june(None))


@pytest.mark.parametrize(
    ("stated", "exceptions", "balance_ok"),
    [("2400.00", 9, False), ("2400.03", 8, True), (None, 8, True)],
)
def test_the_run_records_a_difference_among_its_exceptions(
    accounts, stated, exceptions, balance_ok
):
    run = reconcile_june(june(stated))

    assert (run.exception_count, run.balance_ok) == (exceptions, balance_ok)
    assert run.balance_difference == D("0.00")  # the lines add up in every case


def one_cad_statement(stated: str) -> str:
    no_breakdown = {"transaction_number": "", "customs_duties": "", "gst": ""}
    return csv_text(
        "statement",
        [
            statement_row(),  # CAD 12345000000017, 1431.03: entry_row() matches it
            statement_row(**no_breakdown, line_type="CLOSING_BALANCE", amount=stated),
        ],
    )


@pytest.mark.parametrize(("stated", "status"), [("1431.03", "reconciled"), ("1431.00", "open")])
def test_a_statement_with_a_balance_difference_is_not_reconciled(accounts, stated, status):
    from tests.statements.conftest import entry_row

    run_import("statement", one_cad_statement(stated))
    run_import("entries", csv_text("entries", [entry_row()]))
    statement = Statement.objects.get()

    run = reconcile_statement(statement=statement, run_by=None)

    statement.refresh_from_db()
    assert (set(run.summary), run.exception_count) == (
        {"matched"} if status == "reconciled" else {"matched", BALANCE},
        0 if status == "reconciled" else 1,
    )
    assert statement.status == status


# --- An opening that differs from the previous closing -------------------------------------------


def test_an_opening_that_differs_from_the_previous_closing_is_shown_and_counted(accounts, finance):
    april = earlier("2025-04-25", "0.00", "1250.00", None)  # closes at 1250.00, as June opens
    may = earlier("2025-05-25", "1000.00", "250.00", "1200.00")  # computes 1250.00, states 1200
    run = reconcile_june(june("2400.03"), april, may)
    message = (
        "The opening balance of 1250.00 is not the closing balance of the previous statement "
        "(2025-05-25), 1200.00: a difference of 50.00."
    )

    check = balance.check(run.statement)
    # the previous statement is May's (not April's), and its stated closing wins over its computed
    assert (check.previous_statement_date.isoformat(), check.previous_closing) == (
        "2025-05-25",
        D("1200.00"),
    )
    assert (check.opening_difference, check.closing_difference) == (D("50.00"), D("0.00"))
    assert [(f.code, f.message) for f in check.differences] == [("opening_differs", message)]
    page = page_text(finance.get(run.get_absolute_url()))
    assert "Previous statement's closing balance (2025-05-25) $1,200.00" in page
    assert "Opening minus previous closing $50.00" in page
    assert f"{message} An exception to explain." in page
    assert "9 Exceptions" in page
    text = pdf_text(run)
    assert squash("Previous statement's closing balance (2025-05-25) $1,200.00") in text
    assert squash("Opening minus previous closing $50.00") in text
    assert squash(message) in text
    assert csv_lines(run)[-1] == "balance_difference,,OPENING_BALANCE,1250.00,1200.00,50.00,,,,"
    assert f"{ACCOUNT_A} 2025-06-25 {message}" in page_text(
        finance.get(reverse("statements:worklist"))
    )
    body = finance.get(f"/api/v1/reconciliation-runs/{run.pk}/").json()["balance_check"]
    assert (body["previous_closing"], body["opening_difference"], body["exception_count"]) == (
        "1200.00",
        "50.00",
        1,
    )
    assert body["previous_statement"] == check.previous_statement_id
    listed = finance.get("/api/v1/reconciliation-runs/", {"statement": run.statement_id}).json()
    assert listed["results"][0]["balance_check"] == body  # the list reads it in SQL: the same


def test_a_previous_statement_without_a_stated_closing_is_compared_by_its_computed_one(
    accounts,
):
    may = earlier("2025-05-25", "1000.00", "249.99", None)  # computes 1249.99
    run = reconcile_june(june("2400.03"), may)

    check = balance.check(run.statement)

    assert (check.previous_closing, check.opening_difference) == (D("1249.99"), D("0.01"))
    assert [f.code for f in check.differences] == ["opening_differs"]


def test_an_opening_that_differs_stores_nothing_else_differently(accounts):
    april = earlier("2025-04-25", "0.00", "1250.00", None)
    assert stored_with(june("2400.03"), april, earlier("2025-05-25", "0", "1.00", "1200.00")) == (
        stored_with(june("2400.03"), april, earlier("2025-05-25", "0", "1.00", "1250.00"))
    )


# --- A file without CLOSING_BALANCE --------------------------------------------------------------


def test_a_file_without_a_closing_balance_says_no_stated_balance(accounts, finance):
    run = reconcile_june(june(None))
    message = (
        "No stated balance: the statement file has no CLOSING_BALANCE row, so the closing "
        "balance could not be checked against CBSA's figure."
    )

    check = balance.check(run.statement)
    assert (check.stated_closing, check.closing_difference, check.is_stated) == (None, None, False)
    assert [(f.code, f.is_exception) for f in check.findings] == [
        ("no_stated_balance", False),
        ("no_previous_statement", False),
    ]
    assert check.ok and check.exception_count == 0  # said, not counted
    page = page_text(finance.get(run.get_absolute_url()))
    assert "Closing balance the statement states no stated balance" in page
    assert message in page and "8 Exceptions" in page
    assert "Previous statement's closing balance none on record" in page
    text = pdf_text(run)
    assert squash("Closing balance the statement states no stated balance") in text
    assert squash(message) in text
    assert not any(line.startswith("balance_difference") for line in csv_lines(run))
    body = finance.get(f"/api/v1/reconciliation-runs/{run.pk}/").json()["balance_check"]
    assert (body["stated_closing"], body["closing_difference"], body["ok"]) == (None, None, True)
    assert [f["code"] for f in body["findings"]] == ["no_stated_balance", "no_previous_statement"]
    assert "Balance differences" not in page_text(finance.get(reverse("statements:worklist")))


def test_the_worklist_lists_only_statements_whose_check_differs(accounts, finance):
    reconcile_june(june("2400.03"))
    statement = Statement.objects.get(program_account__bn15=ACCOUNT_A)
    assert list(balance.differing(Statement.objects.all())) == []

    statement.stated_closing_balance = D("2400.02")  # corrected by hand (the admin)
    statement.save()

    assert list(balance.differing(Statement.objects.all())) == [statement]
    assert [
        s.pk for s in finance.get(reverse("statements:worklist")).context["balance_differences"]
    ] == [statement.pk]


def test_a_list_reads_every_check_in_one_query(accounts, django_assert_num_queries):
    reconcile_june(june("2400.00"), earlier("2025-05-25", "1000.00", "250.00", "1200.00"))
    names = {
        pk: (bn15, day.isoformat())
        for pk, bn15, day in Statement.objects.values_list(
            "pk", "program_account__bn15", "statement_date"
        )
    }

    with django_assert_num_queries(1):
        found = {s.pk: balance.check(s) for s in balance.with_previous_closing(Statement.objects)}

    assert {
        names[pk]: (check.closing_difference, check.opening_difference)
        for pk, check in found.items()
    } == {
        (ACCOUNT_A, "2025-05-25"): (D("-50.00"), None),  # states 1200.00, computes 1250.00
        (ACCOUNT_A, "2025-06-25"): (D("-0.03"), D("50.00")),  # opens at 1250.00 after 1200.00
        (ACCOUNT_B, "2025-06-25"): (D("0.00"), None),  # states what it computes; first on record
    }


def test_the_statement_page_shows_the_stated_closing_and_the_finding(accounts, finance):
    run = reconcile_june(june("2400.00"))

    page = page_text(finance.get(run.statement.get_absolute_url()))

    assert "Closing balance the statement states $2,400.00" in page
    assert "Balance check Does not balance" in page
    assert "a difference of -0.03." in page


def test_the_findings_are_translated(accounts, settings):
    from django.utils import translation

    run = reconcile_june(june("2400.00"))

    with translation.override("fr"):
        check = balance.check(run.statement)

    assert check.differences[0].message.startswith(
        "Le relevé déclare un solde de clôture de 2400.00"
    )


def test_the_report_command_says_what_is_off(accounts, tmp_path):
    from django.core.management import call_command

    run = reconcile_june(june("2400.00"))
    out = io.StringIO()

    call_command(
        "reconciliation_report",
        "--statement",
        str(run.statement_id),
        "--format",
        "csv",
        "--output",
        str(tmp_path / "r.csv"),
        stdout=out,
    )

    assert (
        f"{run.item_count} items, 9 exceptions, balance closing_differs -0.03 ->" in out.getvalue()
    )


# --- A difference is an item: worked, resolved, carried over ------------------------------------


def balance_items(run: ReconciliationRun) -> list[ReconciliationItem]:
    return list(ReconciliationItem.objects.filter(run=run, status=BALANCE).order_by("position"))


def test_a_differing_stated_closing_is_one_open_exception_item_resolved_as_explained(
    accounts, personas
):
    from statements import workflow

    run = reconcile_june(june("2400.00"))

    [item] = balance_items(run)
    assert (item.is_exception, item.resolution, item.key, item.transaction_number) == (
        True,
        "",
        "balance:closing",
        "",
    )
    assert (item.line_type, item.statement_amount, item.entry_amount, item.difference) == (
        "CLOSING_BALANCE",
        D("2400.00"),
        D("2400.03"),
        D("-0.03"),
    )
    assert item.position == run.item_count  # after the engine's items
    # counted once: the run's exceptions are its items' (8 + this one), not 8 + 1 + 1
    assert run.exception_count == 9 == sum(s["exceptions"] for s in run.summary.values())
    assert run.summary[BALANCE] == {
        "count": 1,
        "amount": "2400.00",
        "statement_amount": "2400.00",
        "entry_amount": "2400.03",
        "difference": "-0.03",
        "exceptions": 1,
        "open": 1,
        "flagged": 0,
    }
    assert run.balance_ok is False

    workflow.resolve(
        item, user=personas.broker_finance, resolution="explained", note="CBSA rounding"
    )
    item.refresh_from_db()
    assert (item.resolution, item.note) == ("explained", "CBSA rounding")


def test_a_rerun_keeps_the_resolution_of_an_unchanged_difference(accounts, personas):
    from statements import workflow

    run = reconcile_june(june("2400.00"))
    [item] = balance_items(run)
    workflow.resolve(
        item, user=personas.broker_finance, resolution="explained", note="CBSA rounding"
    )

    rerun = reconcile_statement(statement=run.statement, run_by=None)

    [again] = balance_items(rerun)
    assert again.pk != item.pk
    assert (again.key, again.difference, again.resolution, again.note, again.reopened) == (
        "balance:closing",
        D("-0.03"),
        "explained",
        "CBSA rounding",
        False,
    )
    assert again.first_seen_at == item.first_seen_at
    assert (rerun.summary[BALANCE]["open"], rerun.exception_count) == (0, 9)
    assert ReconciliationItem.objects.filter(status=BALANCE).count() == 2  # one per run


def test_an_opening_that_differs_is_one_item_of_its_own_check(accounts):
    april = earlier("2025-04-25", "0.00", "1250.00", None)
    may = earlier("2025-05-25", "1000.00", "250.00", "1200.00")
    run = reconcile_june(june("2400.00"), april, may)

    assert [
        (i.key, i.line_type, i.statement_amount, i.entry_amount, i.difference)
        for i in balance_items(run)
    ] == [
        ("balance:closing", "CLOSING_BALANCE", D("2400.00"), D("2400.03"), D("-0.03")),
        ("balance:opening", "OPENING_BALANCE", D("1250.00"), D("1200.00"), D("50.00")),
    ]
    assert run.exception_count == 10


@pytest.mark.parametrize("stated", ["2400.03", None])
def test_a_statement_that_balances_has_no_balance_item(accounts, stated):
    run = reconcile_june(june(stated))

    assert balance_items(run) == []
    assert BALANCE not in run.summary
    assert run.exception_count == 8


def test_the_worklist_compares_with_an_earlier_statement_never_reconciled(accounts, finance):
    """June (reconciled) opens with 1,250.00; May (imported, never reconciled) closed at
    1,249.99. The previous statement is read among all of the account's statements, not only
    the reconciled ones the worklist lists."""
    run = reconcile_june(june("2400.03"), earlier("2025-05-25", "1000.00", "249.99", "1249.99"))
    may = Statement.objects.filter(program_account__bn15=ACCOUNT_A)  # whole accounts

    assert list(balance.differing(may)) == [run.statement]  # May's own check is fine
    listed = finance.get(reverse("statements:worklist")).context["balance_differences"]
    assert [s.pk for s in listed] == [run.statement_id]
    (difference,) = listed[0].balance_check.differences
    assert difference.difference == D("0.01")


def flagged() -> set[int]:
    return set(Statement.objects.filter(balance_differs=True).values_list("pk", flat=True))


def checked_live() -> set[int]:
    return {s.pk for s in balance.differing(Statement.objects.all())}


def test_the_kept_flag_follows_the_live_check_through_imports_saves_and_deletions(accounts):
    """``Statement.balance_differs`` (what the worklist reads) against ``differing`` (the check
    over every statement) after each way statements change, out of order included."""
    # June, then an earlier May that closed a cent off June's opening: June differs once May is in.
    assert run_import("statement", june("2400.03"), name="june.csv").batch.status == "accepted"
    june_statement = Statement.objects.get(program_account__bn15=ACCOUNT_A)
    assert flagged() == checked_live() == set()
    may = earlier("2025-05-25", "1000.00", "249.99", "1249.99")
    assert run_import("statement", may, name="may.csv").batch.status == "accepted"
    assert flagged() == checked_live() == {june_statement.pk}

    # May corrected by hand to close where June opens: nothing differs.
    may_statement = Statement.objects.get(
        statement_date="2025-05-25", program_account__bn15=ACCOUNT_A
    )
    may_statement.closing_balance = may_statement.stated_closing_balance = D("1250.00")
    may_statement.save()
    assert flagged() == checked_live() == set()

    # A stated closing that is not the computed one; then the statement deleted.
    may_statement.stated_closing_balance = D("1250.01")
    may_statement.save(update_fields=["stated_closing_balance"])
    assert flagged() == checked_live() == {may_statement.pk, june_statement.pk}
    may_statement.save(update_fields=["status"])  # a change the check does not read
    StatementLine.objects.filter(statement=may_statement).delete()
    may_statement.delete()
    assert flagged() == checked_live() == set()
