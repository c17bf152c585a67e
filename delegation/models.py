"""The broker's third-party access to each importer in the CCP, and the alerts about it.

A ``Delegation`` mirrors what the importer's BAM approved in the CARM Client Portal: the
relationship (BMR: every program account, including future ones; PMR: the accounts selected),
the delegated authority (pBAM or pPAM) and an expiry date. The portal lets a BAM leave the expiry
date blank, and then the broker cannot act at all, so ``expiry_date`` is nullable *and flagged*.

The rules live in ``delegation/rules.py``; the daily sweep that turns findings into
``DelegationAlert`` rows and digests in ``delegation/checks.py`` and ``delegation/notify.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal import stored_text
from carm_portal.dates import business_date
from carm_portal.reversing import reverse
from carm_portal.severity import Severity
from clients.models import Importer, ProgramAccount
from delegation.rules import bam_parts

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carm_portal.models import User


class Delegation(models.Model):
    class Relationship(models.TextChoices):
        BMR = "BMR", _("Business Management Relationship (all accounts)")
        PMR = "PMR", _("Program Management Relationship (selected accounts)")

    class Authority(models.TextChoices):
        PBAM = "pBAM", _("proxy Business Account Manager (pBAM)")
        PPAM = "pPAM", _("proxy Program Account Manager (pPAM)")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PENDING = "pending", _("Pending importer approval")
        ACTIVE = "active", _("Active")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    OPEN_STATUSES = (Status.REQUESTED, Status.PENDING)

    importer = models.ForeignKey(
        Importer, on_delete=models.CASCADE, related_name="delegations", verbose_name=_("importer")
    )
    relationship = models.CharField(
        _("relationship"), max_length=3, choices=Relationship.choices, default=Relationship.BMR
    )
    authority = models.CharField(
        _("delegated authority"), max_length=4, choices=Authority.choices, default=Authority.PBAM
    )
    program_accounts = models.ManyToManyField(
        ProgramAccount,
        blank=True,
        related_name="delegations",
        verbose_name=_("program accounts covered (PMR)"),
        help_text=_("A BMR covers every account, including accounts added later."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_on = models.DateField(
        _("requested on"), null=True, blank=True, validators=[business_date]
    )
    approved_on = models.DateField(
        _("approved on"), null=True, blank=True, validators=[business_date]
    )
    expiry_date = models.DateField(
        _("expiry date"),
        null=True,
        blank=True,
        help_text=_("The last day the broker may act (it works through the end of that day)."),
        validators=[business_date],
    )
    blank_expiry_confirmed = models.BooleanField(
        _("blank expiry date confirmed"),
        default=False,
        help_text=_("The importer really left the expiry date blank in the CCP."),
    )
    revoked_on = models.DateField(
        _("revoked on"), null=True, blank=True, validators=[business_date]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[program_accounts])
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    # Not a column: set on the delegations of the alerts panel (delegation/templatetags).
    days: int | None

    class Meta:
        ordering = ["expiry_date", "id"]
        verbose_name = _("delegation")
        indexes = [
            models.Index(fields=["status", "expiry_date"]),
            models.Index(fields=["importer", "status"]),
            # The list's first page: an index walk of 50 rows instead of sorting every
            # delegation. The blank-expiry-first order (the API's, the page's "expiry" sort) has
            # its own index on PostgreSQL only (SQLite cannot index NULLS FIRST): migration 0006.
            models.Index(fields=["expiry_date", "id"], name="delegation_expiry_order"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.importer} · {self.relationship}/{self.authority} · {self.get_status_display()}"
        )

    def get_absolute_url(self) -> str:
        return reverse("delegation:detail", args=[self.pk])

    def days_left(self, today: dt.date) -> int | None:
        """Days until the expiry date; 0 on the expiry day itself (it still works that day)."""
        return None if self.expiry_date is None else (self.expiry_date - today).days


class DelegationAlert(models.Model):
    """One finding about one delegation (or an importer with none), raised once and kept.

    ``key`` makes it unique per (delegation, finding kind, expiry date): the same finding on a
    renewed date is a new alert, the same finding re-evaluated tomorrow is not.
    """

    Severity = Severity  # carm_portal/severity.py: one set of severities for every alert

    importer = models.ForeignKey(
        Importer, on_delete=models.CASCADE, related_name="delegation_alerts"
    )
    delegation = models.ForeignKey(
        Delegation, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(_("finding"), max_length=32)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    message = models.TextField(_("message"))
    # The sentence untranslated (carm_portal/stored_text.py), to show it in the reader's language.
    message_parts = models.JSONField(null=True, blank=True, editable=False)
    expiry_date = models.DateField(_("expiry date at the time"), null=True, blank=True)
    key = models.CharField(max_length=80)
    raised_on = models.DateField(_("raised on"))
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    # Not columns: set on alerts shown on a page or in a digest email, for the templates.
    label: str
    url: str

    class Meta:
        ordering = ["resolved_at", "-raised_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["importer", "key"], name="one_alert_per_finding")
        ]
        indexes = [
            models.Index(fields=["resolved_at", "severity"]),
            # The open findings' counts (Today's blocking / lapsing figures, each agent's
            # workload): an index-only scan of the few columns they read instead of the heap.
            models.Index(
                fields=["importer", "severity", "kind"],
                include=["id"],  # the counts are COUNT(id)
                condition=models.Q(resolved_at=None),
                name="delegationalert_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.importer} · {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def message_text(self) -> str:
        """The sentence in the active language (the stored English for rows without parts)."""
        return stored_text.show(self.message_parts, self.message)

    @property
    def message_for_bam(self) -> str:
        """The sentence addressed to the importer's BAM ("Extend it in the CCP"), not to the
        broker ("Ask the importer's BAM…"); the broker's sentence where there is no BAM wording."""
        parts = bam_parts(self.kind, self.message_parts)
        if parts is None:
            return self.message_text
        return stored_text.show(parts, self.message_text)


class ConfirmationChannel(models.TextChoices):
    PHONE = "phone", _("By phone")
    EMAIL = "email", _("By e-mail")
    MEETING = "meeting", _("In a meeting")
    SCREEN = "screen", _("Shown the CCP screen")
    OTHER = "other", _("Other")


class RenewalRequest(models.Model):
    """The broker asked the importer to renew (or fix) a delegation in the CCP.

    The importer's BAM sees it on their home page and confirms once done in the CCP; the
    confirmation writes the new expiry date onto the delegation, which resolves its alerts.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the importer")
        CONFIRMED = "confirmed", _("Confirmed done in the CCP")
        CANCELLED = "cancelled", _("Cancelled")

    delegation = models.ForeignKey(Delegation, on_delete=models.CASCADE, related_name="renewals")
    requested_expiry_date = models.DateField(
        _("new expiry date asked for"), validators=[business_date]
    )
    message = models.TextField(_("message to the importer"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_expiry_date = models.DateField(
        _("expiry date entered in the CCP"),
        null=True,
        blank=True,
        validators=[business_date],
    )
    # When broker staff confirm on the importer's behalf: who in the importer said it was done,
    # and how (the BAM's own confirmation leaves both blank: ``confirmed_by`` says it all).
    confirmed_for_importer_by = models.CharField(
        _("confirmed by (at the importer)"), max_length=200, blank=True
    )
    confirmation_channel = models.CharField(
        _("confirmed how"), max_length=12, choices=ConfirmationChannel.choices, blank=True
    )

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["delegation"],
                condition=models.Q(status="open"),
                name="one_open_renewal_per_delegation",
            )
        ]

    def __str__(self) -> str:
        return f"Renewal of {self.delegation} to {self.requested_expiry_date}"


class AlertDigest(models.Model):
    """The one email a recipient gets on a day, listing the alerts new to them.

    Claimed before sending (``claimed_at`` by a conditional update) and stamped ``sent_at`` after,
    so two workers, a retry or a rerun never send it twice; a claim older than a few minutes
    without ``sent_at`` is a crashed send and may be claimed again.
    """

    recipient = models.EmailField()
    digest_date = models.DateField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-digest_date", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "digest_date"], name="one_digest_per_recipient_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.digest_date}"


class AlertDelivery(models.Model):
    """Which alert went (or goes) to whom, in which digest: never the same alert twice to a person."""

    alert = models.ForeignKey(DelegationAlert, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.EmailField()
    digest = models.ForeignKey(AlertDigest, on_delete=models.CASCADE, related_name="deliveries")

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "recipient"], name="one_delivery_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} → {self.recipient}"
