"""Benchmark: the daily delegation sweep over 100,000 delegations of 10,000 importers.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_delegations.py``) against PostgreSQL:
``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/carm_bench``; the database is
created if missing and its tables rebuilt). Prints one table: the first sweep (every alert new)
and an immediate second sweep (which must raise 0 alerts), with time and SQL query counts, at
full size and at a tenth of it, so a query count that grows with the rows shows at a glance.

Target (issue 3): first run <= 5 s on the 2-core machine, query count independent of row count.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carm_bench"
)

from bench.common import fresh_database, print_table  # noqa: E402

TODAY = dt.date(2026, 11, 23)


def populate(importers: int, per_importer: int, seed: int = 7) -> None:
    from stdnum import luhn

    from clients.models import Importer, ProgramAccount
    from delegation.models import Delegation

    rng = random.Random(seed)
    rows = []
    for n in range(importers):
        body = f"{10_000_000 + n:08d}"
        rows.append(
            Importer(
                legal_name=f"Bench Importer {n:05d} Ltd.",
                bn9=body + luhn.calc_check_digit(body),
                status=rng.choice(["active", "active", "active", "onboarding"]),
                address_line1="1 Bench Street",
                city="Toronto",
                province="ON",
                postal_code="M5H 1A1",
            )
        )
    Importer.objects.bulk_create(rows, batch_size=5000)
    importer_rows = list(Importer.objects.values_list("id", "bn9"))
    ProgramAccount.objects.bulk_create(
        [
            ProgramAccount(importer_id=pk, bn15=f"{bn9}RM{k:04d}")
            for pk, bn9 in importer_rows
            for k in range(1, rng.choice([1, 1, 2, 3]) + 1)
        ],
        batch_size=5000,
    )
    statuses = ["active"] * 5 + ["expired", "revoked", "rejected", "pending", "requested"]
    delegations = []
    for pk, _ in importer_rows:
        for _ in range(per_importer):
            status = rng.choice(statuses)
            expiry = (
                None if rng.random() < 0.05 else TODAY + dt.timedelta(days=rng.randint(-400, 800))
            )
            delegations.append(
                Delegation(
                    importer_id=pk,
                    relationship=rng.choice(["BMR", "BMR", "BMR", "PMR"]),
                    authority=rng.choice(["pBAM", "pBAM", "pBAM", "pPAM"]),
                    status=status,
                    requested_on=TODAY - dt.timedelta(days=rng.randint(0, 900)),
                    expiry_date=expiry,
                )
            )
    Delegation.objects.bulk_create(delegations, batch_size=5000)
    # Real importers carry their onboarding checklist; derive it now, outside the measurement.
    from clients.onboarding import refresh_checklists

    refresh_checklists()


def sweep() -> tuple[float, int, object]:
    from django.db import connection

    from delegation.checks import run_delegation_checks

    count = 0

    def counting(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        started = time.perf_counter()
        result = run_delegation_checks(today=TODAY)
        elapsed = time.perf_counter() - started
    return elapsed, count, result


def main() -> None:
    rows = []
    for importers, per in ((1_000, 10), (10_000, 10)):
        fresh_database()
        populate(importers, per)
        for label in ("first", "second"):
            seconds, queries, result = sweep()
            rows.append(
                [
                    f"{importers * per:,}",
                    f"{importers:,}",
                    label,
                    f"{seconds:.2f}",
                    str(queries),
                    f"{result.raised:,}",
                    f"{result.resolved:,}",
                    f"{result.marked_expired:,}",
                ]
            )
    print_table(
        "Delegation sweep (PostgreSQL)",
        [
            "delegations",
            "importers",
            "run",
            "seconds",
            "SQL queries",
            "raised",
            "resolved",
            "expired",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
