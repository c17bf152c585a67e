"""Webinar reminders 24 hours and 1 hour before, sent once each (the beat job runs every 10 min).

Each registration is claimed with a conditional update of its marker before its e-mail is sent,
so a rerun, a retry or a second worker sends nothing twice. A person who registers less than an
hour and a bit before the start gets only the 1-hour reminder: a "tomorrow" e-mail would be wrong.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from services.models import Registration
from services.webinar_mail import send_reminder

log = logging.getLogger(__name__)

WINDOWS = (
    # marker field, sent when the session starts within (now + low, now + high]
    ("reminded_24h_at", dt.timedelta(hours=1), dt.timedelta(hours=24)),
    ("reminded_1h_at", dt.timedelta(0), dt.timedelta(hours=1)),
)


def send_due_reminders(*, now: dt.datetime | None = None) -> int:
    """Send every reminder now due; returns how many went out."""
    now = now or timezone.now()
    sent = 0
    for marker, low, high in WINDOWS:
        due = Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            session__cancelled_at=None,
            session__starts_at__gt=now + low,
            session__starts_at__lte=now + high,
            **{marker: None},
        ).select_related("session")
        for registration in due:
            claimed = Registration.objects.filter(pk=registration.pk, **{marker: None}).update(
                **{marker: now}
            )
            if not claimed:
                continue
            try:
                send_reminder(registration)
            except Exception:  # one bad address must not stop the others
                log.exception("webinar reminder %s for registration %s", marker, registration.pk)
                continue
            sent += 1
    return sent
