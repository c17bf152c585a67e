"""Phase and percent of running runs, written where the statement page polls them."""

from __future__ import annotations

from django.db import connection

from carm_portal.progress import SideWriter
from statements.models import ReconciliationRun


class RunProgress:
    """Writes phase and percent onto the run rows where the statement page polls them.

    The run works in one transaction, invisible until it commits, so the writes go through
    ``carm_portal.progress`` (a side connection on PostgreSQL; elsewhere, or inside a caller's
    transaction, the outcome alone is written).
    """

    def __init__(self, run_ids: list[int]):
        self._side = SideWriter(what=f"reconciliation runs {run_ids[:5]}")
        self.narrow(run_ids)

    def narrow(self, run_ids: list[int]) -> None:
        """Write to these runs only from now on."""
        self.run_ids = list(run_ids)
        placeholders = ", ".join(["%s"] * len(run_ids))
        table = connection.ops.quote_name(ReconciliationRun._meta.db_table)
        self.sql = (
            f"UPDATE {table} SET phase = %s, percent = %s "  # noqa: S608
            f"WHERE id IN ({placeholders}) AND status = 'running'"
        )

    @classmethod
    def for_runs(cls, run_ids: list[int]) -> RunProgress:
        return cls(run_ids)

    @property
    def live(self) -> bool:
        return self._side.live

    def update(self, phase: str, percent: int, *, force: bool = False) -> None:
        self._side.write(self.sql, [phase[:60], percent, *self.run_ids], force=force)

    def close(self) -> None:
        self._side.close()
