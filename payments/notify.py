"""Emails about new payment and security alerts: one per importer per run, never twice.

Importers do not log in to read portal notices (lessons.md), so each new alert goes by email to
the importer's BAMs and assigned agent (``delegation.notify.recipients_for``) and to its people
with the finance role, the ones who pay CBSA.

Claim before notify (healthchecks' pattern): the new alerts of one importer are claimed with a
conditional update (``claimed_at`` set only where it is empty, or left by a worker that died more
than ``CLAIM_TIMEOUT`` ago); only the rows this call claimed are sent, then stamped
``notified_at``. Two workers, a retry or a rerun cannot send the same alert twice; a failed send
releases its claim for the next attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from carm_portal.notification_models import Kind
from carm_portal.notifications import muted_addresses
from carm_portal.severity import severity_rank
from carm_portal.user_language import by_language
from clients import access
from clients.models import Importer
from delegation.notify import recipients_for as delegation_recipients
from payments.models import PaymentAlert
from payments.rules import kind_label

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def recipients_for(importer_ids: Iterable[int]) -> dict[int, set[str]]:
    """importer id -> emails: its BAMs, its assigned agent, its finance people."""
    importer_ids = list(importer_ids)
    recipients = delegation_recipients(importer_ids)
    for importer_id, email in access.finance_members(importer_ids).values_list(
        "importer_id", "user__email"
    ):
        recipients[importer_id].add(email.lower())
    return recipients


def importers_to_notify() -> list[int]:
    return list(
        PaymentAlert.objects.filter(resolved_at=None, notified_at=None)
        .values_list("importer_id", flat=True)
        .distinct()
        .order_by("importer_id")
    )


def _claim(importer_id: int, now: dt.datetime) -> list[PaymentAlert]:
    claimed = (
        PaymentAlert.objects.filter(importer_id=importer_id, resolved_at=None, notified_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now)
    )
    if not claimed:
        return []
    return list(
        PaymentAlert.objects.filter(importer_id=importer_id, claimed_at=now, notified_at=None)
        .select_related("importer", "statement", "payment", "security", "program_account")
        .order_by("id")
    )


def render_email(
    importer: Importer, alerts: list[PaymentAlert], to: list[str], language: str | None = None
) -> EmailMultiAlternatives:
    """The email in ``language`` (the active one when None): money and dates follow it too."""
    with translation.override(language or translation.get_language()):
        return _render_email(importer, alerts, to)


def _render_email(
    importer: Importer, alerts: list[PaymentAlert], to: list[str]
) -> EmailMultiAlternatives:
    base = settings.SITE_URL.rstrip("/")
    for alert in alerts:
        alert.label = kind_label(alert.kind)
        if alert.statement_id:
            path = reverse("statements:detail", args=[alert.statement_id])
        elif alert.payment_id:
            path = reverse("payments:detail", args=[alert.payment_id])
        elif alert.security_id:
            path = reverse("payments:security_detail", args=[alert.security_id])
        else:
            path = reverse("clients:importer_detail", args=[alert.importer_id])
        alert.url = base + path
    alerts.sort(key=lambda a: (severity_rank(a.severity), a.id))
    context = {
        "importer": importer,
        "alerts": alerts,
        "blocking": sum(1 for a in alerts if a.severity == PaymentAlert.Severity.BLOCKING),
        "broker_name": settings.BROKER_NAME,
        "site_url": settings.SITE_URL,
    }
    subject = " ".join(render_to_string("payments/email/alerts_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string("payments/email/alerts.txt", context), to=to
    )
    message.attach_alternative(render_to_string("payments/email/alerts.html", context), "text/html")
    return message


def notify_importer(importer_id: int) -> int:
    """Send the importer's new alerts if nobody else is; returns how many this call sent."""
    now = timezone.now()
    alerts = _claim(importer_id, now)
    if not alerts:
        return 0
    ids = [a.pk for a in alerts]
    to = sorted(recipients_for([importer_id]).get(importer_id, ()))
    muted = muted_addresses(kind=Kind.PAYMENT_ALERTS, emails=to)  # turned off by their owners
    to = [e for e in to if e not in muted]
    if to:
        # One email per language: each recipient reads it in their saved language. All are
        # rendered before any is sent, so a template error sends none.
        sent = 0
        try:
            messages = [
                render_email(alerts[0].importer, alerts, group, language)
                for language, group in by_language(to).items()
            ]
            for message in messages:
                message.send()
                sent += 1
        except Exception as exc:
            if not sent:  # nothing went out: release the claim so the retry sends them
                PaymentAlert.objects.filter(pk__in=ids, claimed_at=now).update(claimed_at=None)
                log.warning("Payment alerts of importer %s not sent: %s", importer_id, exc)
                raise
            # Some recipients have them already: a retry would send those a second copy, so
            # the alerts count as notified (they stay on the pages) and the miss is logged.
            unsent = [address for message in messages[sent:] for address in message.to]
            log.error("Payment alerts of importer %s not sent to %s: %s", importer_id, unsent, exc)
    # Nobody to tell: the alerts stay on the pages, and are not retried every day.
    PaymentAlert.objects.filter(pk__in=ids, claimed_at=now).update(notified_at=timezone.now())
    return len(ids) if to else 0


def notify_all() -> int:
    """Send every importer's new alerts in the foreground; returns the alerts emailed."""
    return sum(notify_importer(importer_id) for importer_id in importers_to_notify())
