"""A reconciled statement built with factories (no engine needed): one item of every status, the
way docs/formats.md's sample reconciles, for the pages, reports and workflow tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from carm_portal.bulk import snapshot_history
from statements.models import BrokerEntry, ReconciliationItem, ReconciliationRun, Statement
from tests.factories import (
    BrokerEntryFactory,
    ReconciliationItemFactory,
    ReconciliationRunFactory,
    StatementFactory,
    StatementLineFactory,
)

D = Decimal

# status, transaction number, line type, statement amount, entry amount, components differing
SAMPLE = [
    ("matched", "12345000000017", "CAD", D("1431.03"), D("1431.03"), {}),
    ("matched", "12345000000025", "CAD", D("265.00"), D("265.00"), {}),
    ("posted_by_cbsa", "", "PAYMENT", D("-1250.00"), None, {}),
    (
        "amount_mismatch",
        "12345000000033",
        "CAD",
        D("400.61"),
        D("400.34"),
        {"gst": {"statement": "312.41", "entry": "312.14", "difference": "0.27"}},
    ),
    ("duplicate", "12345000000041", "CAD", D("57.30"), None, {}),
    ("duplicate", "12345000000041", "CAD", D("57.30"), None, {}),
    ("other_broker", "54321000000012", "CAD", D("98.75"), None, {}),
    ("other_broker", "54321000000020", "ADJUSTMENT", D("-12.40"), None, {}),
    ("unexpected_on_statement", "12345000000058", "CAD", D("94.00"), None, {}),
    ("posted_by_cbsa", "", "INTEREST", D("8.44"), None, {}),
    ("missing_on_statement", "12345000000074", "CAD", None, D("186.00"), {}),
]


def _key(status: str, txn: str, position: int) -> str:
    """The keys of statements/reconciliation/rules.py."""
    if status == "missing_on_statement":
        return f"entry:{txn}"
    if status == "duplicate":
        return f"txn:{txn}#{position - 4}"
    return f"txn:{txn}" if txn else f"line:{position + 2}"


def reconciled_statement(
    account,
    *,
    extra_items: int = 0,
    statement: Statement | None = None,
    statement_date: dt.date = dt.date(2025, 6, 25),
    **run_fields,
) -> ReconciliationRun:
    """A statement of ``account`` (issued 2025-06-25) and a current run with the SAMPLE items,
    plus ``extra_items`` more amount mismatches (for multi-page reports and query counts).

    Given an existing ``statement`` (a second run of it), the items point at no line or entry."""
    sources = statement is None
    statement = statement or StatementFactory(
        program_account=account,
        statement_date=statement_date,
        opening_balance=D("1250.00"),
        closing_balance=D("2400.03"),
        line_count=11,
    )
    fields = {
        "statement": statement,
        "line_total": D("1150.03"),
        "computed_closing": D("2400.03"),
        "balance_difference": D("0.00"),
        "balance_ok": True,
        **run_fields,
    }
    run = ReconciliationRunFactory(**fields)
    items = []
    position = 0
    for status, txn, line_type, stmt, entry, comps in SAMPLE:
        position += 1
        line = None
        if stmt is not None and sources:
            line = StatementLineFactory(
                statement=statement,
                position=position + 2,
                line_type=line_type,
                transaction_number=txn,
                amount=stmt,
            )
        entry_row = None
        if entry is not None and sources:
            entry_row = BrokerEntry.objects.filter(
                program_account=statement.program_account, transaction_number=txn, version=1
            ).first() or BrokerEntryFactory(
                program_account=statement.program_account,
                transaction_number=txn or f"9{position:013d}",
                amount=entry,
                accounted_on=dt.date(2025, 6, 2),
            )
        items.append(
            ReconciliationItemFactory.build(
                run=run,
                position=position,
                status=status,
                flagged=line_type == "INTEREST",
                key=_key(status, txn, position),
                transaction_number=txn,
                line_type=line_type,
                statement_line=line,
                entry=entry_row,
                entry_version=1 if entry is not None else None,
                statement_amount=stmt,
                entry_amount=entry,
                components_differing=comps,
            )
        )
    for n in range(extra_items):
        position += 1
        items.append(
            ReconciliationItemFactory.build(
                run=run,
                position=position,
                transaction_number=f"12345{900000000 + n:09d}",
                key=f"txn:12345{900000000 + n:09d}",
                statement_amount=D("100.00") + n,
                entry_amount=D("99.50") + n,
                components_differing={
                    "customs_duties": {"statement": "1.00", "entry": "0.50", "difference": "0.50"}
                },
            )
        )
    ReconciliationItem.objects.bulk_create(items)
    snapshot_history(
        ReconciliationItem.objects.filter(run=run), history_type="+", when=run.finished_at
    )
    counts = {}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    run.item_count = len(items)
    run.exception_count = sum(1 for i in items if i.is_exception)
    run.summary = {code: {"count": n} for code, n in counts.items()}
    run.save()
    return run
