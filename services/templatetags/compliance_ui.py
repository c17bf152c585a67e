"""Compliance flags on the pages of the apps below services (the importer and statement pages).

Those apps never import services: their templates load this library, which asks
``clients.access`` first and shows nothing to a user without ``view_finance``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.db.models import Count

from carm_portal.calendar import cbsa_today
from clients import access
from clients.access import Perm
from clients.models import Importer
from services.compliance.corrections import days_left
from services.compliance.late_accounting import first_versions, is_late_q
from services.compliance.readiness_queries import with_readiness
from services.models import Correction
from statements.billing import cad_due_date
from statements.models import BrokerEntry, ReconciliationItem, Statement, StatementLine

register = template.Library()

PANEL_DAYS = 90
PANEL_CORRECTIONS = 5


@register.inclusion_tag("compliance/_importer_panel.html", takes_context=True)
def compliance_panel(context: template.Context, importer: Importer) -> dict[str, Any]:
    """Open corrections (nearest deadline first) and CADs accounted late in the last 90 days."""
    request = context["request"]
    if not access.can(request.user, Perm.VIEW_FINANCE, importer):
        return {"show": False}
    today = cbsa_today()
    open_corrections = Correction.objects.filter(importer=importer, status=Correction.Status.OPEN)
    corrections = list(open_corrections.order_by("deadline", "id")[:PANEL_CORRECTIONS])
    for c in corrections:
        c.days_left = days_left(c, today=today)  # type: ignore[attr-defined]
    entries = first_versions(
        importer_ids=[importer.pk], since=today - dt.timedelta(days=PANEL_DAYS)
    )
    # Both counts in one query whatever the entries (a late count on its own costs none when
    # there is nothing to look at, and the page's query count would then depend on the data).
    counts = entries.order_by().aggregate(
        total=Count("pk"), late=Count("pk", filter=is_late_q(entries))
    )
    return {
        "show": True,
        "importer": importer,
        "corrections": corrections,
        "open_count": open_corrections.count(),
        "late_count": counts["late"],
        "entry_count": counts["total"],
        "days": PANEL_DAYS,
    }


@register.inclusion_tag("compliance/_readiness_panel.html", takes_context=True)
def readiness_panel(context: template.Context, importer: Importer) -> dict[str, Any]:
    """The latest readiness score and the open follow-ups, in one query whatever the data (the
    importer page keeps its query count); nothing for a user without ``view_readiness``."""
    if not access.can(context["request"].user, Perm.VIEW_READINESS, importer):
        return {"show": False}
    names = ("readiness_score", "readiness_on", "open_gap_count", "overdue_gap_count")
    # Only the four figures: no importer row to build, no column the panel does not show.
    rows = with_readiness(Importer.objects.filter(pk=importer.pk), cbsa_today()).values(*names)
    row = rows.first() or {}
    values = {n: row.get(n) for n in names}
    if values["readiness_score"] is not None:  # SQLite's subquery gives it with 13 places
        values["readiness_score"] = Decimal(values["readiness_score"]).quantize(Decimal("0.01"))
    return {"show": True, "importer": importer, **values}


@register.simple_tag(takes_context=True)
def late_cads(context: template.Context, statement: Statement) -> frozenset[str]:
    """The transaction numbers of the statement's CAD lines whose first version was accounted
    late, to flag the lines (empty for a user who may not see finance)."""
    if not access.can(
        context["request"].user, Perm.VIEW_FINANCE, statement.program_account.importer_id
    ):
        return frozenset()
    rows = BrokerEntry.objects.filter(
        program_account_id=statement.program_account_id,
        version=1,
        transaction_number__in=StatementLine.objects.filter(
            statement=statement, line_type=StatementLine.LineType.CAD
        ).values("transaction_number"),
    ).values_list("transaction_number", "release_date", "accounted_on")
    # One query (the statement page keeps its query budget); the rule applied row by row, each
    # release date's due date worked out once.
    due: dict[dt.date, dt.date] = {}
    late = set()
    for number, released, accounted in rows.iterator(chunk_size=5000):
        if released not in due:
            due[released] = cad_due_date(released)
        if accounted > due[released]:
            late.add(number)
    return frozenset(late)


@register.simple_tag(takes_context=True)
def correction_for(context: template.Context, item: ReconciliationItem) -> Correction | None:
    """The correction opened from this finding (by statement and key, so it survives reruns),
    else the open correction of the same CAD; None for a user who may not see finance."""
    if not item.transaction_number or not access.can(
        context["request"].user, Perm.VIEW_FINANCE, item.importer_id
    ):
        return None
    corrections = Correction.objects.filter(
        program_account_id=item.statement.program_account_id,
        transaction_number=item.transaction_number,
    )
    return (
        corrections.filter(statement_id=item.statement_id, reconciliation_key=item.key)
        .order_by("-id")
        .first()
        or corrections.filter(status=Correction.Status.OPEN).first()
    )
