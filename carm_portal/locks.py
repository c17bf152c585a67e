"""Serialising a job across processes: a PostgreSQL transaction-level advisory lock.

The daily checks (delegations, payments, security) each run in one transaction; two of them at
once (beat firing while an admin runs the command) would both insert the same alerts and one
would fail on the unique constraint. ``pg_advisory_xact_lock`` makes the second wait for the first
to commit, and is released with the transaction, so a crash cannot leave it held. SQLite (the
development default) has one writer at a time anyway, so there it does nothing.
"""

from __future__ import annotations

from django.db import connection


def advisory_xact_lock(lock_id: int) -> None:
    """Wait for, then hold until this transaction ends, the lock ``lock_id`` (PostgreSQL only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
