"""``Statement.status`` as reconciliation decides it: ``reconciled`` when the current run has no
open exception and the balance checks out, ``open`` again when that stops being true; ``paid``
belongs to the payments app and is never changed here. The runs call ``set_statement_status``;
the workflow and payments call ``refresh_statement_status``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from django.db.models import Exists, OuterRef
from django.utils import timezone

from carm_portal.bulk import snapshot_history
from statements.models import ReconciliationItem, ReconciliationRun, Statement

Run = ReconciliationRun


def set_statement_status(clean: dict[int, bool], *, now: dt.datetime) -> int:
    """``reconciled`` for the clean statements, ``open`` again for the others that were
    reconciled; paid ones stay paid. One read, then per direction one UPDATE and one history
    snapshot, whatever the number of statements."""
    statuses = dict(
        Statement.objects.filter(pk__in=list(clean)).values_list("pk", "status").order_by()
    )
    changes: dict[str, list[int]] = {
        Statement.Status.RECONCILED: [
            pk for pk, ok in clean.items() if ok and statuses.get(pk) == Statement.Status.OPEN
        ],
        Statement.Status.OPEN: [
            pk
            for pk, ok in clean.items()
            if not ok and statuses.get(pk) == Statement.Status.RECONCILED
        ],
    }
    return apply_statement_status(changes, now=now)


def apply_statement_status(changes: Mapping[str, list[int]], *, now: dt.datetime) -> int:
    changed = 0
    for status, ids in changes.items():
        if ids:
            # Checked again in the UPDATE itself: a payment refresh may have marked one paid
            # since the ids were read, and paid belongs to the payments app.
            updated = Statement.objects.filter(pk__in=ids).exclude(status=Statement.Status.PAID)
            changed += updated.update(status=status, updated_at=now)
            snapshot_history(
                Statement.objects.filter(pk__in=ids, status=status),
                history_type="~",
                when=now,
                reason="Reconciliation",
            )
    return changed


def _refresh_statement_status(statement_ids: Sequence[int], *, now: dt.datetime) -> int:
    """Mark ``reconciled`` the statements whose current run has no open exception and whose
    balance checks out, and ``open`` again those that no longer qualify; paid ones stay paid.
    Each change gets a history record."""
    current = Run.objects.filter(statement=OuterRef("pk"), is_current=True)
    clean = Exists(current.filter(balance_ok=True)) & ~Exists(
        ReconciliationItem.objects.filter(
            run__statement=OuterRef("pk"), run__is_current=True, is_exception=True, resolution=""
        )
    )
    statements = Statement.objects.filter(pk__in=statement_ids).exclude(
        status=Statement.Status.PAID
    )
    changes: dict[str, list[int]] = {
        Statement.Status.RECONCILED: list(
            statements.filter(clean)
            .exclude(status=Statement.Status.RECONCILED)
            .values_list("pk", flat=True)
        ),
        Statement.Status.OPEN: list(
            statements.filter(~clean)
            .filter(status=Statement.Status.RECONCILED)
            .values_list("pk", flat=True)
        ),
    }
    return apply_statement_status(changes, now=now)


def refresh_statement_status(statements: Iterable[Statement | int]) -> int:
    """Re-derive ``reconciled``/``open`` after people resolved or reopened items (the workflow)."""
    ids = [s if isinstance(s, int) else s.pk for s in statements]
    return _refresh_statement_status(ids, now=timezone.now())
