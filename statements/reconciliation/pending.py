"""Keeping ``Statement.reconciliation_pending``: whether a reconciliation should (re)visit it.

The rule is ``selectors.pending_q``; this writes its answer onto the statements whose answer may
have changed, in the transaction that changed it: those whose run became current
(``outcome.finish_runs``) and those of the accounts an entries file brought entries for
(``entries_received.note_entries_received``). A new statement is pending from the start (the
column's default), so the import has nothing to write.
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, QuerySet, Value, When

from statements.models import Statement
from statements.reconciliation.selectors import pending_q


def refresh_pending(statements: QuerySet[Statement]) -> int:
    """Write ``pending_q``'s answer onto ``statements`` (one UPDATE); returns the rows written."""
    return statements.update(
        reconciliation_pending=Case(
            When(pending_q(), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )
