"""Prospects: businesses that asked about the broker's CARM services, from the public form to client.

A sign-up counts only once its e-mail address is confirmed (``confirmed_at``): the public form is
open to anyone, so an unconfirmed row is a claim, not a lead. Staff then move it through the
pipeline (``Stage``) and, when the business signs, turn it into an importer with one action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carm_portal.reversing import reverse


class Service(models.TextChoices):
    """What the broker offers around CARM (the public services page lists the same)."""

    MANAGEMENT = "management", _("CARM management (delegation, statements, payments)")
    WEBINAR = "webinar", _("Webinar: how to prepare for CARM")
    WALKTHROUGH = "walkthrough", _("CARM Client Portal virtual walk-through")
    SOA_RETRIEVAL = "soa_retrieval", _("Statement of Account retrieval from CBSA")
    BOND = "bond", _("Customs bond (D120) application")
    HELP = "help", _("Help with set-up, delegation, reconciliation, payments or corrections")


class Stage(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    INVITED = "invited", _("Invited")
    ONBOARDING = "onboarding", _("Onboarding")
    CLIENT = "client", _("Client")
    LOST = "lost", _("Lost")


class Prospect(models.Model):
    """One business's interest in the broker's services, and where the broker stands with it."""

    name = models.CharField(_("your name"), max_length=120)
    company = models.CharField(_("company"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=24, blank=True)
    bn9 = models.CharField(_("business number (BN9)"), max_length=9, blank=True)
    services = models.JSONField(_("services wanted"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    consent_at = models.DateTimeField(_("consent given at"))
    language = models.CharField(_("language"), max_length=8, default="en")
    confirmed_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)

    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_prospects",
    )
    notes = models.TextField(_("notes"), blank=True)
    next_action_on = models.DateField(_("next action on"), null=True, blank=True)
    lost_reason = models.CharField(_("why lost"), max_length=200, blank=True)
    # Set by the conversion, once: a OneToOne so a prospect can never become two importers.
    importer = models.OneToOneField(
        "clients.Importer",
        verbose_name=_("importer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prospect",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("prospect")
        indexes = [
            models.Index(fields=["stage", "next_action_on"]),
            models.Index(fields=["email"]),
        ]

    def __str__(self) -> str:
        return f"{self.company} ({self.name})"

    def get_absolute_url(self) -> str:
        return reverse("services:prospect_detail", args=[self.pk])

    def service_labels(self) -> list[str]:
        labels = dict(Service.choices)
        return [str(labels[s]) for s in self.services if s in labels]
