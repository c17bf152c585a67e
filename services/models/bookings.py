"""CARM Client Portal walk-throughs: the 1-hour slots agents publish and the importers' bookings.

A slot holds at most one live booking (a partial unique constraint: a cancelled booking frees
it). Moving a booking points it at another slot and raises its ``sequence``, so the calendar file
sent again updates the same event. After the session the agent records notes and what was done.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carm_portal.reversing import reverse


class WalkthroughSlot(models.Model):
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="walkthrough_slots",
    )
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    join_url = models.URLField(_("joining link"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("walk-through slot")
        constraints = [
            models.UniqueConstraint(fields=["agent", "starts_at"], name="one_slot_per_agent_time")
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} ({self.agent})"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class WalkthroughOutcome(models.TextChoices):
    """What can be done in a walk-through (the agent ticks what was)."""

    SOA_RETRIEVED = "soa_retrieved", _("Statement of Account retrieved from CBSA")
    PORTAL_TOUR = "portal_tour", _("Portal tour")
    ROLES_SET_UP = "roles_set_up", _("Access roles set up")
    DELEGATION = "delegation", _("Delegation to the broker requested or approved")
    PAYMENTS = "payments", _("Payment options explained")
    SECURITY = "security", _("Financial security reviewed")


class Booking(models.Model):
    slot = models.ForeignKey(
        WalkthroughSlot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot")
    )
    importer = models.ForeignKey(
        "clients.Importer",
        on_delete=models.CASCADE,
        related_name="walkthrough_bookings",
        verbose_name=_("importer"),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="walkthrough_bookings",
        verbose_name=_("booked by"),
    )
    contact_email = models.EmailField(_("contact email"))
    topics = models.TextField(_("what you would like to cover"), blank=True)
    sequence = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    notes = models.TextField(_("agent's notes"), blank=True)
    outcomes = models.JSONField(_("what was done"), default=list, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("walk-through booking")
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=models.Q(cancelled_at__isnull=True),
                name="one_live_booking_per_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.importer} – {self.slot}"

    def get_absolute_url(self) -> str:
        return reverse("services:booking_detail", args=[self.pk])

    def outcome_labels(self) -> list[str]:
        labels = dict(WalkthroughOutcome.choices)
        return [str(labels[o]) for o in self.outcomes if o in labels]
