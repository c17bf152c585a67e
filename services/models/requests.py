"""Service requests an importer (or an agent for it) makes: SOA retrieval from CBSA, a customs
bond (D120) application, or help. Each kind has its own status path (``services/requests_flow``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carm_portal.reversing import reverse


class RequestKind(models.TextChoices):
    SOA_RETRIEVAL = "soa_retrieval", _("Statement of Account retrieval")
    BOND = "bond", _("Customs bond application")
    HELP = "help", _("Help")


class RequestStatus(models.TextChoices):
    # SOA retrieval
    REQUESTED = "requested", _("Requested")
    SENT = "sent", _("Sent to CBSA")
    RECEIVED = "received", _("Received from CBSA")
    IMPORTED = "imported", _("Statement imported")
    # bond application
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the surety")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    # help
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class HelpTopic(models.TextChoices):
    PORTAL = "portal", _("Portal set-up")
    DELEGATION = "delegation", _("Delegation")
    RECONCILIATION = "reconciliation", _("Reconciliation")
    PAYMENTS = "payments", _("Payments")
    CORRECTIONS = "corrections", _("Corrections")
    DOCUMENTATION = "documentation", _("Documentation")
    TRAINING = "training", _("Training")


class ServiceRequest(models.Model):
    importer = models.ForeignKey(
        "clients.Importer",
        on_delete=models.CASCADE,
        related_name="service_requests",
        verbose_name=_("importer"),
    )
    kind = models.CharField(_("service"), max_length=16, choices=RequestKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=RequestStatus.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_service_requests",
        verbose_name=_("assignee"),
    )
    # SOA retrieval
    program_account = models.ForeignKey(
        "clients.ProgramAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("program account"),
    )
    period = models.CharField(_("billing period"), max_length=40, blank=True)
    import_batch = models.ForeignKey(
        "statements.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("import"),
    )
    # bond application
    bond_amount = models.DecimalField(
        _("bond amount (CAD)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    surety_company = models.CharField(_("surety company"), max_length=120, blank=True)
    bond_number = models.CharField(_("bond number"), max_length=40, blank=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    security = models.OneToOneField(
        "payments.FinancialSecurity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_request",
    )
    # help
    topic = models.CharField(_("topic"), max_length=16, choices=HelpTopic.choices, blank=True)
    message = models.TextField(_("message"), blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service request")
        indexes = [models.Index(fields=["importer", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.importer}"

    def get_absolute_url(self) -> str:
        return reverse("services:request_detail", args=[self.pk])


class RequestReply(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("reply"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("reply")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.body[:40]}"
