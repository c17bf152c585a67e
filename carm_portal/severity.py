"""How urgent an alert or a finding is: the three severities and their order, in one place.

The delegation and payment checks grade their findings with ``Severity``; the alert models store
it (``DelegationAlert.Severity`` and ``PaymentAlert.Severity`` are this class); pages, emails and
the API list the most urgent first with ``severity_rank`` (Python) or ``severity_order`` (SQL).
Alphabetical order would put "advice" first, so never ``order_by("severity")``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    BLOCKING = "blocking", _("Blocking")
    WARNING = "warning", _("Warning")
    ADVICE = "advice", _("Advice")


RANK: dict[str, int] = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.ADVICE: 2}


def severity_rank(severity: str) -> int:
    """0 for the most urgent; a value that is not a severity sorts last."""
    return RANK.get(severity, len(RANK))


def severity_order(field: str = "severity") -> Case:
    """``severity_rank`` as an SQL expression, for ``order_by``."""
    return Case(
        *(When(**{field: value}, then=Value(rank)) for value, rank in RANK.items()),
        default=Value(len(RANK)),
        output_field=IntegerField(),
    )
