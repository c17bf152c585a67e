"""Webinar registration: seats, the waitlist and cancellations, safe under concurrent sign-ups.

Each change locks the session row (``select_for_update``) before counting its confirmed seats, so
two people taking the last seat at once are served one after the other: one confirmed, one
waitlisted, never one seat too many. A cancellation promotes the oldest waitlisted registration.

A visitor's registration from the public form is double opt-in (``services.webinar_optin``): it
is recorded as awaiting confirmation, holding no seat and no waitlist place, and
``confirm_registration`` gives it a seat or the waitlist under the same lock when the link is
followed. Seats therefore go in confirmation order, and an unconfirmed registration never keeps a
confirmed person out.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from services.models import Registration, WebinarSession
from services.webinar_mail import send_registration_email, send_session_cancelled
from services.webinar_optin import send_confirmation

if TYPE_CHECKING:
    from carm_portal.models import User
    from clients.models import Importer


class RegistrationClosed(Exception):
    """The session has started, ended or been cancelled."""


def upcoming_sessions(now: dt.datetime | None = None):
    """Sessions still to come, soonest first."""
    return WebinarSession.objects.filter(
        starts_at__gt=now or timezone.now(), cancelled_at=None
    ).order_by("starts_at", "id")


def with_seat_counts(queryset: QuerySet[WebinarSession]) -> QuerySet[WebinarSession]:
    """Sessions annotated with ``confirmed`` and ``waitlisted`` counts (one query for a list)."""
    return queryset.annotate(
        confirmed=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)
        ),
        waitlisted=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.WAITLISTED)
        ),
    )


def seats_taken(session: WebinarSession) -> int:
    return session.registrations.filter(status=Registration.Status.CONFIRMED).count()


def register(
    *,
    session: WebinarSession,
    name: str,
    email: str,
    company: str = "",
    importer: Importer | None = None,
    user: User | None = None,
    language: str = "en",
    opt_in: bool = False,
    now: dt.datetime | None = None,
) -> Registration:
    """Confirm a seat, or waitlist when full; registering the same address again returns its row
    (a cancelled one comes back, seat permitting). The e-mail (with the .ics) goes after commit.

    With ``opt_in`` (the public form) the registration only awaits confirmation: no seat is
    counted and the e-mail carries the confirmation link instead; sending the form again before
    confirming refreshes the row and sends a fresh link.
    """
    now = now or timezone.now()
    email = email.strip().lower()
    pending = Registration.Status.PENDING
    with transaction.atomic():
        locked = WebinarSession.objects.select_for_update().get(pk=session.pk)
        if locked.cancelled_at is not None or locked.starts_at <= now:
            raise RegistrationClosed(locked.pk)
        existing = Registration.objects.filter(session=locked, email=email).first()
        if existing is not None and existing.status not in (Registration.Status.CANCELLED, pending):
            return existing
        registration = existing or Registration(session=locked, email=email)
        registration.name = name.strip()
        registration.company = company.strip()
        registration.importer = importer
        registration.user = user
        registration.language = language
        if opt_in:
            registration.status = pending
            registration.save()
            transaction.on_commit(lambda: send_confirmation(registration), robust=True)
            return registration
        _take_seat_or_wait(locked, registration)
    return registration


def _take_seat_or_wait(locked: WebinarSession, registration: Registration) -> None:
    """Give ``registration`` a seat, or the waitlist when full (the caller holds the session row
    lock), save it and send the registration e-mail after commit."""
    full = seats_taken(locked) >= locked.capacity
    registration.status = Registration.Status.WAITLISTED if full else Registration.Status.CONFIRMED
    registration.save()
    transaction.on_commit(lambda: send_registration_email(registration), robust=True)


def confirm_registration(
    registration: Registration, *, now: dt.datetime | None = None
) -> Registration:
    """The visitor followed their link: seat or waitlist now, under the session's row lock.

    Idempotent: a registration already confirmed, waitlisted or cancelled is returned as it is
    (a second click sends nothing). Raises ``RegistrationClosed`` once the session has started
    or was cancelled.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = WebinarSession.objects.select_for_update().get(pk=registration.session_id)
        row = Registration.objects.get(pk=registration.pk)
        if row.status != Registration.Status.PENDING:
            return row
        if locked.cancelled_at is not None or locked.starts_at <= now:
            raise RegistrationClosed(locked.pk)
        row.session = locked
        _take_seat_or_wait(locked, row)
    return row


def cancel(*, registration: Registration) -> Registration | None:
    """Cancel a registration; returns the waitlisted one promoted to its seat, if any."""
    with transaction.atomic():
        locked = WebinarSession.objects.select_for_update().get(pk=registration.session_id)
        row = Registration.objects.get(pk=registration.pk)
        if row.status == Registration.Status.CANCELLED:
            return None
        had_seat = row.status == Registration.Status.CONFIRMED
        row.status = Registration.Status.CANCELLED
        row.save(update_fields=["status"])
        registration.status = row.status
        if not had_seat or seats_taken(locked) >= locked.capacity:
            return None
        promoted = (
            locked.registrations.filter(status=Registration.Status.WAITLISTED)
            .order_by("created_at", "id")
            .first()
        )
        if promoted is None:
            return None
        promoted.status = Registration.Status.CONFIRMED
        promoted.save(update_fields=["status"])
        transaction.on_commit(lambda: send_registration_email(promoted), robust=True)
    return promoted


def mark_attendance(*, session: WebinarSession, attended_ids: set[int]) -> int:
    """Staff tick who came: confirmed registrations in ``attended_ids`` attended, the others not."""
    confirmed = session.registrations.filter(status=Registration.Status.CONFIRMED)
    came = confirmed.filter(pk__in=attended_ids).update(attended=True)
    confirmed.exclude(pk__in=attended_ids).update(attended=False)
    return came


def home_panel(*, user: User, importers: list[Importer], limit: int = 3) -> dict:
    """The importer home's webinar panel: the next sessions, each with the user's own registration
    (by e-mail) and whether it is full; two queries whatever the number of sessions."""
    sessions = list(with_seat_counts(upcoming_sessions())[:limit])
    mine = {
        r.session_id: r
        for r in Registration.objects.filter(
            session__in=[s.pk for s in sessions], email=user.email.lower()
        ).exclude(status__in=[Registration.Status.CANCELLED, Registration.Status.PENDING])
    }
    rows = [
        {
            "session": s,
            "registration": mine.get(s.pk),
            "full": s.confirmed >= s.capacity,  # type: ignore[attr-defined]  # with_seat_counts
        }
        for s in sessions
    ]
    return {"sessions": rows, "importers": importers}


def cancel_session(*, session: WebinarSession, now: dt.datetime | None = None) -> int:
    """Cancel a session and tell everyone registered (a calendar cancellation for those with a
    seat); a second call changes and sends nothing. Returns how many were told."""

    claimed = WebinarSession.objects.filter(pk=session.pk, cancelled_at=None).update(
        cancelled_at=now or timezone.now()
    )
    session.refresh_from_db(fields=["cancelled_at"])
    if not claimed:
        return 0
    told = list(
        session.registrations.exclude(
            status__in=[Registration.Status.CANCELLED, Registration.Status.PENDING]
        ).select_related("session")
    )
    for registration in told:
        transaction.on_commit(partial(send_session_cancelled, registration), robust=True)
    return len(told)
