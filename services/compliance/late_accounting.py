"""Late accounting: which CADs were accounted after their due date, and how often, by month.

The rule is ``statements.timeliness`` (the CAD due date is ``statements.billing.cad_due_date``):
this module asks it for the entries of some importers and turns them into page rows and monthly
rates per importer and per agent, each in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from statements.billing import cad_due_date
from statements.models import BrokerEntry
from statements.timeliness import FIRST_VERSION, days_late, late_filter


@dataclass(frozen=True)
class MonthlyRate:
    key: int | None  # the importer's or agent's id (None: no agent assigned)
    month: dt.date
    total: int
    late: int

    @property
    def percent(self) -> float:
        return round(100 * self.late / self.total, 1) if self.total else 0.0


def _release_dates(entries: QuerySet[BrokerEntry]) -> list[dt.date]:
    return list(entries.order_by().values_list("release_date", flat=True).distinct())


def first_versions(
    *, importer_ids: Collection[int] | None = None, since: dt.date | None = None
) -> QuerySet[BrokerEntry]:
    entries = BrokerEntry.objects.filter(version=FIRST_VERSION)
    if importer_ids is not None:
        entries = entries.filter(program_account__importer_id__in=list(importer_ids))
    if since is not None:
        entries = entries.filter(accounted_on__gte=since)
    return entries


def late_entries(entries: QuerySet[BrokerEntry]) -> QuerySet[BrokerEntry]:
    """``entries`` narrowed to the first versions accounted late (two queries in all)."""
    return entries.filter(late_filter(_release_dates(entries)))


def decorate(entries: list[BrokerEntry]) -> list[BrokerEntry]:
    """Set ``due_on`` and ``days_late`` on entries shown on a page."""
    for entry in entries:
        entry.due_on = cad_due_date(entry.release_date)  # type: ignore[attr-defined]
        entry.days_late = days_late(  # type: ignore[attr-defined]
            release_date=entry.release_date, accounted_on=entry.accounted_on
        )
    return entries


def monthly_rates(entries: QuerySet[BrokerEntry], *, by: str) -> list[MonthlyRate]:
    """Late and total first versions per month, grouped by ``by`` (an entries path such as
    ``program_account__importer`` or ``program_account__importer__assigned_agent``)."""
    late = late_filter(_release_dates(entries))
    rows = (
        entries.order_by()
        .annotate(month=TruncMonth("accounted_on"))
        .values(by, "month")
        .annotate(total=Count("pk"), late=Count("pk", filter=late))
        .order_by(by, "-month")
    )
    return [
        MonthlyRate(key=row[by], month=_as_date(row["month"]), total=row["total"], late=row["late"])
        for row in rows
    ]


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def late_counts_by_importer(
    entries: QuerySet[BrokerEntry],
) -> dict[int, int]:
    """Importer id → number of late first versions among ``entries``."""
    late = late_filter(_release_dates(entries))
    return dict(
        entries.order_by()
        .values("program_account__importer")
        .annotate(n=Count("pk", filter=late))
        .filter(n__gt=0)
        .values_list("program_account__importer", "n")
    )


def is_late_q(entries: QuerySet[BrokerEntry]) -> Q:
    return late_filter(_release_dates(entries))
