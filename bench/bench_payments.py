"""Benchmark: the daily payment and security checks over a portfolio's statements.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_payments.py``) against PostgreSQL:
``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/carm_bench``; the database is
created if missing and its tables rebuilt). Each program account gets three months of statements
of 20 charge lines, each statement but the first carrying the payment line of the one before, and
a surety bond. Prints, at a tenth of the size and at full size: the first payment check (every
payment line found and applied, every balance computed, every alert new), an immediate second one
(which must find and raise nothing), and the security check; with time and SQL query counts, so a
query count that grows with the rows shows at a glance.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carm_bench"
)

from bench.common import create_accounts, fresh_database, print_table  # noqa: E402

TODAY = dt.date(2026, 11, 23)
ISSUED = [dt.date(2026, 8, 25), dt.date(2026, 9, 25), dt.date(2026, 10, 25)]
LINES = 20


def populate(accounts: int, seed: int = 11) -> None:
    from django.utils import timezone

    from carm_portal.bulk import copy_rows
    from payments.models import FinancialSecurity
    from statements.billing import statement_period
    from statements.models import COMPONENTS, ImportBatch, Statement, StatementLine

    rng = random.Random(seed)
    account_ids = create_accounts(accounts, series=2, name="Bench Payer")
    batch = ImportBatch.objects.create(
        kind="statement", file_name="bench.csv", sha256="0" * 64, status="accepted"
    )
    now = timezone.now()
    statements = []
    charges: dict[tuple[int, dt.date], Decimal] = {}
    for account_id in account_ids:
        for day in ISSUED:
            period = statement_period(day)
            statements.append(
                Statement(
                    program_account_id=account_id,
                    statement_date=day,
                    period_start=period.start,
                    period_end=period.end,
                    due_date=period.due_date,
                    source_batch=batch,
                    line_count=LINES + 1,
                )
            )
    Statement.objects.bulk_create(statements, batch_size=5000)
    ids = {
        (a, d): pk
        for pk, a, d in Statement.objects.values_list("id", "program_account_id", "statement_date")
    }
    columns = ["statement_id", "position", "line_type", "transaction_number", "posted_on", "reference",
               *COMPONENTS, "amount"]  # fmt: skip

    def lines():
        for account_id in account_ids:
            previous = None
            for day in ISSUED:
                statement_id = ids[(account_id, day)]
                position = 2
                if (
                    previous is not None
                ):  # the payment of the month before, posted before its due date
                    yield (statement_id, position, "PAYMENT", "", day - dt.timedelta(days=20), "PAY",
                           *[0] * len(COMPONENTS), -previous)  # fmt: skip
                    position += 1
                total = Decimal(0)
                for _ in range(LINES):
                    gst = Decimal(rng.randint(1000, 90000)) / 100
                    total += gst
                    yield (statement_id, position, "CAD", f"12345{rng.randint(0, 10**9):09d}",
                           day - dt.timedelta(days=10), "", *[0, 0, 0, gst, 0, 0, 0, 0, 0, 0, 0], gst)  # fmt: skip
                    position += 1
                charges[(account_id, day)] = total
                previous = total

    copy_rows(StatementLine, columns, lines())
    copy_rows(
        FinancialSecurity,
        [
            "program_account_id",
            "kind",
            "surety_company",
            "bond_number",
            "amount",
            "effective_date",
            "expiry_date",
            "status",
            "notes",
            "created_at",
            "updated_at",
        ],
        (
            (
                a,
                "surety_bond",
                "Bench Surety",
                f"BB-{a}",
                Decimal("5000.00"),
                dt.date(2026, 1, 1),
                TODAY + dt.timedelta(days=rng.randint(-30, 700)),
                "active",
                "",
                now,
                now,
            )
            for a in account_ids
        ),
    )


def measure(job) -> tuple[float, int, object]:
    from django.db import connection

    count = 0

    def counting(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        started = time.perf_counter()
        result = job()
        elapsed = time.perf_counter() - started
    return elapsed, count, result


def main() -> None:
    scale = int(os.environ.get("BENCH_PAYMENT_ACCOUNTS", "10000"))
    rows = []
    for accounts in (scale // 10, scale):
        fresh_database()
        populate(accounts)
        from payments.checks import run_payment_checks, run_security_checks

        for label, job in (
            ("payments, first", lambda: run_payment_checks(today=TODAY)),
            ("payments, second", lambda: run_payment_checks(today=TODAY)),
            ("security", lambda: run_security_checks(today=TODAY)),
        ):
            seconds, queries, result = measure(job)
            rows.append(
                [
                    f"{accounts:,}",
                    f"{accounts * len(ISSUED) * (LINES + 1):,}",
                    label,
                    f"{seconds:.2f}",
                    str(queries),
                    f"{result.extra.get('payments found on statements', 0):,}",
                    f"{result.raised:,}",
                ]
            )
    print_table(
        "Payment and security checks (PostgreSQL)",
        ["accounts", "lines", "run", "seconds", "SQL queries", "payments found", "alerts raised"],
        rows,
    )


if __name__ == "__main__":
    main()
