"""Benchmark: from files to stored reconciliation results, at the shapes real statements have.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_reconcile_shapes.py [--scale F]
[--shapes a,b]``) against PostgreSQL: ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/carm_bench``). Each shape gets a fresh database copied from a
migrated template (``<name>_tpl``), so every measurement starts on freshly loaded tables that
nobody has analysed: what a reconciliation right after an import meets.

For each shape, a statement file and an entries file in the ``docs/formats.md`` layouts (one RM
account per statement) are written first, then measured, each in a fresh child process (its own
peak resident memory, ``VmHWM``):

* **project**: the files imported by ``statements.importing.batches.import_path`` (entries, then the
  statement file: hash, validation, ``COPY``, payments' matching), then what ``manage.py
  reconcile --all-pending`` does (``pending_statements`` → ``reconcile_statements``): items,
  summaries, balance checks, statuses, all stored;
* **pandas**: the same two files read by ``pandas.read_csv``, the highest version of each entry
  kept, lines merged with entries, statuses computed and counted in memory; nothing stored.

Shapes (``--scale`` multiplies the sizes; ``--scale 0.05`` runs in a minute or two):

* ``huge``: one statement of 1,000,000 lines;
* ``quarter``: one statement of 250,000 lines (with ``huge``: the growth factor, linear is 4x);
* ``hundred``: 100 statements of 10,000 lines, then the latency of re-running one 10,000-line
  statement (the statement page's button; mean of 3, resolutions carried over);
* ``small``: 10,000 statements of 100 lines.

Each statement: an opening balance, a payment and interest posted by CBSA; of its CAD lines about
2 % another broker's, 2 % ours with no entry, 1 % charged twice, 2 % with GST off by 0.27, 5 %
amended (the line charges version 2), 2.5 % adjustments; entries missing from the statement (2 %)
and entries of an earlier period. The counts by status of both sides are compared.

Targets (issue 14): project ≤ 5x pandas in every shape; rerun of 10,000 lines ≤ 1 s; growth
250k → 1M ≤ 5x; peak memory ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carm_bench")

COMPONENTS = [
    "customs_duties", "excise_duties", "excise_taxes", "gst", "anti_dumping", "countervailing",
    "surtaxes", "safeguards", "provincial_taxes", "interest", "other",
]  # fmt: skip
STATEMENT_HEADER = ["account_number", "statement_date", "line_type", "transaction_number",
                    "posted_on", "reference", *COMPONENTS, "amount", "due_date"]  # fmt: skip
ENTRY_HEADER = ["account_number", "transaction_number", "version", "release_date",
                "accounted_on", "client_reference", *COMPONENTS, "amount"]  # fmt: skip
STATEMENT_DATE = "2026-10-25"  # period 2026-09-18 - 2026-10-17
PERIOD = ("2026-09-18", "2026-10-17")
DUE = "2026-10-30"
OURS, THEIRS = "12345", "54321"
SERIES = 4  # BN9s 4xxxxxxxC: apart from the other benchmarks'

SHAPES = {  # name: (statements, lines per statement) at scale 1
    "huge": (1, 1_000_000),
    "quarter": (1, 250_000),
    "hundred": (100, 10_000),
    "small": (10_000, 100),
}


# --- Files ---------------------------------------------------------------------------------------


def bn15(n: int) -> str:
    from stdnum import luhn

    body = f"{SERIES * 10_000_000 + n:08d}"
    return f"{body}{luhn.calc_check_digit(body)}RM0001"


def cents(value: int) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"


def write_files(folder: Path, statements: int, lines: int, seed: int = 14) -> tuple[Path, Path]:
    """A statement file (``statements`` statements of ``lines`` lines, one account each) and the
    entries file the broker would hold for them."""
    rng = random.Random(seed)
    soa, entries = folder / "statements.csv", folder / "entries.csv"
    blank = "," * (len(COMPONENTS) - 1)
    in_period = [f"2026-09-{d}" for d in range(18, 31)] + [f"2026-10-{d:02d}" for d in range(1, 18)]
    with soa.open("w", encoding="utf-8") as s_out, entries.open("w", encoding="utf-8") as e_out:
        s_out.write(",".join(STATEMENT_HEADER) + "\n")
        e_out.write(",".join(ENTRY_HEADER) + "\n")
        for a in range(statements):
            account = bn15(a)
            head = f"{account},{STATEMENT_DATE},"
            rows = [
                f"{head}OPENING_BALANCE,,{PERIOD[0]},,{blank},1000.00,{DUE}\n",
                f"{head}PAYMENT,,2026-09-29,PAY-{a:06d},{blank},-1000.00,{DUE}\n",
            ]
            interest = rng.randint(1, 5000)
            rows.append(
                f"{head}INTEREST,,{PERIOD[1]},INT-{a:06d},{',' * 9}{cents(interest)},,"
                f"{cents(interest)},{DUE}\n"
            )
            erows: list[str] = []
            base = a * 2 * lines
            previous_txn = ""
            for n in range(lines - 3):
                duties, gst = rng.randint(0, 200_000), rng.randint(100, 150_000)
                day = in_period[n % len(in_period)]
                kind = "ADJUSTMENT" if n % 40 == 39 else "CAD"
                asec = THEIRS if n % 50 == 0 else OURS
                txn = f"{asec}{(base + n) % 10**9:09d}"
                line_gst = gst
                entry = True
                if n % 50 in (0, 1):  # another broker's; ours with no entry
                    entry = False
                elif n % 100 == 3 and previous_txn:  # charged twice: same number as the last
                    txn, entry = previous_txn, False
                elif n % 50 == 4:  # GST off by 0.27
                    line_gst = gst + 27
                parts = f"{cents(duties)},,,{cents(line_gst)},,,,,,,"
                rows.append(f"{head}{kind},{txn},{day},,{parts},{cents(duties + line_gst)},{DUE}\n")
                previous_txn = txn
                if not entry:
                    continue
                eparts = f"{cents(duties)},,,{cents(gst)},,,,,,,"
                if n % 20 == 7:  # amended: version 1 differed, the line charges version 2
                    erows.append(
                        f"{account},{txn},1,{PERIOD[0]},{PERIOD[0]},F-{n},"
                        f"{cents(duties)},,,{cents(gst + 100)},,,,,,,,{cents(duties + gst + 100)}\n"
                    )
                    erows.append(
                        f"{account},{txn},2,{PERIOD[0]},{day},F-{n},{eparts},"
                        f"{cents(duties + gst)}\n"
                    )
                else:
                    erows.append(
                        f"{account},{txn},1,{PERIOD[0]},{day},F-{n},{eparts},"
                        f"{cents(duties + gst)}\n"
                    )
                if n % 50 == 10:  # declared in the period, not charged: missing on statement
                    extra = f"{OURS}{(base + lines + n) % 10**9:09d}"
                    erows.append(
                        f"{account},{extra},1,{PERIOD[0]},{day},F-{n}-M,{eparts},"
                        f"{cents(duties + gst)}\n"
                    )
                elif n % 50 == 20:  # reconciled months ago
                    extra = f"{OURS}{(base + lines + n) % 10**9:09d}"
                    erows.append(
                        f"{account},{extra},1,2026-07-02,2026-07-02,F-{n}-O,{eparts},"
                        f"{cents(duties + gst)}\n"
                    )
            s_out.write("".join(rows))
            e_out.write("".join(erows))
    return soa, entries


# --- Children ------------------------------------------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory (``VmHWM``: ``ru_maxrss`` starts from the parent's
    size in a forked child)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _counts() -> dict[str, int]:
    from django.db.models import Count

    from statements.reconciliation.selectors import current_items

    rows = current_items().values_list("status").annotate(n=Count("pk")).order_by()
    return dict(rows)


def child_project(soa: str, entries: str) -> dict:
    import django

    django.setup()
    from statements import receivers
    from statements.importing.batches import import_path
    from statements.models import ReconciliationRun
    from statements.reconciliation.runs import reconcile_statements
    from statements.reconciliation.selectors import pending_statements

    started = time.perf_counter()
    with receivers.paused():  # reconciled below, as ``reconcile --all-pending`` would
        for kind, path in (("entries", entries), ("statement", soa)):
            done = import_path(kind=kind, path=path)
            if done.batch.status != "accepted":
                raise SystemExit(f"{kind} import refused: {done.message[:2000]}")
    imported = time.perf_counter()
    runs = reconcile_statements(pending_statements())
    finished = time.perf_counter()
    return {
        "import_seconds": imported - started,
        "reconcile_seconds": finished - imported,
        "seconds": finished - started,
        "peak_mb": peak_mb(),
        "runs": len(runs),
        "failed": sum(r.status != ReconciliationRun.Status.SUCCEEDED for r in runs),
        "counts": _counts(),
    }


def child_rerun() -> dict:
    import django

    django.setup()
    from statements.models import ReconciliationItem, Statement
    from statements.reconciliation.runs import reconcile_statement

    statement = Statement.objects.order_by("pk").first()
    ReconciliationItem.objects.filter(
        run__statement=statement, run__is_current=True, status="amount_mismatch"
    ).update(resolution="explained", note="GST rounding at the border")
    times = []
    for _ in range(3):
        started = time.perf_counter()
        run = reconcile_statement(statement=Statement.objects.get(pk=statement.pk))
        times.append(time.perf_counter() - started)
    kept = run.items.filter(resolution="explained").count()
    return {
        "seconds": sum(times) / len(times),
        "max_seconds": max(times),
        "items": run.item_count,
        "kept": kept,
        "peak_mb": peak_mb(),
    }


def child_pandas(soa: str, entries: str) -> dict:
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    money = [*COMPONENTS, "amount"]
    text = {"account_number": "string", "transaction_number": "string", "line_type": "string"}

    def read(path: str) -> pd.DataFrame:
        frame = pd.read_csv(path, dtype={**text, **dict.fromkeys(money, "float64")})
        for column in money:  # money in integer cents: exact, like the engine
            frame[column] = (frame[column].fillna(0) * 100).round().astype("int64")
        return frame

    lines, ents = read(soa), read(entries)
    read_seconds = time.perf_counter() - started
    lines["row"] = np.arange(len(lines))
    period = lines.statement_date.map(_period)
    lines["period_start"], lines["period_end"] = period.str[0], period.str[1]
    latest = ents.sort_values("version").drop_duplicates(
        ["account_number", "transaction_number"], keep="last"
    )
    cads = lines[lines.line_type.isin(["CAD", "ADJUSTMENT"])].copy()
    key = ["account_number", "statement_date", "transaction_number"]
    cads["same"] = cads.groupby(key)["row"].transform("size")
    merged = cads.merge(
        latest, on=["account_number", "transaction_number"], how="left", suffixes=("", "_e")
    )
    has_entry = merged["version"].notna()
    equal = np.ones(len(merged), dtype=bool)
    for column in money:
        equal &= merged[column].to_numpy() == merged[f"{column}_e"].fillna(-1).to_numpy()
    ours = merged.transaction_number.str[:5] == OURS
    status = np.select(
        [merged.same > 1, ~has_entry & ours, ~has_entry, equal],
        ["duplicate", "unexpected_on_statement", "other_broker", "matched"],
        "amount_mismatch",
    )
    counts = pd.Series(status).value_counts().to_dict()
    posted = lines.line_type.isin(["INTEREST", "PENALTY", "MISC", "PAYMENT", "CREDIT"])
    counts["posted_by_cbsa"] = int(posted.sum())
    statements = lines.drop_duplicates(["account_number", "statement_date"])[
        ["account_number", "statement_date", "period_start", "period_end"]
    ]
    candidates = latest.merge(statements, on="account_number")
    candidates = candidates[
        (candidates.accounted_on >= candidates.period_start)
        & (candidates.accounted_on <= candidates.period_end)
    ]
    on_statement = cads[key].drop_duplicates()
    missing = candidates.merge(on_statement, on=key, how="left", indicator=True)
    counts["missing_on_statement"] = int((missing["_merge"] == "left_only").sum())
    return {
        "seconds": time.perf_counter() - started,
        "read_seconds": read_seconds,
        "peak_mb": peak_mb(),
        "counts": {k: int(v) for k, v in counts.items() if v},
    }


def _period(statement_date: str) -> tuple[str, str]:
    """The billing period of a statement issued on the 25th (``statements.billing``)."""
    day = dt.date.fromisoformat(statement_date)
    end = day.replace(day=17)
    start = (end.replace(day=1) - dt.timedelta(days=1)).replace(day=18)
    return start.isoformat(), end.isoformat()


# --- Driver --------------------------------------------------------------------------------------


def _url(name: str) -> str:
    return urlsplit(BENCH_URL)._replace(path=f"/{name}").geturl()


def make_template() -> str:
    """A migrated database with the accounts every shape needs; shapes copy it."""
    import psycopg

    name = urlsplit(BENCH_URL).path.lstrip("/")
    if not name.startswith(("carm_bench", "bench_")):
        raise SystemExit(f"Refusing to use {name!r}: benchmark databases start with carm_bench.")
    template = f"{name}_tpl"
    admin = _url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{template}"')
    child = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--child", "template"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _url(template)},
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"Could not build the template database:\n{child.stderr[-4000:]}")
    return template


def child_template() -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    from bench.common import create_accounts

    call_command("migrate", verbosity=0, interactive=False)
    create_accounts(max(s for s, _ in SHAPES.values()), series=SERIES, name="Bench Shapes")
    return {}


def fresh_copy(template: str, name: str) -> str:
    import psycopg

    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _url(name)


def measure(mode: str, *args: str, url: str | None = None) -> dict:
    env = dict(os.environ)
    if url:
        env["DATABASE_URL"] = url
    child = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--child", mode, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"bench_reconcile_shapes {mode} failed:\n{child.stderr[-4000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    from bench.common import print_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.05)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated subset")
    options = parser.parse_args()
    if not urlsplit(BENCH_URL).scheme.startswith("postgres"):
        raise SystemExit(f"Benchmarks need PostgreSQL; BENCH_DATABASE_URL is {BENCH_URL!r}.")
    chosen = [s.strip() for s in options.shapes.split(",") if s.strip()]
    template = make_template()
    database = f"{template.removesuffix('_tpl')}_shape"
    rows, results, notes = [], {}, []
    with tempfile.TemporaryDirectory(prefix="carm-bench-shapes-") as folder:
        for shape in chosen:
            statements, lines = SHAPES[shape]
            if statements == 1:
                lines = max(100, int(lines * options.scale))
            else:
                statements = max(1, int(statements * options.scale))
            soa, entries = write_files(Path(folder), statements, lines)
            pandas = measure("pandas", str(soa), str(entries))
            url = fresh_copy(template, database)
            project = measure("project", str(soa), str(entries), url=url)
            results[shape] = project
            same = project["counts"] == pandas["counts"]
            if not same or project["failed"]:
                notes.append(
                    f"{shape}: counts differ or runs failed!\n project {project['counts']} "
                    f"failed={project['failed']}\n pandas  {pandas['counts']}"
                )
            rows.append(
                [f"{statements:,} x {lines:,}", f"{sum(project['counts'].values()):,}",
                 f"{project['import_seconds']:.1f}", f"{project['reconcile_seconds']:.2f}",
                 f"{project['seconds']:.1f}", f"{pandas['seconds']:.1f}",
                 f"{project['seconds'] / pandas['seconds']:.1f}x",
                 f"{project['peak_mb']:.0f}", f"{pandas['peak_mb']:.0f}",
                 "yes" if same else "NO"]
            )  # fmt: skip
            if shape == "hundred":
                rerun = measure("rerun", url=url)
                notes.append(
                    f"Re-running one {lines:,}-line statement: {rerun['seconds']:.2f} s "
                    f"(mean of 3, slowest {rerun['max_seconds']:.2f} s; {rerun['kept']} "
                    f"resolutions kept; peak {rerun['peak_mb']:.0f} MB). Target ≤ 1 s."
                )
    print_table(
        "Reconciliation from files to stored results, PostgreSQL, fresh unanalysed tables",
        ["statements x lines", "items", "import s", "reconcile s", "project s", "pandas s",
         "vs pandas", "peak MB", "pandas MB", "counts equal"],
        rows,
    )  # fmt: skip
    if "huge" in results and "quarter" in results:
        huge, quarter = results["huge"], results["quarter"]
        notes.append(
            "Growth from a quarter to the whole one-statement size: files to results "
            f"{huge['seconds'] / quarter['seconds']:.1f}x, reconciliation alone "
            f"{huge['reconcile_seconds'] / quarter['reconcile_seconds']:.1f}x (linear is 4x; "
            "target ≤ 5x)."
        )
    for note in notes:
        print(note)
    print("Targets: ≤ 5x pandas in every shape; peak memory ≤ 300 MB.")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        mode, args = sys.argv[2], sys.argv[3:]
        if mode == "template":
            result = child_template()
        elif mode == "pandas":
            result = child_pandas(*args)
        elif mode == "rerun":
            result = child_rerun()
        else:
            result = child_project(*args)
        print(json.dumps(result))
    else:
        main()
