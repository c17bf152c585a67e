"""Benchmark: importing a 1,000,000-line statement file and a 1,000,000-row entries file.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_import.py``) against PostgreSQL: the
server of ``BENCH_DATABASE_URL`` or else ``DATABASE_URL``. Without a PostgreSQL URL it says so and
stops (exit 0). It never touches the database the URL names: it works in its own database,
``carm_bench_statements`` on the same server, dropped and rebuilt on each run.

Each import runs in a fresh process, the way a worker runs it (``import_path``: hash, batch row,
one transaction, ``COPY``), and reports its wall time and its peak resident memory
(``ru_maxrss``: the whole process, Python and Django included; the resident size just before
the import is shown beside it, so what the import itself adds is plain). Beside it, ``psql \\copy`` loads
the same file into a bare table with the same column types and no constraint or index: the
physical limit of the server; and the rows the import wrote are loaded again by ``\\copy`` into
a copy of their own table (same indexes and foreign keys), which is what the server alone needs
to store them. A last row imports the statement file again (same SHA-256: nothing
changes).

An accepted statement file is filed as its importers' records after the import, as a job of its
own (``statements/importing/received.py``): the child runs that job too, after the import has
returned, and its time is reported in a column of its own ("filed after s"), not in the import's.

Target (issue 4): each import within 5x the bare ``\\copy``, peak memory under 300 MB.
"""

from __future__ import annotations

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
BENCH_DATABASE = "carm_bench_statements"
ACCOUNTS = 1_000
ROWS = 1_000_000
STATEMENT_DATE = "2026-10-25"  # period 2026-09-18 - 2026-10-17, due 2026-10-30

COMPONENTS = [
    "customs_duties",
    "excise_duties",
    "excise_taxes",
    "gst",
    "anti_dumping",
    "countervailing",
    "surtaxes",
    "safeguards",
    "provincial_taxes",
    "interest",
    "other",
]
STATEMENT_HEADER = [
    "account_number",
    "statement_date",
    "line_type",
    "transaction_number",
    "posted_on",
    "reference",
    *COMPONENTS,
    "amount",
    "due_date",
]
ENTRY_HEADER = [
    "account_number",
    "transaction_number",
    "version",
    "release_date",
    "accounted_on",
    "client_reference",
    *COMPONENTS,
    "amount",
]
BARE_TYPES = {
    "statement_date": "date",
    "posted_on": "date",
    "due_date": "date",
    "release_date": "date",
    "accounted_on": "date",
    "version": "integer",
    "amount": "numeric(14, 2)",
    **dict.fromkeys(COMPONENTS, "numeric(14, 2)"),
}


def bench_url() -> str | None:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not urlsplit(url).scheme.startswith("postgres"):
        return None
    return urlsplit(url)._replace(path=f"/{BENCH_DATABASE}").geturl()


def bn15(n: int) -> str:
    from stdnum import luhn

    body = f"{70_000_000 + n:08d}"
    return f"{body}{luhn.calc_check_digit(body)}RM0001"


def cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


# --- Files --------------------------------------------------------------------------------------


def write_statement_file(path: Path, rng: random.Random) -> None:
    """1,000 statements of 1,000 lines: opening balance, a payment, CADs, adjustments, interest."""
    per_account = ROWS // ACCOUNTS
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(STATEMENT_HEADER) + "\n")
        blank = [""] * len(COMPONENTS)
        for a in range(ACCOUNTS):
            account = bn15(a)
            head = f"{account},{STATEMENT_DATE},"
            lines = [
                f"{head}OPENING_BALANCE,,2026-09-18,,{','.join(blank)},{cents(rng.randint(0, 9_000_000))},2026-10-30\n"
            ]
            lines.append(
                f"{head}PAYMENT,,2026-09-29,PAY-{a:06d},{','.join(blank)},-{cents(rng.randint(1, 9_000_000))},2026-10-30\n"
            )
            for n in range(per_account - 3):
                duties, gst = rng.randint(0, 200_000), rng.randint(100, 150_000)
                parts = [cents(duties) if duties else "", "", "", cents(gst)] + [""] * 7
                kind = "ADJUSTMENT" if n % 50 == 49 else "CAD"
                day = 18 + n % 30
                posted = f"2026-09-{day:02d}" if day <= 30 else f"2026-10-{day - 30:02d}"
                txn = f"12345{a:04d}{n:05d}"
                lines.append(
                    f"{head}{kind},{txn},{posted},,{','.join(parts)},{cents(duties + gst)},2026-10-30\n"
                )
            interest = rng.randint(1, 5_000)
            parts = [""] * 9 + [cents(interest), ""]
            lines.append(
                f"{head}INTEREST,,2026-10-17,INT-2026-10,{','.join(parts)},{cents(interest)},2026-10-30\n"
            )
            out.write("".join(lines))


def write_entries_file(path: Path, rng: random.Random) -> None:
    """1,000,000 CAD versions of the same 1,000 accounts; one in ten amended (version 2)."""
    per_account = ROWS // ACCOUNTS
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(ENTRY_HEADER) + "\n")
        for a in range(ACCOUNTS):
            account = bn15(a)
            lines = []
            n = 0
            while len(lines) < per_account:
                duties, gst = rng.randint(0, 200_000), rng.randint(100, 150_000)
                day = 1 + n % 28
                versions = 2 if n % 10 == 9 and len(lines) + 2 <= per_account else 1
                for version in range(1, versions + 1):
                    parts = [cents(duties) if duties else "", "", "", cents(gst + version - 1)]
                    parts += [""] * 7
                    lines.append(
                        f"{account},12345{a:04d}{n:05d},{version},2026-09-{day:02d},"
                        f"2026-09-{min(day + version, 30):02d},F-{a:04d}-{n:05d},"
                        f"{','.join(parts)},{cents(duties + gst + version - 1)}\n"
                    )
                n += 1
            out.write("".join(lines))


# --- Measurements -------------------------------------------------------------------------------


def measure_import(kind: str, path: Path) -> dict:
    """Run one import in a child process (fresh memory) and read what it reports."""
    env = {
        **os.environ,
        "DATABASE_URL": bench_url(),
        "DJANGO_SETTINGS_MODULE": "carm_portal.settings",
    }
    child = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--import", kind, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"The {kind} import failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def current_rss_kb() -> int:
    """Resident memory now (Linux); the high-water mark where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_import(kind: str, path: str) -> None:
    import django

    django.setup()
    from statements.importing import received
    from statements.importing.batches import import_path, to_file

    baseline = current_rss_kb()
    started = time.perf_counter()
    result = import_path(kind=kind, path=path)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    batch = result.batch
    filing = None
    if not result.already_imported and to_file(batch):
        started = time.perf_counter()
        filed = received.file_batch(batch.pk)  # the job the import queued, run here
        filing = {"seconds": time.perf_counter() - started, "records": len(filed)}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_kb": peak,
                "baseline_kb": baseline,
                "status": "unchanged" if result.already_imported else batch.status,
                "message": result.message,
                "rows": batch.row_count,
                "filing": filing,
            }
        )
    )


def measure_copy(url: str, header: list[str], path: Path, table: str) -> float:
    columns = ", ".join(f"{name} {BARE_TYPES.get(name, 'text')}" for name in header)
    psql = ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    create = f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns})"
    subprocess.run([*psql, create], check=True)  # noqa: S603
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [*psql, f"\\copy {table} FROM '{path}' WITH (FORMAT csv, HEADER true)"], check=True
    )
    seconds = time.perf_counter() - started
    subprocess.run([*psql, f"DROP TABLE {table}"], check=True)  # noqa: S603
    return seconds


def measure_shaped_copy(url: str, table: str, folder: Path) -> float:
    """``\\copy`` of the rows the import just wrote into a copy of their own table: the same
    indexes and foreign keys, in one transaction (deferred checks run at its commit). What the
    server alone needs to store them: the physical limit for this table rather than a bare one.
    """
    psql = ["psql", url, "-q", "-v", "ON_ERROR_STOP=1"]
    dump = folder / f"{table}.tsv"
    shaped = f"shaped_{table}"
    subprocess.run([*psql, "-c", f"\\copy {table} TO '{dump}'"], check=True)  # noqa: S603
    foreign_keys = subprocess.run(  # noqa: S603
        [
            *psql,
            "-At",
            "-c",
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "  # noqa: S608 (our table)
            f"WHERE conrelid = '{table}'::regclass AND contype = 'f'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    setup = [
        f"DROP TABLE IF EXISTS {shaped}",
        f"CREATE TABLE {shaped} (LIKE {table} INCLUDING ALL)",
    ]
    setup += [f"ALTER TABLE {shaped} ADD {fk}" for fk in foreign_keys if fk.strip()]
    subprocess.run([*psql, "-c", "; ".join(setup)], check=True)  # noqa: S603
    started = time.perf_counter()
    subprocess.run([*psql, "-1", "-c", f"\\copy {shaped} FROM '{dump}'"], check=True)  # noqa: S603
    seconds = time.perf_counter() - started
    subprocess.run([*psql, "-c", f"DROP TABLE {shaped}"], check=True)  # noqa: S603
    dump.unlink()
    return seconds


def populate() -> None:
    from clients.models import Importer, ProgramAccount

    Importer.objects.bulk_create(
        [
            Importer(
                legal_name=f"Bench Importer {n:05d} Ltd.",
                bn9=bn15(n)[:9],
                status="active",
                address_line1="1 Bench Street",
                city="Toronto",
                province="ON",
                postal_code="M5H 1A1",
            )
            for n in range(ACCOUNTS)
        ]
    )
    ids = dict(Importer.objects.values_list("bn9", "pk"))
    ProgramAccount.objects.bulk_create(
        [ProgramAccount(importer_id=ids[bn15(n)[:9]], bn15=bn15(n)) for n in range(ACCOUNTS)]
    )


def main() -> None:
    url = bench_url()
    if url is None:
        print(
            "bench_import: skipped. It needs PostgreSQL: set DATABASE_URL (or BENCH_DATABASE_URL) "
            "to postgres://USER@HOST:5432/ANY; the bench works in its own database "
            f"{BENCH_DATABASE} on that server."
        )
        return
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
    from bench.common import fresh_database, print_table

    fresh_database()
    populate()
    from django.db import connections

    connections.close_all()

    rng = random.Random(2026)
    rows = []
    with tempfile.TemporaryDirectory(prefix="carm-bench-") as folder:
        statement_file = Path(folder) / "statements-1m.csv"
        entries_file = Path(folder) / "entries-1m.csv"
        started = time.perf_counter()
        write_statement_file(statement_file, rng)
        write_entries_file(entries_file, rng)
        print(f"Generated the two files in {time.perf_counter() - started:.1f} s.")
        runs = [
            ("statement", statement_file, STATEMENT_HEADER, "bare_statement_lines"),
            ("entries", entries_file, ENTRY_HEADER, "bare_entries"),
            ("statement", statement_file, STATEMENT_HEADER, None),
        ]
        tables = {"statement": "statements_statementline", "entries": "statements_brokerentry"}
        for kind, path, header, bare in runs:
            result = measure_import(kind, path)
            copy = measure_copy(url, header, path, bare) if bare else None
            shaped = measure_shaped_copy(url, tables[kind], Path(folder)) if bare else None
            seconds = result["seconds"]
            rows.append(
                [
                    kind if bare else f"{kind}, same file again",
                    f"{result['rows']:,}",
                    f"{path.stat().st_size / 1e6:.0f}",
                    result["status"],
                    f"{seconds:.1f}",
                    f"{result['rows'] / seconds:,.0f}" if bare else "",
                    f"{result['peak_kb'] / 1024:.0f}",
                    f"{result['baseline_kb'] / 1024:.0f}",
                    f"{copy:.1f}" if copy else "",
                    f"{seconds / copy:.1f}x" if copy else "",
                    f"{shaped:.1f}" if shaped else "",
                    f"{seconds / shaped:.1f}x" if shaped else "",
                    (
                        f"{result['filing']['seconds']:.1f} ({result['filing']['records']:,})"
                        if result["filing"]
                        else ""
                    ),
                ]
            )
    print_table(
        "Import of 1,000,000-row files into PostgreSQL, beside psql \\copy into a bare table",
        [
            "file",
            "rows",
            "MB",
            "result",
            "seconds",
            "rows/s",
            "peak RSS MB",
            "RSS before MB",
            "\\copy s",
            "vs \\copy",
            "same-table \\copy s",
            "vs that",
            "filed after s (records)",
        ],
        rows,
    )
    print(
        "Target: each import within 5x the bare \\copy, peak memory under 300 MB. "
        "'same-table \\copy': psql loading the rows the import wrote into a copy of their table "
        "(same indexes and foreign keys, one transaction): the server's share alone. 'filed "
        "after': the filing job the import queued (one record per importer), run once it returned."
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--import":
        child_import(sys.argv[2], sys.argv[3])
    else:
        main()
