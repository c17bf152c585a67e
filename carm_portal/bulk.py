"""Set-based writes for the jobs that touch tens of thousands of rows at once.

Django's ``bulk_create`` builds a model instance per row and simple-history's bulk helpers build
another per history row; at 100,000 delegations that is most of a sweep's time. These helpers
write plain tuples (PostgreSQL ``COPY`` where available) and take history snapshots in SQL,
``INSERT … SELECT`` from the rows just written, so the audit trail is kept at set speed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet

SQLITE_CHUNK = 500  # rows per INSERT: SQLite allows 999 (older) to 32,766 bound values


def _adapt(row: Sequence[Any]) -> tuple[Any, ...]:
    """Values as the ORM would store them (SQLite keeps datetimes as naive UTC text)."""
    ops = connection.ops
    return tuple(
        ops.adapt_datetimefield_value(v)
        if isinstance(v, dt.datetime)
        else ops.adapt_datefield_value(v)
        if isinstance(v, dt.date)
        else v
        for v in row
    )


def copy_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order, database column names) into ``model``'s table."""
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({placeholders})"  # noqa: S608
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(_adapt(row))
            if len(batch) == SQLITE_CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def update_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``UPDATE … SET columns WHERE pk`` for each row (values in ``columns`` order, then the pk).

    One ``executemany``: psycopg 3 pipelines it on PostgreSQL, so thousands of rows with
    different values cost one round of statements rather than a query each from the ORM.
    """
    rows = [row if connection.vendor == "postgresql" else _adapt(row) for row in rows]
    if not rows:
        return 0
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def snapshot_history(
    queryset: QuerySet,
    *,
    history_type: str,
    when: dt.datetime,
    reason: str | None = None,
    user_id: int | None = None,
) -> int:
    """One django-simple-history record per row of ``queryset``, as the rows are now, in one query.

    ``history_type`` is simple-history's ``+`` (created), ``~`` (changed) or ``-`` (deleted).
    """
    model = queryset.model
    history = model.history.model
    tracked = [f.attname for f in history._meta.concrete_fields if f.attname in _columns(model)]
    quote = connection.ops.quote_name
    select_sql, params = queryset.values("pk").query.sql_with_params()
    target = ", ".join(
        [quote(c) for c in tracked]
        + [
            quote(c)
            for c in ("history_date", "history_type", "history_change_reason", "history_user_id")
        ]
    )
    source = ", ".join(quote(c) for c in tracked)
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({target}) "  # noqa: S608
        f"SELECT {source}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(model._meta.pk.column)} IN ({select_sql})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_adapt([when]), history_type, reason, user_id, *params])
        return cursor.rowcount


def _columns(model: type[Model]) -> set[str]:
    return {f.attname for f in model._meta.concrete_fields}


def chunks(items: Sequence, size: int = 5000) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
