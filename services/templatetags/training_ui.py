"""Training on the pages of the apps below services: the staff importer page's panel (who is
trained for what) and, on an importer's home, the signed-in person's own completions.

Those apps never import services: their templates load this library, which asks
``clients.access`` first. Each tag costs a fixed number of queries whatever the number of
people or completions (the pages' query-count tests hold).
"""

from __future__ import annotations

from typing import Any

from django import template

from carm_portal.calendar import cbsa_today
from clients import access
from clients.access import Perm
from clients.models import Importer
from services.compliance.training import (
    EXPIRED,
    EXPIRING,
    current_training,
    latest,
    status_of,
    valid_until,
)
from services.models import TrainingCompletion

register = template.Library()


@register.inclusion_tag("compliance/training/_importer_panel.html", takes_context=True)
def training_panel(context: template.Context, importer: Importer) -> dict[str, Any]:
    """Who of the importer's people is trained for what, each with its status (one query)."""
    user = context["request"].user
    if not access.can(user, Perm.VIEW_TRAINING, importer):
        return {"show": False}
    today = cbsa_today()
    rows = list(current_training([importer.pk]))
    statuses = [status_of(row, today=today) for row in rows]
    for row, status in zip(rows, statuses, strict=True):
        row.status = status  # type: ignore[attr-defined]
        row.valid_until = valid_until(row)  # type: ignore[attr-defined]
    return {
        "show": True,
        "importer": importer,
        "rows": rows,
        "expired": statuses.count(EXPIRED),
        "expiring": statuses.count(EXPIRING),
        "can_record": access.can(user, Perm.RECORD_TRAINING, importer),
    }


@register.inclusion_tag("compliance/training/_my_training.html", takes_context=True)
def my_training(context: template.Context, importer: Importer) -> dict[str, Any]:
    """The signed-in person's latest completion of each course for ``importer`` (one query), and
    for its BAM a link to everyone's training."""
    user = context["request"].user
    today = cbsa_today()
    rows = list(
        latest(TrainingCompletion.objects.filter(importer=importer, membership__user=user))
        .select_related("course")
        .order_by("course__role", "course__name")
    )
    for row in rows:
        row.status = status_of(row, today=today)  # type: ignore[attr-defined]
        row.valid_until = valid_until(row)  # type: ignore[attr-defined]
    return {
        "importer": importer,
        "rows": rows,
        "can_view_all": access.can(user, Perm.VIEW_TRAINING, importer),
    }
