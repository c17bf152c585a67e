"""Progress written from a long job onto the row a page polls, while the job's own transaction is
still open.

A job that runs in one transaction (an import, a reconciliation) cannot show progress through its
own connection: nothing it writes is visible until it commits. On PostgreSQL the progress
therefore goes through a second connection in autocommit, at most every ``every`` seconds. SQLite
allows one writer at a time, so there (and when the caller is already inside a transaction whose
lock a second connection would wait on) the job writes only its outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

log = logging.getLogger(__name__)

EVERY_SECONDS = 0.5


class SideWriter:
    """Runs small UPDATEs on a side connection, throttled; never fails the job over them."""

    def __init__(self, *, what: str, every: float | None = None):
        self.what = what
        self.every = EVERY_SECONDS if every is None else every
        self.live = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.last = 0.0
        self._connection: BaseDatabaseWrapper | None = None

    def write(self, sql: str, params: Sequence[Any], *, force: bool = False) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        try:
            if self._connection is None:
                self._connection = connections.create_connection(DEFAULT_DB_ALIAS)
            with self._connection.cursor() as cursor:
                cursor.execute(sql, list(params))
        except Exception:  # progress is a nicety: never fail the job over it
            log.warning("Could not record progress for %s", self.what)
            self.live = False

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
