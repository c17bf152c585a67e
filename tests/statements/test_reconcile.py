"""The reconciliation engine: the worked example of docs/formats.md, then a table of hand-built
cases for every status and their combinations, the balance check, the statement's status and
determinism. Reruns, failures and concurrency are in test_reconcile_rerun.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from statements.importing.batches import import_path
from statements.models import ReconciliationItem, ReconciliationRun, Statement
from statements.reconciliation import status
from statements.reconciliation.rules import clean_tolerance
from statements.reconciliation.runs import reconcile_statement
from statements.reconciliation.selectors import current_run
from tests.factories import (
    BrokerEntryFactory,
    ProgramAccountFactory,
    StatementFactory,
    StatementLineFactory,
)
from tests.statements.conftest import ACCOUNT_A, ACCOUNT_B, SAMPLES

pytestmark = pytest.mark.django_db

Code = ReconciliationItem.Code
D = Decimal
ISSUED = dt.date(2026, 10, 25)  # billing period 2026-09-18 - 2026-10-17
IN_PERIOD = dt.date(2026, 10, 1)
OURS, THEIRS = "12345", "54321"


def txn(n: int, asec: str = OURS) -> str:
    return f"{asec}{n:09d}"


def L(kind: str, number: str = "", amount: str = "0.00", **components: str) -> dict:
    """A statement line; a CAD without components puts its amount in customs duties."""
    if kind in ("CAD", "ADJUSTMENT") and not components:
        components = {"customs_duties": amount}
    return {
        "line_type": kind,
        "transaction_number": number,
        "amount": D(amount),
        **{k: D(v) for k, v in components.items()},
    }


def E(number: str, amount: str, *, version: int = 1, on: dt.date = IN_PERIOD, **components: str):
    """An entry version; without components its amount is customs duties."""
    components = components or {"customs_duties": amount}
    return {
        "transaction_number": number,
        "amount": D(amount),
        "version": version,
        "accounted_on": on,
        **{k: D(v) for k, v in components.items()},
    }


def build(lines: list[dict], entries: list[dict], *, opening: str = "0.00", closing=None):
    """A statement with an OPENING_BALANCE line and ``lines``, and the account's ``entries``."""
    account = ProgramAccountFactory()
    total = sum((line["amount"] for line in lines), D("0.00"))
    statement = StatementFactory(
        program_account=account,
        statement_date=ISSUED,
        opening_balance=D(opening),
        closing_balance=D(opening) + total if closing is None else D(closing),
        line_count=len(lines) + 1,
    )
    StatementLineFactory(
        statement=statement,
        position=2,
        line_type="OPENING_BALANCE",
        transaction_number="",
        amount=D(opening),
    )
    for position, line in enumerate(lines, start=3):
        StatementLineFactory(statement=statement, position=position, **line)
    for entry in entries:
        BrokerEntryFactory(program_account=account, **entry)
    return statement


def found(run: ReconciliationRun) -> list[tuple]:
    return [
        (item.status, item.key, item.difference, sorted(item.components_differing))
        for item in run.items.order_by("position")
    ]


# --- The worked example of docs/formats.md ---------------------------------------------------------


def test_the_worked_example_of_the_formats_doc(accounts, settings):
    settings.RECONCILIATION_AFTER_IMPORT = False
    settings.BROKER_ASECS = ["12345"]
    import_path(kind="entries", path=SAMPLES / "entries.csv")
    import_path(kind="statement", path=SAMPLES / "statement.csv")
    statement = Statement.objects.get(program_account__bn15=ACCOUNT_A)

    run = reconcile_statement(statement=statement)

    rows = [
        (i.status, i.transaction_number, i.line_type, i.statement_amount, i.entry_amount)
        for i in run.items.order_by("position")
    ]
    assert rows == [  # by status as the export lists them (formats.md), then by row
        (Code.MATCHED, "12345000000017", "CAD", D("1431.03"), D("1431.03")),
        (Code.MATCHED, "12345000000025", "CAD", D("265.00"), D("265.00")),
        (Code.AMOUNT_MISMATCH, "12345000000033", "CAD", D("400.61"), D("400.34")),
        (Code.MISSING_ON_STATEMENT, "12345000000074", "CAD", None, D("186.00")),
        (Code.OTHER_BROKER, "54321000000012", "CAD", D("98.75"), None),
        (Code.OTHER_BROKER, "54321000000020", "ADJUSTMENT", D("-12.40"), None),
        (Code.UNEXPECTED_ON_STATEMENT, "12345000000058", "CAD", D("94.00"), None),
        (Code.DUPLICATE, "12345000000041", "CAD", D("57.30"), D("57.30")),
        (Code.DUPLICATE, "12345000000041", "CAD", D("57.30"), D("57.30")),
        (Code.POSTED_BY_CBSA, "", "PAYMENT", D("-1250.00"), None),
        (Code.POSTED_BY_CBSA, "", "INTEREST", D("8.44"), None),
    ]
    items = {i.key: i for i in run.items.all()}
    assert items["txn:12345000000025"].entry_version == 2
    mismatch = items["txn:12345000000033"]
    assert mismatch.difference == D("0.27")
    assert mismatch.components_differing == {
        "gst": {"statement": "312.41", "entry": "312.14", "difference": "0.27"}
    }
    assert items["entry:12345000000074"].difference == D("-186.00")
    assert "entry:12345000000082" not in items  # accounted after the 17th: next period
    assert (run.computed_closing, run.balance_ok) == (D("2400.03"), True)
    assert run.summary[Code.MATCHED] | {} == run.summary[Code.MATCHED]
    assert run.summary[Code.MATCHED]["count"] == 2
    assert run.summary[Code.DUPLICATE]["amount"] == "114.60"
    assert run.status == ReconciliationRun.Status.SUCCEEDED and run.is_current
    assert run.item_count == 11

    other = reconcile_statement(statement=Statement.objects.get(program_account__bn15=ACCOUNT_B))
    assert found(other) == [(Code.MATCHED, "txn:12345000000090", D("0.00"), [])]
    assert (other.computed_closing, other.balance_ok) == (D("1045.00"), True)


# --- The table of hand-built cases -------------------------------------------------------------


CASES = {
    "matched to the cent, component by component": (
        [L("CAD", txn(1), "100.00", customs_duties="40.00", gst="60.00")],
        [E(txn(1), "100.00", customs_duties="40.00", gst="60.00")],
        "0.00",
        [(Code.MATCHED, "txn:12345000000001", D("0.00"), [])],
    ),
    "an adjustment line matches its entry too": (
        [L("ADJUSTMENT", txn(1), "-10.00", gst="-10.00")],
        [E(txn(1), "-10.00", gst="-10.00")],
        "0.00",
        [(Code.MATCHED, "txn:12345000000001", D("0.00"), [])],
    ),
    "amended CAD with 3 versions: compared with version 3": (
        [L("CAD", txn(1), "120.00")],
        [E(txn(1), "100.00"), E(txn(1), "110.00", version=2), E(txn(1), "120.00", version=3)],
        "0.00",
        [(Code.MATCHED, "txn:12345000000001", D("0.00"), [])],
    ),
    "amended CAD charged at an older version: mismatch against the newest": (
        [L("CAD", txn(1), "110.00")],
        [E(txn(1), "100.00"), E(txn(1), "110.00", version=2), E(txn(1), "120.00", version=3)],
        "0.00",
        [(Code.AMOUNT_MISMATCH, "txn:12345000000001", D("-10.00"), ["customs_duties"])],
    ),
    "newest version accounted after the period still decides": (
        [L("CAD", txn(1), "100.00")],
        [E(txn(1), "100.00"), E(txn(1), "90.00", version=2, on=dt.date(2026, 10, 20))],
        "0.00",
        [(Code.AMOUNT_MISMATCH, "txn:12345000000001", D("10.00"), ["customs_duties"])],
    ),
    "a line matches an entry accounted in an earlier period": (
        [L("CAD", txn(1), "100.00")],
        [E(txn(1), "100.00", on=dt.date(2026, 9, 10))],
        "0.00",
        [(Code.MATCHED, "txn:12345000000001", D("0.00"), [])],
    ),
    "another broker's CAD": (
        [L("CAD", txn(7, THEIRS), "98.75")],
        [],
        "0.00",
        [(Code.OTHER_BROKER, "txn:54321000000007", D("98.75"), [])],
    ),
    "our ASEC but no entry": (
        [L("CAD", txn(8), "94.00")],
        [],
        "0.00",
        [(Code.UNEXPECTED_ON_STATEMENT, "txn:12345000000008", D("94.00"), [])],
    ),
    "duplicate charge: every line a duplicate, none matched, entry not missing": (
        [L("CAD", txn(1), "57.30"), L("CAD", txn(2), "10.00"), L("CAD", txn(1), "57.30")],
        [E(txn(1), "57.30"), E(txn(2), "10.00")],
        "0.00",
        [
            (Code.MATCHED, "txn:12345000000002", D("0.00"), []),
            (Code.DUPLICATE, "txn:12345000000001#1", D("0.00"), []),
            (Code.DUPLICATE, "txn:12345000000001#2", D("0.00"), []),
        ],
    ),
    "duplicate of a transaction with no entry": (
        [L("CAD", txn(5), "5.00"), L("CAD", txn(5), "5.00")],
        [],
        "0.00",
        [
            (Code.DUPLICATE, "txn:12345000000005#1", D("5.00"), []),
            (Code.DUPLICATE, "txn:12345000000005#2", D("5.00"), []),
        ],
    ),
    "a line off by one cent": (
        [L("CAD", txn(1), "100.01", customs_duties="40.00", gst="60.01")],
        [E(txn(1), "100.00", customs_duties="40.00", gst="60.00")],
        "0.00",
        [(Code.AMOUNT_MISMATCH, "txn:12345000000001", D("0.01"), ["gst"])],
    ),
    "tolerance edge: exactly at the tolerance is within it": (
        [L("CAD", txn(1), "100.05", customs_duties="40.00", gst="60.05")],
        [E(txn(1), "100.00", customs_duties="40.00", gst="60.00")],
        "0.05",
        [(Code.MATCHED_WITHIN_TOLERANCE, "txn:12345000000001", D("0.05"), ["gst"])],
    ),
    "tolerance edge: one cent over is a mismatch": (
        [L("CAD", txn(1), "100.06", customs_duties="40.00", gst="60.06")],
        [E(txn(1), "100.00", customs_duties="40.00", gst="60.00")],
        "0.05",
        [(Code.AMOUNT_MISMATCH, "txn:12345000000001", D("0.06"), ["gst"])],
    ),
    "tolerance applies per component, not only to the total": (
        [L("CAD", txn(1), "100.00", customs_duties="40.04", gst="59.96")],
        [E(txn(1), "100.00", customs_duties="40.00", gst="60.00")],
        "0.03",
        [(Code.AMOUNT_MISMATCH, "txn:12345000000001", D("0.00"), ["customs_duties", "gst"])],
    ),
    "a negative difference within tolerance": (
        [L("CAD", txn(1), "99.97")],
        [E(txn(1), "100.00")],
        "0.03",
        [(Code.MATCHED_WITHIN_TOLERANCE, "txn:12345000000001", D("-0.03"), ["customs_duties"])],
    ),
    "same total split differently: mismatch naming the components": (
        [L("CAD", txn(1), "100.00", customs_duties="50.00", gst="50.00")],
        [E(txn(1), "100.00", customs_duties="40.00", gst="60.00")],
        "0.00",
        [(Code.AMOUNT_MISMATCH, "txn:12345000000001", D("0.00"), ["customs_duties", "gst"])],
    ),
    "interest and penalty flagged; payment, credit and misc listed": (
        [
            L("INTEREST", "", "8.44", interest="8.44"),
            L("PENALTY", "", "200.00", other="200.00"),
            L("PAYMENT", "", "-500.00"),
            L("CREDIT", "", "-25.00"),
            L("MISC", "", "12.00"),
        ],
        [],
        "0.00",
        [
            (Code.POSTED_BY_CBSA, "line:3", D("8.44"), []),
            (Code.POSTED_BY_CBSA, "line:4", D("200.00"), []),
            (Code.POSTED_BY_CBSA, "line:5", D("-500.00"), []),
            (Code.POSTED_BY_CBSA, "line:6", D("-25.00"), []),
            (Code.POSTED_BY_CBSA, "line:7", D("12.00"), []),
        ],
    ),
    "empty statement: no items": ([], [], "0.00", []),
    "statement with no entries: every CAD unexpected": (
        [L("CAD", txn(1), "1.00"), L("CAD", txn(2), "2.00")],
        [],
        "0.00",
        [
            (Code.UNEXPECTED_ON_STATEMENT, "txn:12345000000001", D("1.00"), []),
            (Code.UNEXPECTED_ON_STATEMENT, "txn:12345000000002", D("2.00"), []),
        ],
    ),
    "entries outside the period are not missing; on its first and last day they are": (
        [],
        [
            E(txn(1), "1.00", on=dt.date(2026, 9, 17)),
            E(txn(2), "2.00", on=dt.date(2026, 9, 18)),
            E(txn(3), "3.00", on=dt.date(2026, 10, 17)),
            E(txn(4), "4.00", on=dt.date(2026, 10, 18)),
        ],
        "0.00",
        [
            (Code.MISSING_ON_STATEMENT, "entry:12345000000002", D("-2.00"), []),
            (Code.MISSING_ON_STATEMENT, "entry:12345000000003", D("-3.00"), []),
        ],
    ),
    "missing only if the newest version is in the period": (
        [],
        [E(txn(1), "1.00"), E(txn(1), "1.50", version=2, on=dt.date(2026, 10, 20))],
        "0.00",
        [],
    ),
    "everything at once, by status, then by row": (
        [
            L("PAYMENT", "", "-100.00"),
            L("CAD", txn(3), "30.00"),
            L("CAD", txn(9, THEIRS), "9.00"),
            L("CAD", txn(1), "10.01"),
            L("INTEREST", "", "1.00", interest="1.00"),
        ],
        [E(txn(1), "10.00"), E(txn(3), "30.00", on=dt.date(2026, 8, 1)), E(txn(2), "20.00")],
        "0.00",
        [
            (Code.MATCHED, "txn:12345000000003", D("0.00"), []),
            (Code.AMOUNT_MISMATCH, "txn:12345000000001", D("0.01"), ["customs_duties"]),
            (Code.MISSING_ON_STATEMENT, "entry:12345000000002", D("-20.00"), []),
            (Code.OTHER_BROKER, "txn:54321000000009", D("9.00"), []),
            (Code.POSTED_BY_CBSA, "line:3", D("-100.00"), []),
            (Code.POSTED_BY_CBSA, "line:7", D("1.00"), []),
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_case_table(case, settings):
    settings.BROKER_ASECS = [OURS]
    lines, entries, tolerance, expected = CASES[case]
    statement = build(lines, entries)

    run = reconcile_statement(statement=statement, tolerance=D(tolerance))

    assert found(run) == expected
    assert run.item_count == len(expected)
    assert list(run.items.values_list("position", flat=True)) == list(range(1, len(expected) + 1))


def test_mismatch_components_carry_both_sides_and_the_difference(settings):
    statement = build(
        [L("CAD", txn(1), "100.00", customs_duties="50.00", gst="50.00")],
        [E(txn(1), "100.00", customs_duties="40.00", gst="60.00")],
    )
    item = reconcile_statement(statement=statement).items.get()
    assert item.components_differing == {
        "customs_duties": {"statement": "50.00", "entry": "40.00", "difference": "10.00"},
        "gst": {"statement": "50.00", "entry": "60.00", "difference": "-10.00"},
    }
    assert (item.statement_amount, item.entry_amount, item.entry_version) == (
        D("100.00"),
        D("100.00"),
        1,
    )


def test_items_link_to_their_line_and_entry_and_importer(settings):
    statement = build([L("CAD", txn(1), "10.00")], [E(txn(1), "10.00"), E(txn(2), "2.00")])
    run = reconcile_statement(statement=statement)
    matched, missing = run.items.order_by("position")
    line = statement.lines.get(transaction_number=txn(1))
    assert (matched.statement_line_id, matched.entry.transaction_number) == (line.pk, txn(1))
    assert (missing.statement_line_id, missing.entry.transaction_number) == (None, txn(2))
    assert missing.line_type == "CAD"
    assert {matched.importer_id, missing.importer_id} == {statement.program_account.importer_id}
    assert {matched.statement_id, missing.statement_id} == {statement.pk}


def test_an_entry_of_another_account_never_matches(settings):
    statement = build([L("CAD", txn(1), "10.00")], [])
    BrokerEntryFactory(transaction_number=txn(1), amount=D("10.00"), customs_duties=D("10.00"))
    assert found(reconcile_statement(statement=statement)) == [
        (Code.UNEXPECTED_ON_STATEMENT, "txn:12345000000001", D("10.00"), [])
    ]


def test_asecs_come_from_the_setting(settings):
    settings.BROKER_ASECS = [OURS, THEIRS]
    statement = build([L("CAD", txn(7, THEIRS), "1.00"), L("CAD", txn(8, "99999"), "1.00")], [])
    assert [i[:2] for i in found(reconcile_statement(statement=statement))] == [
        (Code.OTHER_BROKER, "txn:99999000000008"),
        (Code.UNEXPECTED_ON_STATEMENT, "txn:54321000000007"),
    ]


def test_exceptions_and_flags():
    statement = build(
        [
            L("CAD", txn(1), "1.00"),
            L("CAD", txn(2), "2.00"),
            L("INTEREST", "", "1.00"),
            L("PENALTY", "", "1.00"),
            L("PAYMENT", "", "-1.00"),
            L("CREDIT", "", "-1.00"),
            L("MISC", "", "1.00"),
        ],
        [E(txn(1), "1.00")],
    )
    run = reconcile_statement(statement=statement)
    flags = [(i.line_type, i.is_exception, i.flagged) for i in run.items.order_by("position")]
    assert flags == [
        ("CAD", False, False),
        ("CAD", True, False),
        ("INTEREST", True, True),
        ("PENALTY", True, True),
        ("PAYMENT", False, False),
        ("CREDIT", False, False),
        ("MISC", False, False),
    ]
    assert run.exception_count == 3
    assert run.summary[Code.POSTED_BY_CBSA] == {
        "count": 5,
        "amount": "1.00",
        "statement_amount": "1.00",
        "entry_amount": "0.00",
        "difference": "1.00",
        "exceptions": 2,
        "open": 2,
        "flagged": 2,
    }


# --- Balance check and the statement's status ---------------------------------------------------


def test_balance_checks_out():
    statement = build([L("CAD", txn(1), "10.00"), L("PAYMENT", "", "-5.00")], [], opening="100.00")
    run = reconcile_statement(statement=statement)
    assert (run.line_total, run.computed_closing, run.balance_difference, run.balance_ok) == (
        D("5.00"),
        D("105.00"),
        D("0.00"),
        True,
    )


def test_balance_that_does_not_add_up():
    statement = build([L("CAD", txn(1), "10.00")], [], opening="100.00", closing="111.00")
    run = reconcile_statement(statement=statement)
    assert (run.computed_closing, run.balance_difference, run.balance_ok) == (
        D("110.00"),
        D("1.00"),
        False,
    )


def test_balance_fails_when_the_opening_line_disagrees_with_the_opening_balance():
    statement = build([], [], opening="100.00")
    statement.lines.filter(line_type="OPENING_BALANCE").update(amount=D("90.00"))
    assert reconcile_statement(statement=statement).balance_ok is False


def test_statement_reconciled_only_without_open_exceptions_and_with_the_balance():
    clean = build([L("CAD", txn(1), "10.00"), L("PAYMENT", "", "-10.00")], [E(txn(1), "10.00")])
    reconcile_statement(statement=clean)
    clean.refresh_from_db()
    assert clean.status == Statement.Status.RECONCILED
    assert clean.history.first().history_change_reason == "Reconciliation"

    messy = build([L("CAD", txn(1), "10.00")], [])
    reconcile_statement(statement=messy)
    messy.refresh_from_db()
    assert messy.status == Statement.Status.OPEN

    off = build([L("CAD", txn(1), "10.00")], [E(txn(1), "10.00")], closing="9.00")
    reconcile_statement(statement=off)
    off.refresh_from_db()
    assert off.status == Statement.Status.OPEN


def test_a_reconciled_statement_goes_back_to_open_and_paid_stays_paid():
    statement = build([L("CAD", txn(1), "10.00")], [E(txn(1), "10.00")])
    reconcile_statement(statement=statement)
    BrokerEntryFactory(
        program_account=statement.program_account,
        transaction_number=txn(1),
        version=2,
        amount=D("11.00"),
        customs_duties=D("11.00"),
    )
    reconcile_statement(statement=statement)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.OPEN

    Statement.objects.filter(pk=statement.pk).update(status=Statement.Status.PAID)
    reconcile_statement(statement=statement)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID


# --- Determinism, runs, tolerance ---------------------------------------------------------------

COMPARED = [
    "position",
    "status",
    "is_exception",
    "flagged",
    "key",
    "transaction_number",
    "line_type",
    "statement_line_id",
    "entry_id",
    "entry_version",
    "statement_amount",
    "entry_amount",
    "difference",
    "components_differing",
]


def test_two_runs_produce_identical_items():
    lines, entries, _tolerance, _expected = CASES["everything at once, by status, then by row"]
    statement = build(
        [*lines, L("CAD", txn(4), "4.00"), L("CAD", txn(4), "4.00")], [*entries, E(txn(5), "5")]
    )
    first = reconcile_statement(statement=statement)
    second = reconcile_statement(statement=statement)
    assert list(first.items.values(*COMPARED)) == list(second.items.values(*COMPARED))
    assert first.summary == second.summary
    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    assert current_run(statement) == second


def test_the_run_records_who_what_and_when(personas):
    statement = build([], [])
    run = reconcile_statement(
        statement=statement, run_by=personas.broker_finance, tolerance=D("0.10"), trigger="page"
    )
    assert (run.run_by, run.trigger, run.tolerance) == (personas.broker_finance, "page", D("0.10"))
    assert run.started_at <= run.finished_at
    assert (run.percent, run.phase, run.error) == (100, "", "")


def test_default_tolerance_from_settings(settings):
    settings.RECONCILIATION_TOLERANCE = D("0.02")
    statement = build([L("CAD", txn(1), "10.02")], [E(txn(1), "10.00")])
    run = reconcile_statement(statement=statement)
    assert run.tolerance == D("0.02")
    assert run.items.get().status == Code.MATCHED_WITHIN_TOLERANCE


@pytest.mark.parametrize("bad", ["-0.01", "abc", "0.001", "NaN", "Infinity"])
def test_bad_tolerances_are_refused(bad):
    with pytest.raises(ValueError):
        clean_tolerance(bad)


def _statement_of(n: int) -> Statement:
    """n CAD lines (a tenth mismatched, a tenth with no entry), interest, entries missing."""
    lines = [L("CAD", txn(i), "1.01" if i % 10 == 1 else "1.00") for i in range(n)]
    lines += [L("INTEREST", "", "1.00"), L("CAD", txn(1, THEIRS), "3.00")]
    entries = [E(txn(i), "1.00") for i in range(n) if i % 10 != 2]
    entries += [E(txn(i), "1.00") for i in range(10_000, 10_000 + n // 10)]
    return build(lines, entries)


def test_query_count_does_not_grow_with_lines(django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, big = _statement_of(10), _statement_of(200)
    with CaptureQueriesContext(connection) as queries:
        reconcile_statement(statement=small)
    with django_assert_num_queries(len(queries)):
        run = reconcile_statement(statement=big)
    assert run.item_count == 200 + 2 + 20
    # The run's 20, then the statement's stamps (reconciled_at, reconciled_from) and its pending
    # flag: two UPDATEs, whatever the number of statements.
    assert len(queries) <= 22


def test_the_summary_equals_a_recount_of_the_items():
    """PostgreSQL sums the items as it writes them; the recount reads them back."""
    from statements.reconciliation.outcome import summaries

    lines, entries, _tolerance, _expected = CASES["everything at once, by status, then by row"]
    run = reconcile_statement(statement=build(lines, entries))
    assert run.summary == summaries([run.pk])[run.pk]
    assert sum(v["count"] for v in run.summary.values()) == run.item_count == 6


def test_a_statement_paid_meanwhile_stays_paid():
    """The status change re-checks "not paid" in its UPDATE: a payment refresh may have marked the
    statement paid after the engine read which statements to change."""
    from django.utils import timezone

    from tests.factories import StatementFactory

    paid = StatementFactory(status=Statement.Status.PAID)
    open_ = StatementFactory(status=Statement.Status.OPEN)

    changed = status.apply_statement_status(
        {Statement.Status.RECONCILED: [paid.pk, open_.pk]}, now=timezone.now()
    )

    assert changed == 1
    paid.refresh_from_db()
    open_.refresh_from_db()
    assert (paid.status, open_.status) == ("paid", "reconciled")
    assert open_.history.filter(history_change_reason="Reconciliation").exists()
    assert not paid.history.filter(history_change_reason="Reconciliation").exists()
