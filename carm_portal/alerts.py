"""Recording a check's findings in an alert table, set-based and idempotent, for every app.

A daily check (delegations, payments, security) computes what is wrong today; this turns that into
alert rows: new findings inserted (COPY where available) with a history record, findings that come
back reopened, and open alerts whose cause is gone resolved. An alert table has ``importer``,
``key`` (unique per importer), ``raised_on``, ``raised_at``, ``resolved_at`` and ``resolution``
(``COMMON_COLUMNS``, filled here); each app names the rest of a new row's columns with a
``NamedTuple`` whose fields are the column names (``DelegationAlertRow``, ``PaymentAlertRow``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from carm_portal.bulk import chunks, copy_rows, snapshot_history, update_rows

COMMON_COLUMNS = ("importer_id", "key", "raised_on", "raised_at", "resolved_at", "resolution")


# A ``NamedTuple`` of an alert table's own columns: its ``_fields`` are the column names. Typed as
# the tuple it is (a Protocol with ``_fields`` does not match NamedTuple classes in mypy).
AlertRow = tuple[Any, ...]


@dataclass
class Recorded:
    raised: int = 0
    reopened: list[int] = field(default_factory=list)
    resolved: int = 0


def record_alerts(
    *,
    model: type[Model],
    existing: QuerySet,
    wanted: Mapping[tuple[int, str], Any],
    row_type: type[AlertRow],
    row: Callable[[Any], AlertRow],
    today: dt.date,
    now: dt.datetime,
    reopen_values: Mapping[str, object] | None = None,
) -> Recorded:
    """Bring ``existing`` (the alerts in the check's scope) in line with ``wanted``.

    ``wanted`` maps (importer id, key) to a finding; ``row(finding)`` gives a new alert's own
    columns as a ``row_type`` record (the common ones come from here). ``reopen_values`` are extra fields reset when a
    resolved alert comes back (e.g. its notification stamps, so it is news again).
    """
    objects = model._default_manager  # the alert models' only manager, ``objects``
    known = {
        (importer_id, key): (pk, resolved_at is None)
        for pk, importer_id, key, resolved_at in existing.values_list(
            "id", "importer_id", "key", "resolved_at"
        ).iterator(chunk_size=5000)
    }
    recorded = Recorded()
    recorded.raised = copy_rows(
        model,
        (*COMMON_COLUMNS, *row_type._fields),  # type: ignore[attr-defined]  # a NamedTuple's
        (
            (importer_id, key, today, now, None, "", *_checked(row(f), row_type))
            for (importer_id, key), f in wanted.items()
            if (importer_id, key) not in known
        ),
    )
    if recorded.raised:
        snapshot_history(objects.filter(raised_at=now), history_type="+", when=now)

    recorded.reopened = [pk for k, (pk, is_open) in known.items() if k in wanted and not is_open]
    for chunk in chunks(recorded.reopened):
        objects.filter(pk__in=chunk).update(
            resolved_at=None, resolution="", raised_on=today, **(reopen_values or {})
        )
        snapshot_history(
            objects.filter(pk__in=chunk), history_type="~", when=now, reason="Reopened"
        )

    to_resolve = [pk for k, (pk, is_open) in known.items() if k not in wanted and is_open]
    if to_resolve:
        resolution = _("Resolved by the check of %(day)s: the cause is gone.") % {
            "day": today.isoformat()
        }
        update_rows(
            model, ["resolved_at", "resolution"], ((now, resolution, pk) for pk in to_resolve)
        )
        snapshot_history(
            objects.filter(resolved_at=now), history_type="~", when=now, reason="Resolved"
        )
    recorded.resolved = len(to_resolve)
    return recorded


def _checked(record: AlertRow, row_type: type[AlertRow]) -> AlertRow:
    if not isinstance(record, row_type):  # a bare tuple would be matched to columns by position
        raise TypeError(f"an alert row must be a {row_type.__name__}, not {type(record).__name__}")
    return record
