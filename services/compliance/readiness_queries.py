"""Reading readiness: the current check of an importer, its open follow-ups, the portfolio view.

One rule for "open": a follow-up is open while it is not done **and** it belongs to the importer's
latest check. Taking a new check supersedes the follow-ups of the previous one (the new check asks
every question again: what is still a gap is a gap of the new check, with its own owner and date),
so a list never shows the same gap twice and the counts on the importer page, the readiness page,
the portfolio and the follow-up list agree.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from clients.models import Importer
from services.models import ReadinessCheck, ReadinessGap


def latest_check_id() -> Subquery:
    """The id of the latest check of the importer ``OuterRef("importer")`` names (for subqueries)."""
    return Subquery(
        ReadinessCheck.objects.filter(importer=OuterRef("importer"))
        .order_by("-taken_at", "-id")
        .values("pk")[:1]
    )


def latest_check(importer: Importer | int) -> ReadinessCheck | None:
    importer_id = importer if isinstance(importer, int) else importer.pk
    return (
        ReadinessCheck.objects.filter(importer_id=importer_id)
        .select_related("taken_by")
        .order_by("-taken_at", "-id")
        .first()
    )


def open_gaps(gaps: QuerySet[ReadinessGap] | None = None) -> QuerySet[ReadinessGap]:
    """The follow-ups still to do: not done, of their importer's latest check."""
    gaps = ReadinessGap.objects.all() if gaps is None else gaps
    return gaps.filter(done_at=None).alias(current=latest_check_id()).filter(check_run=F("current"))


def overdue_q(today: dt.date, *, prefix: str = "") -> Q:
    """A follow-up past its due date (the due date itself is still on time)."""
    return Q(**{f"{prefix}due_on__lt": today})


def with_readiness(importers: QuerySet[Importer], today: dt.date) -> QuerySet[Importer]:
    """``importers`` annotated with their latest check (``readiness_score``, ``readiness_on``) and
    their open and overdue follow-ups: one query for a whole list."""
    latest = ReadinessCheck.objects.filter(importer=OuterRef("pk")).order_by("-taken_at", "-id")
    gaps = (
        open_gaps()
        .filter(importer=OuterRef("pk"))
        .order_by()
        .values("importer")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=overdue_q(today)),
        )
    )
    return importers.annotate(
        readiness_score=Subquery(latest.values("score")[:1]),
        readiness_on=Subquery(latest.values("taken_on")[:1]),
        readiness_check=Subquery(latest.values("pk")[:1]),
        open_gap_count=Coalesce(Subquery(gaps.values("n"), output_field=IntegerField()), 0),
        overdue_gap_count=Coalesce(Subquery(gaps.values("late"), output_field=IntegerField()), 0),
    )
