"""The engine's results do not depend on how lines are spread over statements: a few thousand lines
in one statement find the same items (counts, differences, differing components) as the same
lines split over many statements, reconciled together in groups (issue 14: the engine's plan, and
its cost, must not depend on a statement's size)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal

import pytest

from statements.models import BrokerEntry, ReconciliationItem, Statement, StatementLine
from statements.reconciliation.runs import reconcile_statement, reconcile_statements
from tests.factories import ImportBatchFactory, ProgramAccountFactory, StatementFactory

pytestmark = pytest.mark.django_db

Code = ReconciliationItem.Code
D = Decimal
ISSUED = dt.date(2026, 10, 25)  # billing period 2026-09-18 - 2026-10-17
IN_PERIOD, EARLIER = dt.date(2026, 10, 1), dt.date(2026, 7, 2)
LINES = 3000
PER_STATEMENT = 100


def _case(n: int) -> tuple[list[dict], list[dict]]:
    """The lines (after the opening balance) and entries of the n-th transaction of the file:
    every status, amendments, duplicates, missing and older entries, in a fixed pattern."""
    number = f"{'54321' if n % 50 == 0 else '12345'}{n:09d}"
    duties, gst = D(100 + n % 97) + D("0.25"), D(10 + n % 13)
    line = {"line_type": "ADJUSTMENT" if n % 40 == 39 else "CAD", "transaction_number": number}
    entry = {"transaction_number": number, "version": 1, "accounted_on": IN_PERIOD}
    lines, entries = [], []
    if n % 25 == 24:  # posted by CBSA (interest is flagged)
        kind = "INTEREST" if n % 50 == 49 else "PAYMENT"
        amount = D("12.34") if kind == "INTEREST" else D("-500.00")
        interest = amount if kind == "INTEREST" else D(0)
        return [{"line_type": kind, "transaction_number": "", "amount": amount,
                 "interest": interest}], []  # fmt: skip
    line_gst = gst + (D("0.27") if n % 50 == 4 else D("0.03") if n % 50 == 5 else D(0))
    lines.append({**line, "customs_duties": duties, "gst": line_gst, "amount": duties + line_gst})
    if n % 100 == 2:  # charged twice
        lines.append(dict(lines[0]))
    if n % 50 not in (0, 1):  # another broker's, and ours with no entry, have none
        if n % 20 == 7:  # amended: version 1 differed, the line charges version 2
            entries.append({**entry, "customs_duties": duties, "gst": gst + 1,
                            "amount": duties + gst + 1})  # fmt: skip
            entries.append({**entry, "version": 2, "customs_duties": duties, "gst": gst,
                            "amount": duties + gst})  # fmt: skip
        else:
            entries.append({**entry, "customs_duties": duties, "gst": gst,
                            "amount": duties + gst})  # fmt: skip
    if n % 50 == 10:  # declared, not charged: missing on the statement
        entries.append({**entry, "transaction_number": f"12345{900_000_000 + n:09d}",
                        "customs_duties": duties, "gst": D(0), "amount": duties})  # fmt: skip
    if n % 50 == 20:  # accounted in an earlier period: not this statement's business
        entries.append({**entry, "transaction_number": f"12345{800_000_000 + n:09d}",
                        "accounted_on": EARLIER, "customs_duties": duties, "gst": D(0),
                        "amount": duties})  # fmt: skip
    return lines, entries


def _store(cases: list[tuple[list[dict], list[dict]]]) -> Statement:
    """One statement of one new account holding ``cases`` (in bulk: thousands of rows)."""
    account = ProgramAccountFactory()
    lines = [line for case_lines, _ in cases for line in case_lines]
    total = sum((line["amount"] for line in lines), D("0.00"))
    statement = StatementFactory(
        program_account=account,
        statement_date=ISSUED,
        closing_balance=total,
        line_count=len(lines) + 1,
    )
    opening = {"line_type": "OPENING_BALANCE", "transaction_number": "", "amount": D(0)}
    StatementLine.objects.bulk_create(
        StatementLine(statement=statement, position=position, posted_on=IN_PERIOD, **line)
        for position, line in enumerate([opening, *lines], start=2)
    )
    batch = ImportBatchFactory(kind="entries")
    BrokerEntry.objects.bulk_create(
        BrokerEntry(
            program_account=account,
            release_date=IN_PERIOD,
            source_batch=batch,
            position=position,
            **entry,
        )
        for position, entry in enumerate(
            (entry for _, case_entries in cases for entry in case_entries), start=2
        )
    )
    return statement


def _findings(statement_ids: list[int]) -> Counter:
    """The items of the statements' current runs, without what names a row or a statement."""
    items = ReconciliationItem.objects.filter(run__is_current=True, statement_id__in=statement_ids)
    return Counter(
        (
            item.status,
            item.transaction_number,
            item.difference,
            json.dumps(item.components_differing, sort_keys=True),
        )
        for item in items
    )


def test_one_big_statement_finds_what_the_same_lines_find_split_over_many(settings):
    settings.BROKER_ASECS = ["12345"]
    settings.RECONCILIATION_TOLERANCE = D("0.05")
    cases = [_case(n) for n in range(LINES)]
    big = _store(cases)
    small = [
        _store(cases[start : start + PER_STATEMENT]) for start in range(0, LINES, PER_STATEMENT)
    ]

    one = reconcile_statement(statement=big)
    many = reconcile_statements(
        Statement.objects.filter(pk__in=[s.pk for s in small]), chunk_size=7
    )

    assert [run.status for run in many] == ["succeeded"] * len(small)
    alone, split = _findings([big.pk]), _findings([s.pk for s in small])
    assert split == alone
    by_status = Counter(status for status, *_ in alone.elements())
    assert by_status == {
        Code.MATCHED: 2610,
        Code.MATCHED_WITHIN_TOLERANCE: 60,
        Code.AMOUNT_MISMATCH: 60,
        Code.DUPLICATE: 60,
        Code.OTHER_BROKER: 60,
        Code.UNEXPECTED_ON_STATEMENT: 60,
        Code.MISSING_ON_STATEMENT: 60,
        Code.POSTED_BY_CBSA: 120,
    }
    assert one.item_count == sum(run.item_count for run in many) == sum(by_status.values())
    assert one.exception_count == sum(run.exception_count for run in many)
    for code, values in one.summary.items():
        assert D(values["difference"]) == sum(
            (D(run.summary[code]["difference"]) for run in many if code in run.summary), D(0)
        )
