"""Shared pieces of the benchmarks: a fresh PostgreSQL database with the app's tables, a table printer.

Benchmarks run against PostgreSQL only (the target system): ``DATABASE_URL`` must name one; the
database is created when missing and emptied (migrated from scratch) before each measurement.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def fresh_database() -> None:
    """Drop and recreate the benchmark database, then migrate it (quietly)."""
    import django
    import psycopg
    from django.apps import apps

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"Benchmarks need PostgreSQL; DATABASE_URL is {url!r}.")
    name = parts.path.lstrip("/")
    if not name.startswith(("carm_bench", "bench_")):
        raise SystemExit(f"Refusing to drop {name!r}: benchmark databases start with carm_bench.")

    from django.db import connections

    if apps.ready:
        connections.close_all()
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    if not apps.ready:
        django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))
    print()
