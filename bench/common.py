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


def create_accounts(count: int, *, series: int, name: str) -> list[int]:
    """Create ``count`` active importers with one RM account each; return the accounts' ids in
    creation order.

    ``series`` (1-9) keeps each benchmark's business numbers apart (a valid BN9 needs its Luhn
    check digit, which the app's validators insist on); ``name`` prefixes the legal names.
    """
    from stdnum import luhn

    from clients.models import Importer, ProgramAccount

    def bn9(n: int) -> str:
        body = f"{series * 10_000_000 + n:08d}"
        return body + luhn.calc_check_digit(body)

    Importer.objects.bulk_create(
        [
            Importer(
                legal_name=f"{name} {n:05d} Ltd.",
                bn9=bn9(n),
                status="active",
                address_line1="1 Bench Street",
                city="Toronto",
                province="ON",
                postal_code="M5H 1A1",
            )
            for n in range(count)
        ],
        batch_size=5000,
    )
    importers = Importer.objects.filter(bn9__in=[bn9(n) for n in range(count)]).order_by("bn9")
    ProgramAccount.objects.bulk_create(
        [
            ProgramAccount(importer_id=pk, bn15=f"{number}RM0001")
            for pk, number in importers.values_list("id", "bn9")
        ],
        batch_size=5000,
    )
    return list(
        ProgramAccount.objects.filter(importer__in=importers)
        .order_by("importer__bn9")
        .values_list("id", flat=True)
    )
