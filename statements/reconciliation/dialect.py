"""What differs between the databases the engine runs on, as one object per database.

``engine`` writes one SQL text for both; every piece that is not the same on PostgreSQL and SQLite
(>= 3.33) comes from the ``Dialect`` of the connection (``for_connection``), never from a
``connection.vendor`` test in the engine:

* amounts compared in cents on SQLite (it stores decimals as floating point), exact ``NUMERIC``
  on PostgreSQL;
* money as text and the JSON of differing components (``jsonb`` functions on PostgreSQL,
  ``json_object``/``json_patch`` on SQLite);
* the previous run's items looked up ``LATERAL`` on PostgreSQL (through the (run, key) index
  whatever the statistics say), a plain join on SQLite;
* the transaction's settings (no JIT, sort memory) on PostgreSQL;
* the summary: on PostgreSQL the items ``INSERT`` answers the counts and totals itself
  (``RETURNING`` grouped in a CTE); elsewhere ``outcome.summaries`` reads them back;
* the engine's staged working set: temporary tables dropped at commit and ``ANALYZE``d on
  PostgreSQL; plain temporary tables on SQLite, whose planner indexes them on the fly.

Every method returns SQL text built from identifiers and literals the engine passes; values
travel as bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from statements.models import COMPONENTS

WORK_MEM = "128MB"  # PostgreSQL sort memory for a run's transaction

PREVIOUS_COLUMNS = (
    "p.id, p.status, p.difference, p.components_differing, p.resolution, p.note, "
    "p.assigned_to_id, p.resolved_by_id, p.resolved_at, p.first_seen_at, p.reopened"
)


class Dialect:
    """The SQLite flavour; ``PostgreSQL`` overrides what differs."""

    vendor = "sqlite"

    def __init__(self, conn: BaseDatabaseWrapper):
        self.connection = conn

    def table(self, model: type[Model]) -> str:
        """A model's table name, quoted."""
        return self.connection.ops.quote_name(model._meta.db_table)

    def cents(self, expr: str) -> str:
        """An amount as compared: whole cents (SQLite stores decimals as floats)."""
        return f"ROUND(({expr}) * 100)"

    def money_text(self, expr: str) -> str:
        """An amount (two places) as the text the JSON of differing components holds."""
        return f"printf('%%.2f', ROUND(({expr}) * 100) / 100.0)"

    def difference(self, statement: str, entry: str) -> str:
        """statement − entry (a missing side is 0), two places."""
        return (
            f"((ROUND(COALESCE({statement}, 0) * 100) - ROUND(COALESCE({entry}, 0) * 100)) / 100.0)"
        )

    def json_differing(self, side: str, entry: str) -> str:
        """``{component: {"statement", "entry", "difference"}}`` for the components that
        differ, ``side.<component>`` against ``entry.e_<component>``."""
        parts = []
        for name in COMPONENTS:
            s, e = f"{side}.{name}", f"{entry}.e_{name}"
            differs = f"{self.cents(s)} <> {self.cents(e)}"
            parts.append(f"'{name}', {self._component_json(differs, s, e)}")
        # No strip-nulls here; a JSON merge patch into {} drops the keys whose value is null.
        return f"json_patch('{{}}', json_object({', '.join(parts)}))"

    def _component_json(self, differs: str, s: str, e: str) -> str:
        return (
            f"json(CASE WHEN {differs} THEN json_object('statement', {self.money_text(s)}, "
            f"'entry', {self.money_text(e)}, 'difference', "
            f"printf('%%.2f', ({self.cents(s)} - {self.cents(e)}) / 100.0)) END)"
        )

    def empty_json(self) -> str:
        return "'{}'"

    def json_equal(self, a: str, b: str) -> str:
        return f"json({a}) = json({b})"  # the ORM may have re-serialised the previous one

    def previous_items_join(self, item_t: str, previous_count: int) -> str:
        """The previous run's item of the same key as ``f``, as ``p`` (all NULL when there is
        none). The previous runs' ids are passed as values (known once the statements are
        locked); with none, there is nothing to join. SQLite's planner uses the (run, key)
        index for a plain join."""
        if not previous_count:
            return f"LEFT JOIN (SELECT {PREVIOUS_COLUMNS} FROM {item_t} p WHERE FALSE) p ON TRUE"  # noqa: S608
        ids = ", ".join(["%s"] * previous_count)
        return (
            f"LEFT JOIN {item_t} p ON p.run_id = f.prev_run_id AND p.key = f.item_key "
            f"AND p.run_id IN ({ids})"
        )

    def tune_transaction(self) -> None:
        """Settings for the run's transaction only (none here)."""

    def create_staged(self, name: str, select: str) -> str:
        """A temporary table of the engine's working set, made from ``select``."""
        return f"CREATE TEMP TABLE {name} AS {select}"

    def drop_staged(self, names: Sequence[str]) -> list[str]:
        return [f"DROP TABLE IF EXISTS temp.{name}" for name in names]

    def describe_staged(self, keys: dict[str, Sequence[str]]) -> list[str]:
        """What makes the staged tables (name: join keys) cheap to join: nothing here. SQLite
        joins by nested loops through an index, and builds an automatic one on the keys of a
        table that has none."""
        return []

    def insert_items(self, sql: str, params: Sequence[Any]) -> list[tuple] | None:
        """Run the items ``INSERT``; answers the summary rows when the database can give them
        from the same statement, else None (``outcome.summaries`` then reads them)."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql, list(params))
        return None


class PostgreSQL(Dialect):
    vendor = "postgresql"

    def cents(self, expr: str) -> str:
        """Exact ``NUMERIC``: compared as it is."""
        return f"({expr})"

    def money_text(self, expr: str) -> str:
        return f"(({expr})::numeric(14, 2))::text"

    def difference(self, statement: str, entry: str) -> str:
        return f"(COALESCE({statement}, 0) - COALESCE({entry}, 0))"

    def json_differing(self, side: str, entry: str) -> str:
        parts = []
        for name in COMPONENTS:
            s, e = f"{side}.{name}", f"{entry}.e_{name}"
            differs = f"{self.cents(s)} <> {self.cents(e)}"
            parts.append(f"'{name}', {self._component_json(differs, s, e)}")
        return f"jsonb_strip_nulls(jsonb_build_object({', '.join(parts)}))"

    def _component_json(self, differs: str, s: str, e: str) -> str:
        return (
            f"CASE WHEN {differs} THEN jsonb_build_object('statement', {self.money_text(s)}, "
            f"'entry', {self.money_text(e)}, 'difference', {self.money_text(f'{s} - {e}')}) END"
        )

    def empty_json(self) -> str:
        return "'{}'::jsonb"

    def json_equal(self, a: str, b: str) -> str:
        return f"{a} = {b}"

    def previous_items_join(self, item_t: str, previous_count: int) -> str:
        """A ``LATERAL`` lookup per item goes through the (run, key) index whatever the table's
        statistics say (right after a million-item run they are stale, and the planner then
        scanned the whole table)."""
        if not previous_count:
            return super().previous_items_join(item_t, previous_count)
        ids = ", ".join(["%s"] * previous_count)
        return (
            f"LEFT JOIN LATERAL (SELECT {PREVIOUS_COLUMNS} FROM {item_t} p "  # noqa: S608
            f"WHERE p.run_id = f.prev_run_id AND p.key = f.item_key AND p.run_id IN ({ids})) p "
            "ON TRUE"
        )

    def tune_transaction(self) -> None:
        """No JIT (compiling the big INSERT took longer than running it) and room to sort a
        chunk's lines in memory rather than on disk, for this transaction only."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)",
                [WORK_MEM],
            )

    def create_staged(self, name: str, select: str) -> str:
        return f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}"

    def drop_staged(self, names: Sequence[str]) -> list[str]:
        return [f"DROP TABLE IF EXISTS {', '.join(f'pg_temp.{name}' for name in names)}"]

    def describe_staged(self, keys: dict[str, Sequence[str]]) -> list[str]:
        """``ANALYZE`` of the key columns (a sample of 30,000 rows, whatever the size): the
        planner then knows each staged table's size and the distinct values of its keys, so it hashes big sets instead of looping over sets it guessed small
        (issue 14: a 10-row guess turned the "missing on statement" anti-join into a nested
        loop, quadratic in the statement's size)."""
        tables = ", ".join(f"{name} ({', '.join(columns)})" for name, columns in keys.items())
        return [f"ANALYZE {tables}"]

    def insert_items(self, sql: str, params: Sequence[Any]) -> list[tuple] | None:
        """The ``INSERT`` as a data-modifying CTE whose rows are grouped as
        ``outcome.summaries`` groups them: a million items are not read back a second time."""
        with self.connection.cursor() as cursor:
            cursor.execute(self._summarised(sql), list(params))
            return cursor.fetchall()

    @staticmethod
    def _summarised(sql: str) -> str:
        head, insert = sql.split("\nINSERT INTO ", 1)
        return (
            f"{head},\ninserted AS (\nINSERT INTO {insert}\n"
            "RETURNING run_id, status, is_exception, resolution, flagged, statement_amount, "
            "entry_amount, difference\n)\n"
            "SELECT run_id, status, COUNT(*), "
            "COUNT(*) FILTER (WHERE is_exception), "
            "COUNT(*) FILTER (WHERE is_exception AND resolution = ''), "
            "COUNT(*) FILTER (WHERE flagged), "
            "COALESCE(SUM(statement_amount), 0), COALESCE(SUM(entry_amount), 0), "
            "COALESCE(SUM(difference), 0) "
            "FROM inserted GROUP BY run_id, status"
        )


_DIALECTS: dict[str, type[Dialect]] = {"postgresql": PostgreSQL, "sqlite": Dialect}


def for_connection(conn: BaseDatabaseWrapper | None = None) -> Dialect:
    """The dialect of ``conn`` (the default connection if None); refuses other databases."""
    conn = connection if conn is None else conn
    try:
        return _DIALECTS[conn.vendor](conn)
    except KeyError:
        raise NotImplementedError(
            f"Reconciliation runs on PostgreSQL or SQLite, not {conn.vendor}."
        ) from None
