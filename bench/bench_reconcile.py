"""Benchmark: reconciling 1,000,000 statement lines against 1,000,000 broker entries.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_reconcile.py``) against PostgreSQL:
``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/carm_bench``; the database is
dropped, recreated and migrated).

The data: 10,000 program accounts with one statement each (issued 2026-10-25) of 100 lines, and
100 entry versions each: realistic statements, so the engine's per-statement overhead counts
(a single 1,000,000-line statement would hide it). Per statement, about 2 % of each kind of
difference: 2 lines posted by CBSA (a payment, interest) besides the opening balance, 2 other
brokers' CADs, 2 CADs of ours with no entry, one CAD charged twice, 2 amounts differing (GST off
by 0.27), 2 entries missing from the statement; the rest match, 1 in 20 against an amended
(version 2) entry. Statements and entries are loaded with ``COPY`` (no file import: that is
``bench_import.py``'s job), then vacuumed and analysed, as autovacuum would have done.

Measured, each in a fresh child process (its own peak resident memory, ``VmHWM``):

* **engine, full run**: ``reconciliation.runs.reconcile_statements`` over every statement: runs created,
  items written (1,020,000 rows), summaries, balance checks, statuses; results persisted;
* **engine, rerun**: the same again, carrying resolutions over from the first run's items;
* **engine, one statement**: ``reconcile_statement`` on single statements (mean of 20): the
  latency behind the statement page's button;
* **pandas baseline**: the two tables read from PostgreSQL (``COPY … TO STDOUT`` into
  ``pandas.read_csv``, the fastest way in), the highest version of each entry kept, lines merged
  with entries, statuses computed in memory; nothing written back.

Target (issue 5): the full run within 3x the pandas baseline, memory bounded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import resource
import subprocess
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

ACCOUNTS = int(os.environ.get("BENCH_RECONCILE_ACCOUNTS", "10000"))
LINES = 100  # per statement, the opening balance included
ISSUED = dt.date(2026, 10, 25)  # billing period 2026-09-18 - 2026-10-17
OURS, THEIRS = "12345", "54321"


# --- Data ------------------------------------------------------------------------------------------


def populate(seed: int = 5) -> None:
    from bench.common import create_accounts
    from carm_portal.bulk import copy_rows
    from statements.billing import statement_period
    from statements.models import COMPONENTS, BrokerEntry, ImportBatch, Statement, StatementLine

    rng = random.Random(seed)
    account_ids = create_accounts(ACCOUNTS, series=3, name="Bench Reconciled")
    soa_batch = ImportBatch.objects.create(
        kind="statement", file_name="bench-soa.csv", sha256="1" * 64, status="accepted"
    )
    entry_batch = ImportBatch.objects.create(
        kind="entries", file_name="bench-entries.csv", sha256="2" * 64, status="accepted"
    )
    period = statement_period(ISSUED)
    plans = {account_id: _plan(a, rng) for a, account_id in enumerate(account_ids)}
    Statement.objects.bulk_create(
        [
            Statement(
                program_account_id=account_id,
                statement_date=ISSUED,
                period_start=period.start,
                period_end=period.end,
                due_date=period.due_date,
                opening_balance=plan["opening"],
                closing_balance=plan["opening"] + sum(line[2] for line in plan["lines"]),
                line_count=LINES,
                source_batch=soa_batch,
            )
            for account_id, plan in plans.items()
        ],
        batch_size=5000,
    )
    statement_ids = dict(Statement.objects.values_list("program_account_id", "id"))
    zeros = [Decimal(0)] * len(COMPONENTS)
    gst = COMPONENTS.index("gst")
    duties = COMPONENTS.index("customs_duties")
    interest = COMPONENTS.index("interest")

    def parts(customs: Decimal, tax: Decimal) -> list[Decimal]:
        values = list(zeros)
        values[duties], values[gst] = customs, tax
        return values

    def lines():
        for account_id, plan in plans.items():
            sid = statement_ids[account_id]
            yield (sid, 2, "OPENING_BALANCE", "", period.start, "", *zeros, plan["opening"])
            for position, (kind, number, amount, customs, tax) in enumerate(plan["lines"], 3):
                comps = list(zeros)
                if kind == "INTEREST":
                    comps[interest] = amount
                elif kind in ("CAD", "ADJUSTMENT"):
                    comps = parts(customs, tax)
                yield (sid, position, kind, number, period.start + dt.timedelta(days=3), "",
                       *comps, amount)  # fmt: skip

    def entries():
        for account_id, plan in plans.items():
            for position, (number, version, customs, tax, on) in enumerate(plan["entries"], 2):
                yield (account_id, number, version, on - dt.timedelta(days=2), on, "",
                       entry_batch.pk, position, *parts(customs, tax), customs + tax)  # fmt: skip

    line_columns = ["statement_id", "position", "line_type", "transaction_number", "posted_on",
                    "reference", *COMPONENTS, "amount"]  # fmt: skip
    entry_columns = ["program_account_id", "transaction_number", "version", "release_date",
                     "accounted_on", "client_reference", "source_batch_id", "position",
                     *COMPONENTS, "amount"]  # fmt: skip
    copy_rows(StatementLine, line_columns, lines())
    copy_rows(BrokerEntry, entry_columns, entries())


def _plan(a: int, rng: random.Random) -> dict:
    """One account's statement lines (after the opening balance) and entries."""

    def money() -> tuple[Decimal, Decimal]:
        return Decimal(rng.randint(0, 200_000)) / 100, Decimal(rng.randint(100, 150_000)) / 100

    def txn(asec: str, n: int) -> str:
        return f"{asec}{a:05d}{n:04d}"

    day = dt.date(2026, 9, 20)
    lines: list[tuple] = [("PAYMENT", "", Decimal("-1000.00"), 0, 0)]
    lines.append(("INTEREST", "", Decimal(rng.randint(1, 5000)) / 100, 0, 0))
    entries: list[tuple] = []
    cads = LINES - 1 - len(lines)  # 97 CAD lines
    for n in range(cads):
        customs, tax = money()
        if n < 2:  # another broker's
            lines.append(("CAD", txn(THEIRS, n), customs + tax, customs, tax))
        elif n < 4:  # ours, with no entry
            lines.append(("CAD", txn(OURS, n), customs + tax, customs, tax))
        elif n == 4:  # charged twice
            lines += [("CAD", txn(OURS, n), customs + tax, customs, tax)] * 2
            entries.append((txn(OURS, n), 1, customs, tax, day))
        elif n == 5:
            continue  # its line went to the duplicate above
        elif n < 8:  # GST differs
            lines.append(("CAD", txn(OURS, n), customs + tax + Decimal("0.27"), customs,
                          tax + Decimal("0.27")))  # fmt: skip
            entries.append((txn(OURS, n), 1, customs, tax, day))
        else:
            kind = "ADJUSTMENT" if n % 40 == 39 else "CAD"
            lines.append((kind, txn(OURS, n), customs + tax, customs, tax))
            if n % 20 == 0:  # amended: the line charges version 2
                entries.append((txn(OURS, n), 1, customs, tax - 1, day))
                entries.append((txn(OURS, n), 2, customs, tax, day + dt.timedelta(days=3)))
            else:
                entries.append((txn(OURS, n), 1, customs, tax, day))
    for n in range(2):  # declared, not yet charged
        customs, tax = money()
        entries.append((txn(OURS, 9000 + n), 1, customs, tax, dt.date(2026, 10, 10)))
    extra = 0
    while len(entries) < LINES:  # older entries of the account, reconciled months ago
        customs, tax = money()
        entries.append((txn(OURS, 8000 + extra), 1, customs, tax, dt.date(2026, 7, 2)))
        extra += 1
    assert len(entries) == LINES, len(entries)
    return {"opening": Decimal("1000.00"), "lines": lines, "entries": entries}


# --- Measurements (each in a child process) ---------------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` rather than ``ru_maxrss``: the latter
    starts from the parent's size in a forked child (the parent holds the generated data)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_engine(mode: str) -> dict:
    import django

    django.setup()
    from django.db.models import Count

    from statements.models import ReconciliationItem, ReconciliationRun, Statement
    from statements.reconciliation.runs import reconcile_statement, reconcile_statements

    if mode == "one":
        ids = list(Statement.objects.order_by("pk").values_list("pk", flat=True)[:20])
        started = time.perf_counter()
        for pk in ids:
            reconcile_statement(statement=Statement.objects.get(pk=pk))
        return {"seconds": (time.perf_counter() - started) / len(ids), "peak_mb": peak_mb()}
    if mode == "rerun":  # people resolved some exceptions; the rerun must keep that work
        ReconciliationItem.objects.filter(run__is_current=True, status="amount_mismatch").update(
            resolution="explained", note="GST rounding at the border"
        )
    started = time.perf_counter()
    runs = reconcile_statements(Statement.objects.all())
    seconds = time.perf_counter() - started
    current = ReconciliationItem.objects.filter(run__is_current=True)
    counts = dict(current.values_list("status").annotate(n=Count("pk")).order_by())
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "runs": len(runs),
        "failed": sum(r.status != ReconciliationRun.Status.SUCCEEDED for r in runs),
        "items": sum(counts.values()),
        "counts": counts,
        "kept": current.filter(resolution="explained").count(),
    }


def child_pandas() -> dict:
    import numpy as np
    import pandas as pd
    import psycopg

    started = time.perf_counter()
    comps = [
        "customs_duties", "excise_duties", "excise_taxes", "gst", "anti_dumping", "countervailing",
        "surtaxes", "safeguards", "provincial_taxes", "interest", "other",
    ]  # fmt: skip
    money_cols = [*comps, "amount"]

    def read(conn, sql: str, dtypes: dict) -> pd.DataFrame:
        buffer = io.BytesIO()
        with conn.cursor().copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        buffer.seek(0)
        frame = pd.read_csv(buffer, dtype=dtypes, keep_default_na=False, na_values=[""])
        for column in money_cols:  # money in integer cents: exact, like the engine
            frame[column] = (frame[column] * 100).round().astype("int64")
        return frame

    text = {"transaction_number": "string", "line_type": "string"}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        lines = read(
            conn,
            "SELECT l.id, l.statement_id, l.position, l.line_type, l.transaction_number, "  # noqa: S608
            f"{', '.join('l.' + c for c in money_cols)}, s.program_account_id, s.period_start, "
            "s.period_end FROM statements_statementline l "
            "JOIN statements_statement s ON s.id = l.statement_id",
            text,
        )
        entries = read(
            conn,
            "SELECT id, program_account_id, transaction_number, version, accounted_on, "  # noqa: S608
            f"{', '.join(money_cols)} FROM statements_brokerentry",
            text,
        )
    read_seconds = time.perf_counter() - started
    latest = entries.sort_values("version").drop_duplicates(
        ["program_account_id", "transaction_number"], keep="last"
    )
    cads = lines[lines.line_type.isin(["CAD", "ADJUSTMENT"])].copy()
    cads["same"] = cads.groupby(["statement_id", "transaction_number"])["id"].transform("size")
    merged = cads.merge(
        latest,
        on=["program_account_id", "transaction_number"],
        how="left",
        suffixes=("", "_e"),
    )
    has_entry = merged["id_e"].notna()
    equal = np.ones(len(merged), dtype=bool)
    for column in money_cols:
        equal &= merged[column].to_numpy() == merged[f"{column}_e"].fillna(-1).to_numpy()
    ours = merged.transaction_number.str[:5] == OURS
    merged["status"] = np.select(
        [merged.same > 1, ~has_entry & ours, ~has_entry, equal],
        ["duplicate", "unexpected_on_statement", "other_broker", "matched"],
        "amount_mismatch",
    )
    posted = lines[~lines.line_type.isin(["CAD", "ADJUSTMENT", "OPENING_BALANCE"])]
    statements = lines.drop_duplicates("statement_id")[
        ["statement_id", "program_account_id", "period_start", "period_end"]
    ]
    candidates = latest.merge(statements, on="program_account_id")
    candidates = candidates[
        (candidates.accounted_on >= candidates.period_start)
        & (candidates.accounted_on <= candidates.period_end)
    ]
    on_statement = cads[["statement_id", "transaction_number"]].drop_duplicates()
    missing = candidates.merge(
        on_statement, on=["statement_id", "transaction_number"], how="left", indicator=True
    )
    missing = missing[missing["_merge"] == "left_only"]
    counts = merged.status.value_counts().to_dict()
    counts["posted_by_cbsa"] = len(posted)
    counts["missing_on_statement"] = len(missing)
    return {
        "seconds": time.perf_counter() - started,
        "read_seconds": read_seconds,
        "peak_mb": peak_mb(),
        "items": int(sum(counts.values())),
        "counts": {k: int(v) for k, v in counts.items()},
    }


def measure(mode: str) -> dict:
    child = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--child", mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"bench_reconcile {mode} failed:\n{child.stderr[-4000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    from bench.common import fresh_database, print_table

    fresh_database()
    started = time.perf_counter()
    populate()
    from django.db import connection, connections

    with connection.cursor() as cursor:  # as autovacuum would have, before either side reads
        cursor.execute("VACUUM (ANALYZE)")
    connections.close_all()
    print(
        f"Loaded {ACCOUNTS:,} statements of {LINES} lines and {ACCOUNTS * LINES:,} entries "
        f"in {time.perf_counter() - started:.1f} s."
    )
    baseline = measure("pandas")
    full = measure("full")
    rerun = measure("rerun")
    one = measure("one")
    if full["counts"] != {k: v for k, v in baseline["counts"].items() if v}:
        print(f"Counts differ!\n engine {full['counts']}\n pandas {baseline['counts']}")
    rows = [
        ["pandas baseline (read + merge, nothing written)", f"{baseline['items']:,}",
         f"{baseline['seconds']:.1f}", f"{baseline['peak_mb']:.0f}", "1.0x"],
        ["engine: full run, persisted", f"{full['items']:,}", f"{full['seconds']:.1f}",
         f"{full['peak_mb']:.0f}", f"{full['seconds'] / baseline['seconds']:.1f}x"],
        ["engine: rerun with carry-over", f"{rerun['items']:,}", f"{rerun['seconds']:.1f}",
         f"{rerun['peak_mb']:.0f}", f"{rerun['seconds'] / baseline['seconds']:.1f}x"],
        ["engine: one statement of 100 lines (mean of 20)", f"{LINES - 1}",
         f"{one['seconds']:.3f}", f"{one['peak_mb']:.0f}", ""],
    ]  # fmt: skip
    print_table(
        f"Reconciliation of {ACCOUNTS * LINES:,} statement lines against "
        f"{ACCOUNTS * LINES:,} entries ({ACCOUNTS:,} statements), PostgreSQL",
        ["run", "items", "seconds", "peak RSS MB", "vs pandas"],
        rows,
    )
    print(f"Items by status: {json.dumps(full['counts'], sort_keys=True)}")
    print(
        f"pandas spent {baseline['read_seconds']:.1f} s of its {baseline['seconds']:.1f} s "
        f"reading; the rerun kept {rerun['kept']:,} resolutions; failed runs: "
        f"{full['failed'] + rerun['failed']}."
    )
    print("Target: the full run within 3x the pandas baseline, memory bounded.")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        mode = sys.argv[2]
        result = child_pandas() if mode == "pandas" else child_engine(mode)
        print(json.dumps(result))
    else:
        main()
