"""Training records: courses per role, sessions, and who of an importer's people completed what.

A completion lapses ``refresh_months`` after its date; the daily compliance check raises one
reminder per (person, course, lapse date), so a refresher recorded later starts a new cycle.
A session may be tied to a webinar session or a walk-through booking it was delivered in.
Every change is kept in the audit history (django-simple-history), like the other compliance records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal import stored_text


class Course(models.Model):
    class Role(models.TextChoices):
        FINANCE = "finance", _("Finance")
        OPERATIONS = "operations", _("Operations")
        COMPLIANCE = "compliance", _("Compliance")

    name = models.CharField(_("name"), max_length=200)
    name_fr = models.CharField(
        _("name in French"),
        max_length=200,
        blank=True,
        help_text=_("Empty: a default course's name reads from the catalogue, any other as typed."),
    )
    role = models.CharField(_("for"), max_length=16, choices=Role.choices)
    refresh_months = models.PositiveSmallIntegerField(_("refresh every (months)"), default=12)
    # A retired course is no longer offered: nobody records new completions of it, but the ones
    # recorded (and their certificates) stay.
    active = models.BooleanField(_("offered"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "name", "id"]
        verbose_name = _("training course")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refresh_months__gte=1), name="course_refresh_positive"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def title(self) -> str:
        """The name in the reader's language: the French name a coordinator gave it, else the
        English name (a default course's translated from the catalogue): the rule of
        ``stored_text.bilingual``, which the reminders store."""
        return stored_text.render(stored_text.bilingual(self.name, self.name_fr))


class TrainingSession(models.Model):
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("course")
    )
    held_on = models.DateField(_("held on"))
    trainer = models.CharField(_("trainer"), max_length=150)
    webinar = models.ForeignKey(
        "services.WebinarSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_sessions",
        verbose_name=_("webinar session"),
    )
    booking = models.ForeignKey(
        "services.Booking",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_sessions",
        verbose_name=_("walk-through"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_on", "id"]
        verbose_name = _("training session")

    def __str__(self) -> str:
        return f"{self.course} · {self.held_on}"


class TrainingCompletion(models.Model):
    importer = models.ForeignKey(
        "clients.Importer", on_delete=models.CASCADE, related_name="training_completions"
    )
    membership = models.ForeignKey(
        "clients.Membership",
        on_delete=models.CASCADE,
        related_name="training_completions",
        verbose_name=_("person"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="completions", verbose_name=_("course")
    )
    completed_on = models.DateField(_("completed on"))
    lapses_on = models.DateField(_("lapses on"))
    session = models.ForeignKey(
        TrainingSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="completions",
        verbose_name=_("session"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-completed_on", "-id"]
        verbose_name = _("training completion")
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "course", "completed_on"], name="one_completion_per_day"
            )
        ]
        indexes = [models.Index(fields=["importer", "course", "-completed_on"])]

    def __str__(self) -> str:
        return f"{self.membership} · {self.course} · {self.completed_on}"
