"""Per-user records that belong to no importer: the in-app inbox, e-mail preferences, calendar feed.

They sit in the shared kit (``carm_portal``) so that every app can notify a person without
importing another app: a row names its recipient (a ``User``), never an importer, and its text is
stored untranslated (``carm_portal.stored_text``) so each reader sees it in their own language.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What happened. Each kind has one e-mail preference per person."""

    RENEWAL_REQUEST = "renewal_request", _("A delegation renewal is requested")
    EXCEPTION_ASSIGNED = "exception_assigned", _("A reconciliation exception is assigned to me")
    INVITATION_ACCEPTED = "invitation_accepted", _("An invitation I sent is accepted")
    WIZARD_FINISHED = "wizard_finished", _("An importer finished the onboarding wizard")
    IMPORT_REFUSED = "import_refused", _("A file I imported is refused")
    RECONCILIATION_EXCEPTIONS = (
        "reconciliation_exceptions",
        _("A reconciliation finished with exceptions"),
    )
    DELEGATION_ALERTS = "delegation_alerts", _("Delegation alerts (the daily digest)")
    PAYMENT_ALERTS = "payment_alerts", _("Payment alerts (the daily digest)")
    READINESS_FOLLOWUP = (
        "readiness_followup",
        _("A readiness follow-up I own is nearly due or overdue"),
    )
    READINESS_ANSWERED = (
        "readiness_answered",
        _("An importer answered its readiness questions"),
    )


# The daily checks' own digests: one e-mail a day at most, so "immediately" means nothing there.
DIGEST_ONLY_KINDS = frozenset({Kind.DELEGATION_ALERTS, Kind.PAYMENT_ALERTS})


class Delivery(models.TextChoices):
    """How a person wants to be e-mailed about one kind. The in-app inbox records every kind."""

    IMMEDIATELY = "immediately", _("Immediately")
    DAILY = "daily", _("In a daily digest")
    OFF = "off", _("Off (in the portal only)")


def default_delivery(kind: str) -> Delivery:
    return Delivery.DAILY if kind in DIGEST_ONLY_KINDS else Delivery.IMMEDIATELY


class Notification(models.Model):
    """One event told to one person: unique per recipient, kind and event key, so telling it twice
    (a rerun, a retried task, two workers) leaves one row and sends at most one e-mail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    key = models.CharField(_("event key"), max_length=200)
    text = models.JSONField(_("text"))  # carm_portal.stored_text parts
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # The e-mail: chosen from the recipient's preference when the row is made.
    delivery = models.CharField(_("e-mail"), max_length=20, choices=Delivery.choices)
    claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "key"], name="notification_once_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["recipient"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class NotificationPreference(models.Model):
    """A person's choice for one kind; no row means the kind's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    delivery = models.CharField(_("e-mail"), max_length=20, choices=Delivery.choices)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.delivery}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A person's secret calendar (ICS) address. Regenerating it replaces the token, so the old
    address stops working at once; revoking deletes the row."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"
