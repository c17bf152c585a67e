"""Writing checked rows into a table: PostgreSQL ``COPY`` (psycopg's ``cursor.copy``), or
``executemany`` in batches of ``FLUSH_ROWS`` elsewhere; and rows in ``COPY``'s text format for the
block pass.

``FLUSH_ROWS`` is the import's memory bound where there is no ``COPY``: what is held grows with it,
never with the number of rows in a file. The SQL here builds only identifiers from the models' own
table and column names (``# noqa: S608``); every value goes through ``COPY`` or is a bound parameter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Field, Model

log = logging.getLogger(__name__)

FLUSH_ROWS = 10_000  # rows held before they are written (without COPY): the memory bound


# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped
_COPY_SPECIAL_RE = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class Writer:
    """Rows into a table: one ``COPY`` kept open on PostgreSQL, ``executemany`` batches elsewhere.

    On PostgreSQL each row is handed to the server as soon as it is checked, so the server inserts
    while Python reads the next rows; ``pause()`` ends the ``COPY`` when another query must run
    (the next row opens a new one). Elsewhere rows wait in a buffer of ``FLUSH_ROWS``.
    """

    def __init__(self, table: str, columns: list[str]):
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        self.copy_sql = f"COPY {quote(table)} ({names}) FROM STDIN"
        self.insert_sql = (
            f"INSERT INTO {quote(table)} ({names}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.streaming = connection.vendor == "postgresql"
        self.buffer: list[tuple] = []
        self.count = 0
        self._cursor: Any = None
        self._context: Any = None
        self._copy: Any = None

    def add(self, row: tuple) -> None:
        self.count += 1
        if self.streaming:
            (self._copy or self._open()).write_row(row)
            return
        self.buffer.append(row)
        if len(self.buffer) >= FLUSH_ROWS:
            self.pause()

    def add_block(self, text: str, rows: int) -> None:
        """Rows already in ``COPY``'s text format, one per line (PostgreSQL only)."""
        self.count += rows
        (self._copy or self._open()).write(text)

    def _open(self) -> Any:
        self._cursor = connection.cursor()
        self._context = self._cursor.copy(self.copy_sql)
        self._copy = self._context.__enter__()
        return self._copy

    def pause(self) -> None:
        """Send what is pending and end the ``COPY``, so that other queries may run."""
        if self._copy is not None:
            context, cursor = self._context, self._cursor
            self._copy = self._context = self._cursor = None
            context.__exit__(None, None, None)
            cursor.close()
        if self.buffer:
            with connection.cursor() as cursor:
                cursor.executemany(self.insert_sql, self.buffer)
            self.buffer.clear()

    close = pause

    def abandon(self) -> None:
        """Stop writing (the file is refused; its transaction will be rolled back).

        Also called on the way out of an exception, so never leaves a ``COPY`` half open (the
        connection would wait for data forever and the rollback would never run).
        """
        self.buffer.clear()
        try:
            self.pause()
        except DatabaseError:
            pass
        except Exception as exc:  # psycopg's own errors when the COPY had already failed
            log.debug("Ending an abandoned COPY: %s", exc)


def columns_of(model: type[Model], names: Iterable[str]) -> list[str]:
    columns = []
    for name in names:
        model_field = model._meta.get_field(name)
        assert isinstance(model_field, Field) and model_field.column  # concrete: it has a column
        columns.append(model_field.column)
    return columns


def copy_block(columns: list[Iterable[str]]) -> str:
    """Rows for ``COPY``'s text format from their columns (only references may need escapes:
    every other value has been checked to be digits, dates, codes)."""
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def copy_safe(references: tuple[str, ...]) -> Sequence[str]:
    if _COPY_SPECIAL_RE.search("".join(references)):
        return [reference.translate(_COPY_ESCAPES) for reference in references]
    return references
