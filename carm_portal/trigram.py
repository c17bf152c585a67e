"""Whether PostgreSQL's ``pg_trgm`` extension is there, and creating it when the role may.

``CREATE EXTENSION pg_trgm`` needs a role allowed to create it (a superuser, or the database's
owner on PostgreSQL 13+ where pg_trgm is a trusted extension). A managed database often gives the
application a role that may not: the migrations then skip the trigram indexes with a message
instead of failing, and the search keeps working without them (``icontains`` still matches, only
slower on a large table, and ``clients.search.best_first`` orders by name instead of closeness).
"""

from __future__ import annotations

import sys
from typing import Any

from django.db import DatabaseError, transaction

EXTENSION = "pg_trgm"

SKIPPED = (
    "pg_trgm could not be created ({error}): the search's trigram indexes are skipped and the "
    "search works without them. Ask the database administrator to run "
    '"CREATE EXTENSION pg_trgm;" in this database, then migrate again.'
)

_known: dict[str, bool] = {}


def installed(connection: Any) -> bool:
    """``pg_trgm`` is installed in ``connection``'s database (never on SQLite).

    Asked once per database and process (the extension does not come and go while it serves).
    """
    if connection.vendor != "postgresql":
        return False
    key = connection.settings_dict["NAME"]
    if key not in _known:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [EXTENSION])
            _known[key] = cursor.fetchone() is not None
    return _known[key]


def forget() -> None:
    """Ask the database again next time (after a migration creates or drops the extension)."""
    _known.clear()


def create_extension(schema_editor: Any) -> bool:
    """Create ``pg_trgm`` if it is missing and the role may; say so and go on when it may not.

    Returns whether the extension is there afterwards. The attempt runs in a savepoint so a
    refusal does not abort the migration's transaction.
    """
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return False
    forget()
    if installed(connection):
        return True
    try:
        with transaction.atomic(using=connection.alias):
            schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}")
    except DatabaseError as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        sys.stderr.write(SKIPPED.format(error=first_line) + "\n")
        forget()
        return False
    forget()
    return True
