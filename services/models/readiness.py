"""The RM readiness check: a weighted questionnaire per importer, its results and the follow-ups.

Questions live in the database so a broker admin can edit their wording and weights in the Django
admin; each has a stable ``key`` (the French wording of the default questions is looked up by key,
``services.compliance.readiness.question_text``). A question with ``derived_from`` is answered
from the data the portal already holds (``services.compliance.readiness_derivers``), so the
answer cannot drift from the records. A check stores its answers as they were on the day (question
wording and weight included): editing a question later does not rewrite a past score.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal.reversing import reverse


class ReadinessQuestion(models.Model):
    key = models.SlugField(_("key"), max_length=40, unique=True)
    text = models.CharField(_("question (English)"), max_length=300)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    derived_from = models.CharField(
        _("answered from"),
        max_length=40,
        blank=True,
        help_text=_("Leave empty for a question the person taking the check answers."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("asked"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("readiness question")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=1), name="readiness_weight_positive"
            )
        ]

    def __str__(self) -> str:
        return self.key


class ReadinessCheck(models.Model):
    importer = models.ForeignKey(
        "clients.Importer", on_delete=models.CASCADE, related_name="readiness_checks"
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("taken by"),
    )
    taken_at = models.DateTimeField(_("taken at"))
    taken_on = models.DateField(_("taken on"))
    score = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=2)
    # [{"key", "text", "weight", "yes", "derived"}] as answered on the day; an answer the importer
    # gave (its BAM, from the importer's pages) adds "by_importer": true, "answered_by" (user id),
    # "answered_by_name" and "answered_at" (ISO 8601), kept by a later staff check that leaves it.
    answers = models.JSONField(default=list, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("readiness check")
        indexes = [models.Index(fields=["importer", "-taken_at"])]

    def __str__(self) -> str:
        return f"{self.importer} · {self.taken_on} · {self.score}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:readiness", args=[self.importer_id])


class ReadinessGap(models.Model):
    """A "no" answer turned into a follow-up task for a member of the broker's staff."""

    check_run = models.ForeignKey(
        ReadinessCheck, on_delete=models.CASCADE, related_name="gaps", verbose_name=_("check")
    )
    importer = models.ForeignKey(
        "clients.Importer", on_delete=models.CASCADE, related_name="readiness_gaps"
    )
    question_key = models.CharField(_("question"), max_length=40)
    text = models.CharField(_("question (English)"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="readiness_tasks",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Who took, completed or reassigned a follow-up, and when (the audit trail).
    history = HistoricalRecords()

    class Meta:
        ordering = ["done_at", "due_on", "id"]
        verbose_name = _("readiness follow-up")
        constraints = [
            models.UniqueConstraint(
                fields=["check_run", "question_key"], name="one_gap_per_check_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.importer} · {self.question_key}"
