"""carm_portal.bulk: set-based inserts and history snapshots, on SQLite and PostgreSQL alike."""

import datetime as dt

import pytest
from django.utils import timezone

from carm_portal.bulk import chunks, copy_rows, snapshot_history
from delegation.models import DelegationAlert
from tests.factories import ImporterFactory

pytestmark = pytest.mark.django_db


def test_copy_rows_inserts_every_row_with_its_values():
    importer = ImporterFactory()
    now = timezone.now()
    rows = [
        (
            importer.pk,
            None,
            "no_delegation",
            "blocking",
            f"message {n}",
            None,
            f"k{n}",
            dt.date(2026, 11, 23),
            now,
            None,
            "",
        )
        for n in range(1203)  # more than one SQLite chunk
    ]
    columns = [
        "importer_id", "delegation_id", "kind", "severity", "message", "expiry_date",
        "key", "raised_on", "raised_at", "resolved_at", "resolution",
    ]  # fmt: skip
    assert copy_rows(DelegationAlert, columns, iter(rows)) == 1203
    assert DelegationAlert.objects.count() == 1203
    alert = DelegationAlert.objects.get(key="k1202")
    assert (alert.message, alert.raised_at, alert.resolved_at) == ("message 1202", now, None)
    assert DelegationAlert.objects.filter(raised_at=now).count() == 1203  # stored as the ORM would


def test_snapshot_history_records_the_rows_as_they_are():
    importer = ImporterFactory()
    now = timezone.now()
    for n in range(3):
        DelegationAlert.objects.create(
            importer=importer,
            kind="blank_expiry",
            severity="blocking",
            message="m",
            key=f"k{n}",
            raised_on=dt.date(2026, 11, 23),
        )
    DelegationAlert.objects.filter(key__in=["k0", "k1"]).update(resolution="fixed", resolved_at=now)
    written = snapshot_history(
        DelegationAlert.objects.filter(resolved_at=now),
        history_type="~",
        when=now,
        reason="Resolved",
    )
    assert written == 2
    records = DelegationAlert.history.filter(history_type="~").order_by("key")
    assert [(r.key, r.resolution, r.history_change_reason, r.history_date) for r in records] == [
        ("k0", "fixed", "Resolved", now),
        ("k1", "fixed", "Resolved", now),
    ]


def test_chunks():
    assert [list(c) for c in chunks([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
