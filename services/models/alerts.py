"""The daily compliance check's findings: correction deadlines, late accounting, retention,
training refreshers and readiness follow-ups.

Recorded by ``carm_portal.alerts.record_alerts`` like the delegation and payment alerts: one row
per (importer, key), the key naming the thing and the occasion, so a rerun records nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal import stored_text
from carm_portal.severity import Severity

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carm_portal.models import User


class ComplianceAlert(models.Model):
    class Kind(models.TextChoices):
        CORRECTION_DUE = "correction_due", _("Correction due")
        CORRECTION_OVERDUE = "correction_overdue", _("Correction overdue")
        LATE_ACCOUNTING = "late_accounting", _("CADs accounted late")
        RETENTION_EXPIRED = "retention_expired", _("Documents past retention")
        TRAINING_REFRESH = "training_refresh", _("Training refresher due")
        FOLLOWUP_DUE = "followup_due", _("Readiness follow-up due")
        FOLLOWUP_OVERDUE = "followup_overdue", _("Readiness follow-up overdue")

    Severity = Severity

    importer = models.ForeignKey(
        "clients.Importer", on_delete=models.CASCADE, related_name="compliance_alerts"
    )
    correction = models.ForeignKey(
        "services.Correction",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    kind = models.CharField(_("finding"), max_length=32, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    message = models.TextField(_("message"))
    message_parts = models.JSONField(null=True, blank=True, editable=False)
    key = models.CharField(max_length=100)
    deadline = models.DateField(_("date at the time"), null=True, blank=True)
    entry_count = models.PositiveIntegerField(_("CADs at the time"), null=True, blank=True)
    raised_on = models.DateField(_("raised on"))
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)

    history = HistoricalRecords()
    _history_user: User | None
    _change_reason: StrOrPromise

    class Meta:
        ordering = ["resolved_at", "-raised_at", "id"]
        verbose_name = _("compliance alert")
        constraints = [
            models.UniqueConstraint(fields=["importer", "key"], name="one_compliance_alert_per_key")
        ]
        indexes = [models.Index(fields=["kind", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.importer} · {self.kind}"

    @property
    def message_text(self) -> str:
        """The sentence in the reader's language (``message`` is the English one, shown for rows
        written before their parts were kept), as ``DelegationAlert.message_text``."""
        return stored_text.show(self.message_parts, self.message)
