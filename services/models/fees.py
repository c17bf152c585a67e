"""The broker's fee schedule and the charges its billable services create on an importer.

A charge points at what caused it (a service request or a walk-through booking); a unique
constraint per source makes charging idempotent: a retried or doubled action bills once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carm_portal import stored_text as later


class BillableService(models.TextChoices):
    SOA_RETRIEVAL = "soa_retrieval", _("Statement of Account retrieval")
    WALKTHROUGH = "walkthrough", _("CARM Client Portal walk-through")
    BOND_APPLICATION = "bond_application", _("Customs bond application")
    HELP = "help", _("Help request")


class Fee(models.Model):
    service = models.CharField(
        _("service"), max_length=20, choices=BillableService.choices, unique=True
    )
    amount = models.DecimalField(_("fee (CAD)"), max_digits=14, decimal_places=2)
    active = models.BooleanField(
        _("charged"), default=True, help_text=_("Untick to offer the service free of charge.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service"]
        verbose_name = _("fee")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="fee_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()}: {self.amount}"


class Charge(models.Model):
    class Status(models.TextChoices):
        TO_BILL = "to_bill", _("To bill")
        BILLED = "billed", _("Billed")
        WAIVED = "waived", _("Waived")

    importer = models.ForeignKey(
        "clients.Importer",
        on_delete=models.PROTECT,
        related_name="service_charges",
        verbose_name=_("importer"),
    )
    service = models.CharField(_("service"), max_length=20, choices=BillableService.choices)
    description = models.CharField(_("description"), max_length=200)
    # The description's parts (``carm_portal.stored_text``), so each reader sees it in their
    # language; ``description`` keeps it in English for the admin, CSV tools and old rows.
    description_parts = models.JSONField(null=True, blank=True, editable=False)
    amount = models.DecimalField(_("amount (CAD)"), max_digits=14, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.TO_BILL
    )
    request = models.OneToOneField(
        "services.ServiceRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charge",
    )
    booking = models.OneToOneField(
        "services.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="charge"
    )
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service charge")
        indexes = [models.Index(fields=["importer", "status"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="charge_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.importer}: {self.description} {self.amount}"

    @property
    def shown_description(self) -> str:
        """The description in the reader's language (the stored English on rows without parts)."""
        return later.show(self.description_parts, self.description)
