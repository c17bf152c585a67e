"""Compliance documents: the import records an importer must keep, with their retention.

Files live in Django's default storage (``STORAGES["default"]``: the file system, or an
S3-compatible bucket when configured), never under a public URL: they are served by an
access-checked view. A document is kept until ``retain_until`` (by default six years after the end
of the calendar year of the record, per type in ``RetentionPeriod``), longer under a legal hold.
Purging deletes the file but keeps the row (who purged what, when) for the audit trail.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carm_portal.models import User


class DocumentType(models.TextChoices):
    SOA = "soa", _("Statement of account")
    DAILY_NOTICE = "daily_notice", _("Daily notice")
    CAD = "cad", _("CAD")
    COMMERCIAL_INVOICE = "commercial_invoice", _("Commercial invoice")
    BOND = "bond", _("Bond")
    DELEGATION_CONFIRMATION = "delegation_confirmation", _("Delegation confirmation")
    RULING = "ruling", _("Ruling")
    CORRESPONDENCE = "correspondence", _("Correspondence")
    # The reconciliation of a statement with the broker's entries, as the PDF report generated
    # then: the working paper behind a payment or a correction, kept as long as the statement.
    RECONCILIATION_REPORT = "reconciliation_report", _("Reconciliation report")
    OTHER = "other", _("Other")


def document_path(instance: ComplianceDocument, filename: str) -> str:
    """A random name under the importer's folder: the original name is kept in the row only."""
    return f"compliance/{instance.importer_id}/{uuid.uuid4().hex}"


class RetentionPeriod(models.Model):
    """How long a type of document is kept, editable by broker admins (in the admin)."""

    document_type = models.CharField(
        _("document type"), max_length=32, choices=DocumentType.choices, unique=True
    )
    years = models.PositiveSmallIntegerField(
        _("years after the end of the calendar year"),
        default=6,
        help_text=_("Imported Goods Records Regulations: six years for import records."),
    )

    class Meta:
        ordering = ["document_type"]
        verbose_name = _("retention period")

    def __str__(self) -> str:
        return f"{self.get_document_type_display()}: {self.years}"


class ComplianceDocument(models.Model):
    Type = DocumentType

    importer = models.ForeignKey(
        "clients.Importer",
        on_delete=models.PROTECT,  # records outlive a mistaken deletion of the client
        related_name="compliance_documents",
        verbose_name=_("importer"),
    )
    document_type = models.CharField(_("type"), max_length=32, choices=DocumentType.choices)
    file = models.FileField(_("file"), upload_to=document_path, max_length=255, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    record_date = models.DateField(
        _("record date"), help_text=_("The date of importation or of the record.")
    )
    retain_until = models.DateField(_("keep until"))
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    legal_hold_reason = models.CharField(_("reason for the hold"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    statement = models.ForeignKey(
        "statements.Statement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("statement"),
    )
    transaction_number = models.CharField(_("CAD transaction number"), max_length=14, blank=True)
    delegation = models.ForeignKey(
        "delegation.Delegation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delegation"),
    )
    correction = models.ForeignKey(
        "services.Correction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("correction"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)
    purged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()
    _history_user: User | None
    _change_reason: StrOrPromise

    class Meta:
        ordering = ["-record_date", "-id"]
        verbose_name = _("compliance document")
        indexes = [
            models.Index(fields=["importer", "document_type"]),
            models.Index(
                fields=["retain_until"],
                name="compliancedoc_retention_idx",
                condition=models.Q(purged_at__isnull=True, legal_hold=False),
            ),
            # Filing looks a stored file up by its path (once per record filed), and so does
            # every deletion of a stored file (``is_filed``): thousands of importers' records.
            models.Index(fields=["file"], name="compliancedoc_file_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} · {self.original_name}"

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None
