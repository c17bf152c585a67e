"""Webinar sessions ("How to Prepare for CARM") and the people registered for them.

A session's start is an aware datetime (stored in UTC, entered and shown in Eastern time). A
registration is confirmed while seats remain, else waitlisted; a cancellation promotes the first
on the waitlist. The reminder markers make the 24-hour and 1-hour reminders go out once each.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carm_portal.reversing import reverse


class WebinarSession(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        _("what it covers"),
        blank=True,
        help_text=_("e.g. CARM overview, CCP set-up, access roles and delegation, Q&A"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    capacity = models.PositiveSmallIntegerField(_("seats"), default=50)
    join_url = models.URLField(_("joining link"), blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("webinar session")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="webinar_capacity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=1), name="webinar_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("services:webinar_register", args=[self.pk])

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("Waitlisted")
        CANCELLED = "cancelled", _("Cancelled")
        # A visitor's registration before they follow the e-mailed link: no seat, no waitlist.
        PENDING = "pending", _("Awaiting e-mail confirmation")

    session = models.ForeignKey(
        WebinarSession, on_delete=models.CASCADE, related_name="registrations"
    )
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("email"))
    company = models.CharField(_("company"), max_length=200, blank=True)
    importer = models.ForeignKey(
        "clients.Importer",
        verbose_name=_("importer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webinar_registrations",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webinar_registrations",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    language = models.CharField(_("language"), max_length=8, default="en")
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    reminded_1h_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("webinar registration")
        constraints = [
            models.UniqueConstraint(fields=["session", "email"], name="one_registration_per_email")
        ]
        indexes = [models.Index(fields=["session", "status"])]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
