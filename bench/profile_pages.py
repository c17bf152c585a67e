"""Per-request cost of the benchmark's pages, for before/after comparisons on a shared machine.

Wall-clock latency on a machine other people are using says little; this measures what one
request costs: the web process's CPU time (``time.process_time``, which excludes time spent
waiting for PostgreSQL), the time spent in SQL (each query's round trip, as the web process
waits for it), and the number of queries. Run against the database ``bench_pages.py`` built
(``BENCH_DATABASE_URL``; nothing is rebuilt)::

    .venv/bin/python bench/profile_pages.py [--repeat N] [--only TEXT] [--profile TEXT]

``--only`` keeps the pages whose label contains TEXT; ``--profile`` prints a cProfile of the
matching page's requests (the 30 costliest functions by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carm_bench"
)


def show_queries(client, url: str, label: str) -> None:
    """Each query of one request with its time, slowest first (the SQL in full, to EXPLAIN)."""
    from django.db import connection

    seen: list[tuple[float, str]] = []

    def timed(execute, sql_text, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            seen.append(
                (
                    (time.perf_counter() - began) * 1000,
                    connection.ops.compose_sql(sql_text, params) if params else sql_text,
                )
            )

    with connection.execute_wrapper(timed):
        client.get(url)
    print(f"\n== {label}: {len(seen)} queries, {sum(t for t, _ in seen):.0f} ms")
    for ms, text in sorted(seen, reverse=True):
        print(f"-- {ms:.1f} ms\n{text}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", default="")
    parser.add_argument("--profile", default="")
    parser.add_argument("--sql", default="", help="print the queries of the matching pages")
    args = parser.parse_args()

    import django

    django.setup()
    import time_machine
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from bench.bench_pages import known_people, pages
    from bench.common import print_table

    setup_test_environment()
    who = known_people()
    rows = []
    with time_machine.travel(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC), tick=True):
        for label, persona, url in pages(who):
            if args.only.lower() not in label.lower():
                continue
            client = Client()
            client.force_login(who[persona])
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            cpu, sql, counts = [], [], []
            profiler = (
                cProfile.Profile(time.process_time)
                if args.profile and args.profile.lower() in label.lower()
                else None
            )
            for _ in range(args.repeat):
                spent = [0.0, 0]

                def timed(execute, sql_text, params, many, context, spent=spent):
                    began = time.perf_counter()
                    try:
                        return execute(sql_text, params, many, context)
                    finally:
                        spent[0] += time.perf_counter() - began
                        spent[1] += 1

                with connection.execute_wrapper(timed):
                    began = time.process_time()
                    if profiler:
                        profiler.enable()
                    response = client.get(url)
                    if profiler:
                        profiler.disable()
                    cpu.append((time.process_time() - began) * 1000)
                assert response.status_code == 200
                sql.append(spent[0] * 1000)
                counts.append(spent[1])
            if args.sql and args.sql.lower() in label.lower():
                show_queries(client, url, label)
            rows.append(
                [
                    label,
                    f"{statistics.median(cpu):.1f}",
                    f"{statistics.median(sql):.1f}",
                    str(max(counts)),
                    f"{len(response.content) // 1024}",
                ]
            )
            if profiler:
                stats = pstats.Stats(profiler).sort_stats(
                    os.environ.get("PROFILE_SORT", "cumulative")
                )
                stats.print_stats(40)
                if os.environ.get("PROFILE_CALLERS"):  # who calls the functions matching it
                    stats.print_callers(os.environ["PROFILE_CALLERS"])
    print_table(
        f"Per request, median of {args.repeat} (ms)",
        ["page", "web CPU", "SQL wait", "queries", "KiB"],
        rows,
    )


if __name__ == "__main__":
    main()
