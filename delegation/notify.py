"""Email digests of delegation alerts: one per recipient per day, never the same alert twice.

Importers do not log in to read portal notices (lessons.md), so alerts go by email to named
people: the importer's BAMs (its CCP portal users with the BAM role and its carm-portal members
with the BAM role) and the broker agent assigned to the importer. Advice stays in the app.

Two steps, both idempotent:

1. ``build_digests`` gives every open blocking/warning alert not yet delivered to a recipient a
   place in that recipient's digest for the day (``AlertDelivery`` is unique per alert and
   recipient; ``AlertDigest`` per recipient and day). A recipient whose digest for the day has
   already gone out gets the newcomers in tomorrow's.
2. ``send_digest`` claims one digest with a conditional update, sends it, then stamps it sent.
   A claim left by a crashed worker expires after ``CLAIM_TIMEOUT`` and is taken again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from carm_portal.notification_models import Kind
from carm_portal.notifications import muted_addresses
from carm_portal.severity import severity_order
from carm_portal.user_language import languages_by_email
from clients import access
from clients.models import Importer, PortalUser
from delegation.models import AlertDelivery, AlertDigest, DelegationAlert
from delegation.rules import kind_label

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=10)
EMAILED_SEVERITIES = (DelegationAlert.Severity.BLOCKING, DelegationAlert.Severity.WARNING)


def recipients_for(importer_ids: Iterable[int]) -> dict[int, set[str]]:
    """importer id -> email addresses of its BAMs and its assigned agent (three queries)."""
    importer_ids = list(importer_ids)
    recipients: dict[int, set[str]] = defaultdict(set)
    for importer_id, email in PortalUser.objects.filter(
        importer_id__in=importer_ids, ccp_role=PortalUser.CcpRole.BAM
    ).values_list("importer_id", "email"):
        recipients[importer_id].add(email.lower())
    for importer_id, email in access.bams_of(importer_ids).values_list(
        "importer_id", "user__email"
    ):
        recipients[importer_id].add(email.lower())
    for importer_id, email in Importer.objects.filter(
        pk__in=importer_ids, assigned_agent__is_active=True
    ).values_list("id", "assigned_agent__email"):
        recipients[importer_id].add(email.lower())
    return recipients


@transaction.atomic
def build_digests(*, today: dt.date) -> list[int]:
    """Put undelivered open alerts into today's digests; return the ids of digests to send."""
    alerts = list(
        DelegationAlert.objects.filter(
            resolved_at=None, severity__in=EMAILED_SEVERITIES
        ).values_list("id", "importer_id")
    )
    if not alerts:
        return list(
            AlertDigest.objects.filter(digest_date=today, sent_at=None).values_list("id", flat=True)
        )
    recipients = recipients_for({importer_id for _, importer_id in alerts})
    # People who turned these digests off on their preferences page (carm_portal.notifications).
    muted = muted_addresses(
        kind=Kind.DELEGATION_ALERTS, emails={e for group in recipients.values() for e in group}
    )
    recipients = {i: group - muted for i, group in recipients.items()}
    delivered = set(
        AlertDelivery.objects.filter(alert_id__in=[a for a, _ in alerts]).values_list(
            "alert_id", "recipient"
        )
    )
    wanted = [
        (alert_id, email)
        for alert_id, importer_id in alerts
        for email in sorted(recipients.get(importer_id, ()))
        if (alert_id, email) not in delivered
    ]
    emails = {email for _, email in wanted}
    AlertDigest.objects.bulk_create(
        [AlertDigest(recipient=e, digest_date=today) for e in sorted(emails)], ignore_conflicts=True
    )
    open_digests = dict(
        AlertDigest.objects.filter(
            digest_date=today, recipient__in=emails, claimed_at=None, sent_at=None
        ).values_list("recipient", "id")
    )
    AlertDelivery.objects.bulk_create(
        [
            AlertDelivery(alert_id=alert_id, recipient=email, digest_id=open_digests[email])
            for alert_id, email in wanted
            if email in open_digests  # already sent today: tomorrow's digest carries it
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return list(
        AlertDigest.objects.filter(digest_date=today, sent_at=None)
        .filter(deliveries__isnull=False)
        .distinct()
        .values_list("id", flat=True)
    )


def _claim(digest_id: int) -> bool:
    now = timezone.now()
    return bool(
        AlertDigest.objects.filter(pk=digest_id, sent_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def render_digest(digest: AlertDigest) -> EmailMultiAlternatives:
    """The digest in its recipient's language (their account's saved one, else the default)."""
    language = languages_by_email([digest.recipient])[digest.recipient.lower()]
    with translation.override(language):
        return _render_digest(digest)


def _render_digest(digest: AlertDigest) -> EmailMultiAlternatives:
    alerts = list(
        DelegationAlert.objects.filter(deliveries__digest=digest)
        .select_related("importer", "delegation")
        .order_by(severity_order(), "importer__legal_name", "id")
    )
    for alert in alerts:
        alert.label = kind_label(alert.kind)
        path = (
            alert.delegation.get_absolute_url()
            if alert.delegation is not None  # select_related above: no query
            else reverse("clients:importer_detail", args=[alert.importer_id])
        )
        alert.url = settings.SITE_URL.rstrip("/") + path
    context = {
        "digest": digest,
        "alerts": alerts,
        "blocking": sum(1 for a in alerts if a.severity == DelegationAlert.Severity.BLOCKING),
        "broker_name": settings.BROKER_NAME,
        "site_url": settings.SITE_URL,
    }
    subject = " ".join(render_to_string("delegation/email/digest_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("delegation/email/digest.txt", context),
        to=[digest.recipient],
    )
    message.attach_alternative(
        render_to_string("delegation/email/digest.html", context), "text/html"
    )
    return message


def send_digest(digest_id: int) -> bool:
    """Send one digest if nobody else has; True if this call sent it."""
    if not _claim(digest_id):
        return False
    digest = AlertDigest.objects.get(pk=digest_id)
    try:
        render_digest(digest).send()
    except Exception as exc:
        AlertDigest.objects.filter(pk=digest_id).update(claimed_at=None, last_error=str(exc)[:2000])
        log.warning("Delegation digest %s to %s failed: %s", digest_id, digest.recipient, exc)
        raise
    AlertDigest.objects.filter(pk=digest_id).update(sent_at=timezone.now(), last_error="")
    return True


def send_digests(*, today: dt.date) -> int:
    """Build and send today's digests in the foreground; return how many this call sent."""
    return sum(send_digest(digest_id) for digest_id in build_digests(today=today))
