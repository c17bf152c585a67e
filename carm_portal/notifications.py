"""Telling people what happened: one ``notify`` for every app, an inbox row per person, e-mails
by each person's preference, in each person's language.

``notify`` is called where the event happens, inside its transaction; nothing is recorded or sent
until that transaction commits (``on_commit``), so a rolled-back event tells nobody. Then:

* one ``Notification`` row per recipient, unique per (recipient, kind, key): the caller's ``key``
  names the event (``"run:42"``), so a rerun, a retried task or a second worker adds nothing;
* recipients who want it "immediately" get an e-mail from a task that claims the row with a
  conditional update (``emailed_at`` / ``claimed_at``), so at most one e-mail leaves per row;
* those who chose "daily digest" get the day's rows in one e-mail from ``send_daily_digests``
  (beat, every morning); "off" leaves the row in the inbox only.

The daily checks' own digests (delegation and payment alerts) keep their builders; they ask
``muted_addresses`` whom to leave out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from carm_portal import stored_text
from carm_portal.notification_models import (
    DIGEST_ONLY_KINDS,
    Delivery,
    Kind,
    Notification,
    NotificationPreference,
    default_delivery,
)

if TYPE_CHECKING:
    from carm_portal.models import User

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=10)
SEND_TASK = "carm_portal.tasks.send_notification_email"


def notify(
    *,
    kind: Kind,
    recipients: Iterable[User | int],
    key: str,
    text: stored_text.Parts,
    url: str = "",
    emailed_by_caller: bool = False,
) -> None:
    """Tell ``recipients`` about one event once its transaction commits (see the module doc).

    ``emailed_by_caller``: the caller sends its own, richer e-mail to those who want it at once
    (it asks ``deliveries`` who they are); their rows are then recorded as e-mailed.
    """
    ids = sorted({r if isinstance(r, int) else r.pk for r in recipients})
    if not ids:
        return
    transaction.on_commit(
        lambda: record(
            kind=kind,
            recipient_ids=ids,
            key=key,
            text=text,
            url=url,
            emailed_by_caller=emailed_by_caller,
        ),
        robust=True,
    )


def deliveries(*, kind: str, user_ids: Iterable[int]) -> dict[int, str]:
    """user id -> how they want to be e-mailed about ``kind`` (one query)."""
    user_ids = list(user_ids)
    chosen = dict(
        NotificationPreference.objects.filter(kind=kind, user_id__in=user_ids).values_list(
            "user_id", "delivery"
        )
    )
    return {pk: chosen.get(pk, default_delivery(kind)) for pk in user_ids}


def record(
    *,
    kind: Kind,
    recipient_ids: list[int],
    key: str,
    text: stored_text.Parts,
    url: str = "",
    emailed_by_caller: bool = False,
) -> list[int]:
    """Insert the rows that are not there yet; queue the immediate e-mails still unsent.

    Returns the ids of the notifications whose e-mail was queued.
    """
    wanted = deliveries(kind=kind, user_ids=recipient_ids)
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk,
                kind=kind,
                key=key,
                text=text,
                url=url,
                delivery=delivery,
                created_at=now,
                emailed_at=now if emailed_by_caller and delivery == Delivery.IMMEDIATELY else None,
            )
            for pk, delivery in wanted.items()
        ],
        ignore_conflicts=True,
    )
    to_send = list(
        Notification.objects.filter(
            kind=kind,
            key=key,
            recipient_id__in=recipient_ids,
            recipient__is_active=True,
            delivery=Delivery.IMMEDIATELY,
            emailed_at=None,
        ).values_list("id", flat=True)
    )
    dispatch(to_send)
    return to_send


def dispatch(notification_ids: list[int]) -> None:
    """Queue one e-mail task per row. A broker that is down loses nothing: the rows stay unsent
    and ``send_daily_digests`` sweeps them up (``resend_stale``)."""
    if not notification_ids:
        return
    if SEND_TASK not in current_app.tasks:
        current_app.loader.import_default_modules()  # as a worker does at start
    task = current_app.tasks[SEND_TASK]
    try:
        for pk in notification_ids:
            task.delay(notification_id=pk)
    except Exception:  # the broker: kombu raises several kinds
        log.warning("Could not queue notification e-mails %s", notification_ids, exc_info=True)


def _claim(queryset: Q, now: dt.datetime) -> Q:
    return (
        queryset & Q(emailed_at=None) & (Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
    )


def absolute(url: str) -> str:
    return settings.SITE_URL.rstrip("/") + url if url.startswith("/") else url


def _language(user: User) -> str:
    return user.language if user.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def render_email(notifications: list[Notification], user: User) -> EmailMultiAlternatives:
    """One e-mail of one or more notifications, in the recipient's saved language."""
    with translation.override(_language(user)):
        items = [
            {
                "text": stored_text.render(n.text),
                "kind": n.get_kind_display(),
                "url": absolute(n.url) if n.url else "",
                "created_at": n.created_at,
            }
            for n in notifications
        ]
        context = {
            "items": items,
            "digest": len(notifications) > 1 or notifications[0].delivery == Delivery.DAILY,
            "user": user,
            "broker_name": settings.BROKER_NAME,
            "site_url": settings.SITE_URL,
            "preferences_url": absolute("/notifications/settings/"),
        }
        subject = " ".join(
            render_to_string("notifications/email/notification_subject.txt", context).split()
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("notifications/email/notification.txt", context),
            to=[user.email],
        )
        message.attach_alternative(
            render_to_string("notifications/email/notification.html", context), "text/html"
        )
    return message


def send_email(notification_id: int) -> bool:
    """E-mail one notification unless it has been (or is being) e-mailed; True if this call sent it."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        _claim(Q(pk=notification_id, delivery=Delivery.IMMEDIATELY), now)
    ).update(claimed_at=now)
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        render_email([notification], notification.recipient).send()
    except Exception:
        Notification.objects.filter(pk=notification_id).update(claimed_at=None)
        log.warning("Notification %s could not be e-mailed", notification_id, exc_info=True)
        raise
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
    return True


def send_daily_digest(user_id: int) -> int:
    """E-mail one person the digest rows nobody has e-mailed yet; returns how many it carried."""
    now = timezone.now()
    Notification.objects.filter(
        _claim(Q(recipient_id=user_id, delivery=Delivery.DAILY, recipient__is_active=True), now)
    ).update(claimed_at=now)
    rows = list(
        Notification.objects.filter(
            recipient_id=user_id, delivery=Delivery.DAILY, claimed_at=now, emailed_at=None
        ).select_related("recipient")
    )
    if not rows:
        return 0
    try:
        render_email(rows, rows[0].recipient).send()
    except Exception:
        Notification.objects.filter(pk__in=[n.pk for n in rows]).update(claimed_at=None)
        raise
    Notification.objects.filter(pk__in=[n.pk for n in rows]).update(emailed_at=timezone.now())
    return len(rows)


def digest_recipients() -> list[int]:
    """People with digest rows not yet e-mailed (one query)."""
    return list(
        Notification.objects.filter(delivery=Delivery.DAILY, emailed_at=None)
        .exclude(kind__in=DIGEST_ONLY_KINDS)
        .values_list("recipient_id", flat=True)
        .distinct()
        .order_by("recipient_id")
    )


def resend_stale(*, older_than: dt.timedelta = CLAIM_TIMEOUT) -> int:
    """E-mail the immediate rows whose task never ran (a broker down when they were made)."""
    stale = Notification.objects.filter(
        delivery=Delivery.IMMEDIATELY,
        emailed_at=None,
        recipient__is_active=True,
        created_at__lt=timezone.now() - older_than,
    ).values_list("id", flat=True)
    return sum(_survive(send_email, pk) for pk in list(stale))


def _survive(send: Callable[[int], object], pk: int) -> int:
    """1 if ``send(pk)`` sent something; a failure is logged and left for the next run."""
    try:
        return 1 if send(pk) else 0
    except Exception:
        log.warning("Sending %s(%s) failed; the next run tries again", send.__name__, pk)
        return 0


def send_daily_digests() -> int:
    """Every pending digest, and any immediate e-mail left behind, in the foreground; returns
    how many e-mails this call sent."""
    return resend_stale() + sum(_survive(send_daily_digest, pk) for pk in digest_recipients())


def muted_addresses(*, kind: Kind, emails: Iterable[str]) -> set[str]:
    """Lower-cased addresses, among ``emails``, of accounts that turned ``kind`` off."""
    emails = {e.lower() for e in emails}
    return {
        email.lower()
        for email in NotificationPreference.objects.filter(
            kind=kind, delivery=Delivery.OFF, user__email__in=emails
        ).values_list("user__email", flat=True)
    }


# --- The inbox -------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at=None).count()


def mark_read(*, user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all of them when ``notification_ids`` is None)."""
    rows = Notification.objects.filter(recipient=user, read_at=None)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    return rows.update(read_at=timezone.now())


def preferences(user: User) -> dict[str, str]:
    """kind -> the user's delivery, defaults filled in."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, default_delivery(kind)) for kind in Kind.values}


@transaction.atomic
def save_preferences(*, user: User, choices: dict[str, str]) -> None:
    for kind, delivery in choices.items():
        if kind in DIGEST_ONLY_KINDS and delivery == Delivery.IMMEDIATELY:
            delivery = Delivery.DAILY
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"delivery": delivery}
        )
