"""Benchmark: server time of the broker's Today views, the worklists they link to, and the
importer home, on a portfolio of 10,000 importers, ~100,000 delegations and ~1,000,000
statement lines.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_pages.py [--tenth | --importers=N]``,
a tenth or N importers with 100 statement lines each, to check the benchmark itself) against
PostgreSQL: ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/carm_bench``;
the database is created if missing and its tables rebuilt). The portfolio is filled as the
delegation and payment benchmarks fill theirs (``bench_delegations.populate``, then three months
of statements per RM account), then the night's checks run once so alerts and balances exist.
Each page is requested ``REPEAT`` times in-process through Django's test client, signed in as
the persona it is for; the table shows the median and 95th percentile of the whole request
(middleware, views, SQL, templates), and the SQL queries of one request.

Target (issue 15): p95 <= 200 ms for every page.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
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

from bench.common import fresh_database, print_table  # noqa: E402

TODAY = dt.date(2026, 11, 23)
ISSUED = [dt.date(2026, 8, 25), dt.date(2026, 9, 25), dt.date(2026, 10, 25)]
REPEAT = 20
AGENTS = 20


CARRIED_BALANCES = """
WITH totals AS (
    SELECT statement_id, SUM(amount) AS total FROM statements_statementline GROUP BY statement_id
), running AS (
    SELECT s.id, t.total, COALESCE(SUM(t.total) OVER (
        PARTITION BY s.program_account_id ORDER BY s.statement_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS opening
    FROM statements_statement s JOIN totals t ON t.statement_id = s.id
)
UPDATE statements_statement s SET opening_balance = r.opening, closing_balance = r.opening + r.total,
    stated_closing_balance = r.opening + r.total + CASE WHEN s.id % 400 = 0 THEN 0.01 ELSE 0 END
FROM running r WHERE r.id = s.id
"""


def populate_statements(lines_wanted: int, seed: int = 13) -> int:
    """Three statements per RM account, lines spread so the total is about ``lines_wanted``."""
    from carm_portal.bulk import copy_rows
    from clients.models import ProgramAccount
    from statements.billing import statement_period
    from statements.models import COMPONENTS, ImportBatch, Statement, StatementLine

    rng = random.Random(seed)
    account_ids = list(ProgramAccount.objects.order_by("pk").values_list("pk", flat=True))
    per_statement = max(1, lines_wanted // (len(account_ids) * len(ISSUED)))
    batch = ImportBatch.objects.create(
        kind="statement", file_name="bench.csv", sha256="1" * 64, status="accepted"
    )
    Statement.objects.bulk_create(
        [
            Statement(
                program_account_id=account_id,
                statement_date=day,
                period_start=statement_period(day).start,
                period_end=statement_period(day).end,
                due_date=statement_period(day).due_date,
                source_batch=batch,
                line_count=per_statement,
                closing_balance=Decimal(0),
            )
            for account_id in account_ids
            for day in ISSUED
        ],
        batch_size=5000,
    )
    columns = ["statement_id", "position", "line_type", "transaction_number", "posted_on",
               "reference", *COMPONENTS, "amount"]  # fmt: skip

    statements = list(Statement.objects.values_list("id", "statement_date"))  # before COPY starts

    def lines():
        for statement_id, day in statements:
            for position in range(2, per_statement + 2):
                gst = Decimal(rng.randint(1000, 90000)) / 100
                yield (statement_id, position, "CAD", f"{statement_id:07d}{position:07d}",
                       day - dt.timedelta(days=10), "", *[0, 0, 0, gst, 0, 0, 0, 0, 0, 0, 0],
                       gst)  # fmt: skip

    written = copy_rows(StatementLine, columns, lines())
    # Balances as CBSA states them: each statement opens with the account's previous closing
    # balance (unpaid, so some fall overdue) and closes with that plus its lines, which it states
    # (one statement in 400 states a cent more: a balance difference to explain, and the next
    # statement opens a cent off what this one states). Written here in SQL, so the balance flags
    # are brought up to date as any writer of statements must.
    from django.db import connection

    from statements.balance import refresh_differs

    with connection.cursor() as cursor:
        cursor.execute(CARRIED_BALANCES)
    refresh_differs(Statement.objects.all())
    return written


def populate_reconciliations() -> dict[str, int]:
    """The broker's entries for the statements' CADs, then every statement reconciled, as the
    night after the files came in leaves a live portfolio: most entries match; one CAD in 37 was
    declared a dollar off (an amount mismatch), one in 101 has no entry (CBSA posted what the
    broker did not declare) and one entry in 211 has no line (missing on the statement). Written
    with ``INSERT … SELECT`` from the lines (a million rows in seconds). Afterwards a third of
    the exceptions are assigned to their importer's agent, first seen over the last 90 days, and
    a later entries file touches one account in 20, so its statements wait for a new run."""
    import time_machine
    from django.db import connection

    from statements.models import COMPONENTS, ImportBatch, ReconciliationItem, Statement
    from statements.reconciliation.runs import reconcile_statements

    first = ImportBatch.objects.create(
        kind="entries", file_name="bench-entries.csv", sha256="2" * 64, status="accepted"
    )
    parts = ", ".join(COMPONENTS)
    line_parts = ", ".join(
        f"l.{c} + CASE WHEN l.id %% 37 = 0 THEN 1 ELSE 0 END" if c == "gst" else f"l.{c}"
        for c in COMPONENTS
    )
    entry = (
        "INSERT INTO statements_brokerentry (program_account_id, transaction_number, version,"
        " release_date, accounted_on, client_reference, source_batch_id, position, {parts},"
        " amount) SELECT s.program_account_id, {number}, 1, l.posted_on - 2, l.posted_on, '',"
        " %s, l.position, {line_parts}, l.amount + CASE WHEN l.id %% 37 = 0 THEN 1 ELSE 0 END"
        " FROM statements_statementline l JOIN statements_statement s ON s.id = l.statement_id"
        " WHERE l.line_type = 'CAD' AND {where}"
    )
    with connection.cursor() as cursor:
        for number, where in [
            ("l.transaction_number", "l.id %% 101 <> 0"),
            ("'9' || right(l.transaction_number, 13)", "l.id %% 211 = 0"),  # on no line
        ]:
            sql = entry.format(parts=parts, number=number, line_parts=line_parts, where=where)
            cursor.execute(sql, [first.pk])
    # The night before the benchmark's morning: runs finished "since yesterday".
    with time_machine.travel(dt.datetime(2026, 11, 23, 4, tzinfo=dt.UTC), tick=True):
        ImportBatch.objects.filter(pk=first.pk).update(finished_at=dt.datetime.now(tz=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC), tick=True):
        runs = reconcile_statements(Statement.objects.order_by("pk"))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE statements_reconciliationitem i"
            " SET first_seen_at = i.first_seen_at - make_interval(days => (i.id % 90)::int),"
            " assigned_to_id = CASE WHEN i.id % 3 = 0 THEN m.assigned_agent_id END"
            " FROM clients_importer m WHERE m.id = i.importer_id AND i.is_exception"
        )
    later = ImportBatch.objects.create(
        kind="entries", file_name="bench-entries-2.csv", sha256="3" * 64, status="accepted"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            entry.format(
                parts=parts,
                number="l.transaction_number",
                line_parts=line_parts,
                where="l.position = 2 AND s.program_account_id %% 20 = 0",
            ).replace(" 1, l.posted_on - 2", " 2, l.posted_on - 2"),
            [later.pk],
        )
    with time_machine.travel(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), tick=True):
        ImportBatch.objects.filter(pk=later.pk).update(finished_at=dt.datetime.now(tz=dt.UTC))
    note_received()
    return {
        "runs": len(runs),
        "exceptions": ReconciliationItem.objects.filter(is_exception=True).count(),
    }


def note_received() -> int:
    """What the entries import keeps per account (``EntriesReceived``), for the entries the
    benchmark wrote in SQL: the later file's accounts then wait for a new reconciliation."""
    from statements.entries_received import entries_received_from_entries, note_entries_received

    by_time: dict[dt.datetime, list[int]] = {}
    for account_id, at in entries_received_from_entries().items():
        by_time.setdefault(at, []).append(account_id)
    return sum(note_entries_received(ids, at) for at, ids in by_time.items())


def people(seed: int = 17):
    """Agents (importers assigned round-robin, a few client groups), finance, an admin, a BAM."""
    from clients.access import BrokerRole
    from clients.models import ClientGroup, Importer, Membership
    from tests.factories import UserFactory

    rng = random.Random(seed)
    agents = [
        UserFactory(email=f"bench-agent-{k}@example.com", roles=[BrokerRole.AGENT])
        for k in range(AGENTS)
    ]
    groups = [ClientGroup.objects.create(name=f"Bench group {n}") for n in range(5)]
    for group in groups:
        group.agents.add(rng.choice(agents))
    ids = list(Importer.objects.order_by("pk").values_list("pk", flat=True))
    for k, agent in enumerate(agents):
        Importer.objects.filter(pk__in=ids[k::AGENTS]).update(assigned_agent=agent)
    for k, group in enumerate(groups):
        Importer.objects.filter(pk__in=ids[k :: len(groups)]).update(client_group=group)
    bam = UserFactory(email="bench-bam@example.com")
    Membership.objects.create(user=bam, importer_id=ids[0], role=Membership.Role.BAM)
    UserFactory(email="bench-admin@example.com", roles=[BrokerRole.ADMIN])
    UserFactory(email="bench-finance@example.com", roles=[BrokerRole.FINANCE])
    return known_people()


def known_people():
    """The personas ``people`` made, found again (``--reuse`` measures an existing database)."""
    from carm_portal.models import User
    from clients.models import ClientGroup, Membership
    from statements.models import StatementLine

    bam = User.objects.get(email="bench-bam@example.com")
    importer = Membership.objects.get(user=bam).importer_id
    return {
        "admin": User.objects.get(email="bench-admin@example.com"),
        "agent": User.objects.get(email="bench-agent-0@example.com"),
        "finance": User.objects.get(email="bench-finance@example.com"),
        "bam": bam,
        "group": ClientGroup.objects.get(name="Bench group 0"),
        "importer": importer,
        # A line of a statement in the middle of the table, for the header search.
        "transaction_number": StatementLine.objects.filter(
            statement__program_account__importer_id=importer
        )
        .order_by("pk")
        .values_list("transaction_number", flat=True)[5],
    }


def pages(who: dict) -> list[tuple[str, str, str]]:
    """Every page the benchmark times: (label, persona, URL). ``profile_pages`` reads the same."""
    from django.urls import reverse

    group = who["group"].pk
    importer = who["importer"]
    statement_ref = who["transaction_number"]
    return [
        ("Today (admin, all)", "admin", "/?show=all"),
        ("Today (agent, mine)", "agent", "/"),
        ("Today (finance, all)", "finance", "/"),
        ("Today (admin, a group)", "admin", f"/?group={group}"),
        ("Payments overdue 30-59", "finance", reverse("payments:worklist") + "?list=overdue&age=30-59"),
        ("Security shortfalls", "finance", reverse("payments:worklist") + "?list=security&kind=shortfall"),
        ("Reconciliation exceptions", "finance", reverse("statements:worklist") + "?age=8-30"),
        ("Reconciliation worklist", "admin", reverse("statements:worklist")),
        ("Statements to reconcile", "agent", reverse("statements:list") + "?reconcile=pending&mine=1"),
        ("Statements (all)", "admin", reverse("statements:list")),
        ("Delegation alerts (blocking)", "agent", reverse("delegation:alerts") + "?severity=blocking&mine=1"),
        ("Delegations, renewal waiting", "agent", reverse("delegation:list") + "?renewal=open"),
        ("Delegations (all)", "admin", reverse("delegation:list")),
        ("Importers, stalled 14 days", "agent", reverse("clients:importer_list") + "?stalled=14&mine=1"),
        ("Clients (all)", "admin", reverse("clients:importer_list")),
        ("Payments (all)", "admin", reverse("payments:list")),
        ("Security forecast", "finance", reverse("payments:forecast")),
        ("Security forecast, every account", "finance", reverse("payments:forecast") + "?accounts=all&page=3"),
        ("Security forecast, a group", "finance", reverse("payments:forecast") + f"?group={group}"),
        ("Importer page (admin)", "admin", reverse("clients:importer_detail", args=[importer])),
        ("Importer page (agent)", "agent", reverse("clients:importer_detail", args=[importer])),
        ("Search a name", "admin", reverse("site_search:search") + "?q=Importer+0042"),
        ("Search a BN9", "admin", reverse("site_search:search") + "?q=100004"),
        ("Search a transaction number", "admin", reverse("site_search:search") + f"?q={statement_ref}"),
        ("Importer home (BAM)", "bam", "/"),
        ("API importers", "admin", "/api/v1/importers/"),
        ("API delegations", "admin", "/api/v1/delegations/"),
        ("API statements", "admin", "/api/v1/statements/"),
    ]  # fmt: skip


def time_pages(who: dict) -> list[list[str]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    rows = []
    for label, persona, url in pages(who):
        client = Client()
        client.force_login(who[persona])
        assert client.get(url).status_code == 200, url  # warm-up, and a check
        times = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        rows.append([label, f"{statistics.median(times):.0f}", f"{p95:.0f}", str(len(queries))])
    return rows


def build(importers: int) -> tuple[int, float]:
    """A fresh database holding the portfolio, the night's checks and the personas; the lines,
    and the seconds the daily security check took (it also stores the forecast snapshot)."""
    from django.test.utils import setup_test_environment

    fresh_database()
    setup_test_environment()  # e-mails of the night's checks kept in memory
    from bench.bench_delegations import populate

    populate(importers, 10)
    lines = populate_statements(importers * 100)
    people()  # agents first: a third of the exceptions go to their importer's agent
    reconciled = populate_reconciliations()
    print(f"Reconciled: {reconciled['runs']:,} runs, {reconciled['exceptions']:,} exceptions.")
    from delegation.checks import run_delegation_checks
    from payments.checks import run_payment_checks, run_security_checks

    run_delegation_checks(today=TODAY)
    run_payment_checks(today=TODAY)
    start = time.perf_counter()
    run_security_checks(today=TODAY)  # also stores the forecast snapshot the forecast page reads
    nightly = time.perf_counter() - start
    from django.db import connection

    with connection.cursor() as cursor:
        # As autovacuum leaves a live database: statistics, and the visibility map that lets
        # PostgreSQL answer a count from an index alone.
        cursor.execute("VACUUM ANALYZE")
    return lines, nightly


def main() -> None:
    """``--tenth``: a tenth of the portfolio; ``--importers=N``: N importers (a small run, to check
    the benchmark itself works). ``--reuse``: measure the database a previous run built (its size
    as it is), without rebuilding it: before/after comparisons on the same data."""
    import django
    import time_machine
    from django.test.utils import setup_test_environment

    tenth = "--tenth" in sys.argv
    sized = [a for a in sys.argv if a.startswith("--importers=")]
    nightly = None
    if "--reuse" in sys.argv:
        django.setup()
        setup_test_environment()  # the test client's host, and e-mails kept in memory
        from clients.models import Importer
        from statements.models import StatementLine

        importers, lines = Importer.objects.count(), StatementLine.objects.count()
    else:
        importers = 1_000 if tenth else 10_000
        if sized:
            importers = int(sized[0].split("=", 1)[1])
        lines, nightly = build(importers)
    who = known_people()
    with time_machine.travel(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC), tick=True):
        rows = time_pages(who)
    print_table(
        f"Pages: {importers:,} importers, ~{importers * 10:,} delegations, {lines:,} statement "
        f"lines (PostgreSQL; {REPEAT} requests each, milliseconds)",
        ["page", "median", "p95", "SQL queries"],
        rows,
    )
    if nightly is not None:
        print(f"Daily security check, forecast snapshot included: {nightly:.1f} s.")


if __name__ == "__main__":
    main()
