"""How far an import has read, written onto its batch row while it runs (the batch page's bar)."""

from __future__ import annotations

from django.db import connection

from carm_portal.progress import SideWriter
from statements.models import ImportBatch


class Progress:
    """Writes how far an import has read onto its batch row, where the batch page reads it.

    The import runs in one transaction, so the writes go through ``carm_portal.progress`` (a side
    connection on PostgreSQL; elsewhere only the outcome is written, when the import ends).
    """

    def __init__(self, batch: ImportBatch):
        self.batch_id = batch.pk
        self._side = SideWriter(what=f"import batch {batch.pk}")
        table = connection.ops.quote_name(ImportBatch._meta.db_table)
        self.sql = f"UPDATE {table} SET phase = %s, bytes_read = %s, row_count = %s WHERE id = %s"  # noqa: S608

    @classmethod
    def for_batch(cls, batch: ImportBatch) -> Progress:
        return cls(batch)

    @property
    def live(self) -> bool:
        return self._side.live

    def update(self, *, phase: str, bytes_read: int, rows: int, force: bool = False) -> None:
        self._side.write(self.sql, [phase[:40], bytes_read, rows, self.batch_id], force=force)

    def close(self) -> None:
        self._side.close()
