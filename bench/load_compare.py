"""The load test's mix against two checkouts in turns, to tell a change from the machine's drift.

This 2-core machine's speed moves by 1.5 to 1.8 times within an hour, so two ``load_pages.py``
runs a few minutes apart compare the machine as much as the code. This script seeds one
database (``bench/load_pages.py``'s data, ``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/carm_bench_compare``; rebuilt), starts one gunicorn per
checkout on it, as the image does, and sends the same 20 users at each in turns: ``ROUNDS`` (6)
rounds of ``BURST_SECONDS`` (15) each, in the order A B, B A, A B... so both see the same drift.
The two checkouts must share the database's schema (the same migrations)::

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/load_compare.py /tmp/before .

Prints each burst (throughput, p95, errors) and each checkout's mean; exits 1 on any error.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carm_bench_compare"
)

from bench.common import fresh_database, print_table  # noqa: E402
from bench.load_pages import free_port, p95, run, seed, start_gunicorn  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "6"))
BURST_SECONDS = float(os.environ.get("BURST_SECONDS", "15"))


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    checkouts = {"A": Path(sys.argv[1]).resolve(), "B": Path(sys.argv[2]).resolve()}
    fresh_database()
    session_key = seed()
    from django.db import connections

    connections.close_all()
    servers = {}
    try:
        for name, root in checkouts.items():
            port = free_port()
            log = open(os.devnull, "w")  # noqa: SIM115 (open as long as the server runs)
            servers[name] = (start_gunicorn(port, root, stderr=log), f"http://127.0.0.1:{port}")
        for _, base in servers.values():  # both warm: templates compiled, connections open
            run(base, session_key, seconds=3, warm_up=3)
        bursts: dict[str, list[tuple[float, float, int]]] = {name: [] for name in checkouts}
        rows = []
        for n in range(ROUNDS):
            for name in ("A", "B") if n % 2 == 0 else ("B", "A"):
                samples = [
                    s
                    for url in run(
                        servers[name][1], session_key, seconds=BURST_SECONDS, warm_up=2
                    ).values()
                    for s in url
                ]
                rate = len(samples) / BURST_SECONDS
                tail = p95([t for t, _ in samples]) * 1000
                errors = sum(1 for _, ok in samples if not ok)
                bursts[name].append((rate, tail, errors))
                rows.append([str(n + 1), name, f"{rate:.1f}", f"{tail:.0f}", str(errors)])
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    print_table("Bursts in turns", ["round", "checkout", "req/s", "p95 ms", "errors"], rows)
    summary = [
        [
            f"{name} {checkouts[name]}",
            f"{statistics.mean(b[0] for b in bursts[name]):.1f}",
            f"{statistics.mean(b[1] for b in bursts[name]):.0f}",
            str(sum(b[2] for b in bursts[name])),
        ]
        for name in checkouts
    ]
    print_table("Mean of the bursts", ["checkout", "req/s", "p95 ms", "errors"], summary)
    if any(b[2] for name in checkouts for b in bursts[name]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
