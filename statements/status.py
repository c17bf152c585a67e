"""``Statement.status``: the statements app writes it; other apps ask through this module.

Two parties decide a statement's status, each for its own states:

* reconciliation (``statements/reconciliation/status.py``) moves ``open`` <-> ``reconciled`` from the current
  run, and never touches ``paid``;
* payments decide which statements are paid in full (from their balances) and call ``set_paid``,
  which moves ``open``/``reconciled`` -> ``paid`` and ``paid`` -> ``open``. A reopened statement
  goes straight through ``refresh_statement_status``, which makes it ``reconciled`` again when its
  current run is clean (rather than leaving it ``open`` until its next run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db.models import Q
from django.utils.translation import gettext as _

from carm_portal.bulk import snapshot_history
from statements.models import Statement
from statements.reconciliation.status import refresh_statement_status


def set_paid(*, statement_ids: Collection[int], paid: Q, now: dt.datetime) -> tuple[int, int]:
    """Mark ``paid`` the statements among ``statement_ids`` that match ``paid`` (a filter on
    ``Statement`` given by the payments app), and ``open`` again the paid ones that no longer do;
    returns (marked paid, reopened).

    Set-based: one ``UPDATE … WHERE id IN (SELECT …)`` per direction and one ``INSERT … SELECT``
    history snapshot each, whatever the number of statements. ``updated_at`` is set to ``now`` (the
    caller's computation time, so its own rows computed at ``now`` do not look stale).
    """
    statements = Statement.objects.filter(pk__in=list(statement_ids))
    is_paid = Q(status=Statement.Status.PAID)
    moves = (
        (~is_paid, statements.filter(paid), Statement.Status.PAID, _("Paid in full")),
        (
            is_paid,
            statements.exclude(paid),
            Statement.Status.OPEN,
            _("No longer paid in full"),
        ),
    )
    counts = []
    for current, candidates, status, reason in moves:
        # The status test on the updated table itself, not only in the subquery: PostgreSQL
        # re-checks it if a concurrent reconciliation changed the row meanwhile.
        changed = (
            Statement.objects.filter(current)
            .filter(pk__in=candidates.values("pk"))
            .update(status=status, updated_at=now)
        )
        if changed:  # the rows just moved are the ones of that status stamped ``now``
            snapshot_history(
                statements.filter(status=status, updated_at=now),
                history_type="~",
                when=now,
                reason=str(reason),
            )
        counts.append(changed)
    if counts[1]:
        refresh_statement_status(
            statements.filter(status=Statement.Status.OPEN, updated_at=now).values_list(
                "pk", flat=True
            )
        )
    return counts[0], counts[1]
