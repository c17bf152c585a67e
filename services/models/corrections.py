"""Post-release corrections: one CAD (one transaction number) found wrong, until it is corrected.

A CAD keeps its transaction number across versions; a correction names the version found wrong
(``corrects_version``) and, once filed, the version that corrects it (``filed_version``). The
dates follow Customs Act s.32.2: 90 days from "reason to believe" to correct origin,
classification or value, and no obligation more than four years after accounting. The rules
themselves are in ``services/compliance/corrections.py``; this module holds fields and
constraints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal.reversing import reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carm_portal.models import User


def _money(verbose_name: StrOrPromise, **kwargs: object) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)  # type: ignore[arg-type]


class Correction(models.Model):
    class Reason(models.TextChoices):
        ORIGIN = "origin", _("Origin")
        CLASSIFICATION = "classification", _("Tariff classification")
        VALUE = "value", _("Value for duty")
        QUANTITY = "quantity", _("Quantity")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        FILED = "filed", _("Filed")
        ACCEPTED = "accepted", _("Accepted by CBSA")
        NOT_NEEDED = "not_needed", _("Not needed")

    importer = models.ForeignKey(
        "clients.Importer",
        on_delete=models.CASCADE,
        related_name="corrections",
        verbose_name=_("importer"),
    )
    program_account = models.ForeignKey(
        "clients.ProgramAccount",
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("program account"),
    )
    transaction_number = models.CharField(_("transaction number"), max_length=14)
    corrects_version = models.PositiveSmallIntegerField(
        _("version to correct"), default=1, help_text=_("The CAD version found wrong.")
    )
    filed_version = models.PositiveSmallIntegerField(
        _("correcting version"),
        null=True,
        blank=True,
        help_text=_("The CAD version that corrects it, once filed."),
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    reason_to_believe_on = models.DateField(
        _("reason to believe on"),
        help_text=_("The day the importer had reason to believe the declaration was wrong."),
    )
    deadline = models.DateField(_("deadline to correct"))
    accounted_on = models.DateField(_("accounted on"))
    amount_before = _money(_("amount before"), null=True, blank=True)
    amount_after = _money(_("amount after"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    note = models.TextField(_("note"), blank=True)
    # Where it came from: a reconciliation finding ("correction requested"). A rerun of the
    # reconciliation makes new item rows, so the finding is named by statement and key too.
    statement = models.ForeignKey(
        "statements.Statement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("statement"),
    )
    reconciliation_key = models.CharField(_("reconciliation finding"), max_length=80, blank=True)
    reconciliation_item = models.ForeignKey(
        "statements.ReconciliationItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="corrections",
        db_constraint=False,  # the item table is written in bulk without constraints
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    history = HistoricalRecords()
    _history_user: User | None
    _change_reason: StrOrPromise

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        constraints = [
            # One open correction per CAD: a second finding on the same CAD joins the first.
            models.UniqueConstraint(
                fields=["program_account", "transaction_number"],
                condition=models.Q(status="open"),
                name="one_open_correction_per_cad",
            ),
            models.CheckConstraint(
                condition=models.Q(deadline__gte=models.F("reason_to_believe_on")),
                name="correction_deadline_after_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"{self.transaction_number} v{self.corrects_version} · {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:correction_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
