"""Walk-through slots and bookings: publish, book, cancel or move (until 24 hours before), and the
agent's record of the session (which creates the walk-through charge, once).

Booking locks the slot row, and a partial unique constraint allows one live booking per slot,
so two people clicking the same slot get one booking and one polite refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.calendar import start_of_day
from carm_portal.user_language import by_language
from services.charges import charge_once
from services.ics import event_calendar, uid_for
from services.models import BillableService, Booking, WalkthroughSlot

if TYPE_CHECKING:
    from carm_portal.models import User
    from clients.models import Importer

CHANGE_NOTICE = dt.timedelta(hours=24)


class BookingError(Exception):
    pass


def publish_slots(
    *, agent: User, starts: Iterable[dt.datetime], duration_minutes: int = 60, join_url: str = ""
) -> list[WalkthroughSlot]:
    """Publish 1-hour slots; a slot the agent already has at that time is kept, not doubled."""
    slots = []
    for start in starts:
        slot, _created = WalkthroughSlot.objects.get_or_create(
            agent=agent,
            starts_at=start,
            defaults={"duration_minutes": duration_minutes, "join_url": join_url},
        )
        slots.append(slot)
    return slots


def _live_booking():
    return Booking.objects.filter(slot=OuterRef("pk"), cancelled_at=None)


def open_slots(now: dt.datetime | None = None) -> QuerySet[WalkthroughSlot]:
    """Slots nobody holds that start more than 24 hours from now (the agent prepares)."""
    now = now or timezone.now()
    return (
        WalkthroughSlot.objects.filter(starts_at__gt=now + CHANGE_NOTICE)
        .exclude(Exists(_live_booking()))
        .select_related("agent")
        .order_by("starts_at", "id")
    )


def booked_on(day: dt.date, *, agent: User | None = None) -> QuerySet[Booking]:
    """The live bookings of slots starting on ``day`` (Eastern), ``agent``'s only if given: the
    staff Today view counts them and the slot list (``?day=…&agent=me``) lists them."""
    bookings = Booking.objects.filter(
        cancelled_at=None,
        slot__starts_at__gte=start_of_day(day),
        slot__starts_at__lt=start_of_day(day + dt.timedelta(days=1)),
    )
    return bookings.filter(slot__agent=agent) if agent is not None else bookings


def may_change(booking: Booking, now: dt.datetime | None = None) -> bool:
    """Cancel or move while the session is more than 24 hours away and not done."""
    now = now or timezone.now()
    return (
        booking.cancelled_at is None
        and booking.completed_at is None
        and booking.slot.starts_at - now > CHANGE_NOTICE
    )


def _take(slot_pk: int, now: dt.datetime) -> WalkthroughSlot:
    slot = WalkthroughSlot.objects.select_for_update().select_related("agent").get(pk=slot_pk)
    if slot.starts_at - now <= CHANGE_NOTICE:
        raise BookingError(_("This slot is less than 24 hours away: choose a later one."))
    if Booking.objects.filter(slot=slot, cancelled_at=None).exists():
        raise BookingError(_("Someone booked this slot a moment ago: choose another."))
    return slot


def book(
    *,
    slot: WalkthroughSlot,
    importer: Importer,
    by: User,
    contact_email: str,
    topics: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    now = now or timezone.now()
    try:
        with transaction.atomic():
            taken = _take(slot.pk, now)
            booking = Booking.objects.create(
                slot=taken,
                importer=importer,
                booked_by=by,
                contact_email=contact_email.strip().lower(),
                topics=topics.strip(),
            )
            _mail_on_commit(booking)
    except IntegrityError:
        raise BookingError(_("Someone booked this slot a moment ago: choose another.")) from None
    return booking


def cancel(*, booking: Booking, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if not may_change(booking, now):
        raise BookingError(_("A walk-through can be cancelled until 24 hours before it starts."))
    booking.cancelled_at = now
    booking.sequence += 1
    booking.save(update_fields=["cancelled_at", "sequence"])
    _mail_on_commit(booking)


def move(*, booking: Booking, to: WalkthroughSlot, now: dt.datetime | None = None) -> Booking:
    now = now or timezone.now()
    if not may_change(booking, now):
        raise BookingError(_("A walk-through can be moved until 24 hours before it starts."))
    try:
        with transaction.atomic():
            taken = _take(to.pk, now)
            booking.slot = taken
            booking.sequence += 1
            booking.save(update_fields=["slot", "sequence"])
            _mail_on_commit(booking)
    except IntegrityError:
        raise BookingError(_("Someone booked this slot a moment ago: choose another.")) from None
    return booking


def record_session(
    *, booking: Booking, notes: str, outcomes: list[str], now: dt.datetime | None = None
) -> Booking:
    """The agent's notes and what was done; completing it charges the walk-through (once)."""
    if booking.cancelled_at is not None:
        raise BookingError(_("This walk-through was cancelled."))
    now = now or timezone.now()
    if booking.slot.starts_at > now:
        raise BookingError(_("Record the session once it has taken place."))
    booking.notes = notes.strip()
    booking.outcomes = sorted(set(outcomes))
    booking.completed_at = booking.completed_at or now
    booking.save(update_fields=["notes", "outcomes", "completed_at"])
    charge_once(
        importer=booking.importer,
        service=BillableService.WALKTHROUGH,
        description=later.gettext(
            "CARM Client Portal walk-through, %(day)s",
            {"day": later.date(timezone.localdate(booking.slot.starts_at), iso=True)},
        ),
        booking=booking,
    )
    return booking


def booking_ics(booking: Booking) -> bytes:
    slot = booking.slot
    return event_calendar(
        uid=uid_for("walkthrough", booking.pk),
        summary=_("CARM Client Portal walk-through: %(importer)s") % {"importer": booking.importer},
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        description=booking.topics,
        location=slot.join_url,
        organizer_email=slot.agent.email,
        sequence=booking.sequence,
        cancelled=booking.cancelled_at is not None,
    )


def _mail_on_commit(booking: Booking) -> None:
    """Send what the row says once committed (a later change in the same transaction wins)."""
    pk = booking.pk
    transaction.on_commit(
        lambda: send_booking_email(
            Booking.objects.select_related("slot", "slot__agent", "importer").get(pk=pk)
        ),
        robust=True,
    )


def send_booking_email(booking: Booking) -> None:
    """The booking, move or cancellation, with its .ics, to the importer's contact and the agent,
    each in their own saved language (not that of whoever clicked): one e-mail per language."""
    context = {"booking": booking, "slot": booking.slot, "broker_name": settings.BROKER_NAME}
    method = "CANCEL" if booking.cancelled_at else "REQUEST"
    recipients = [booking.contact_email]
    if booking.slot.agent.email.lower() != booking.contact_email.lower():
        recipients.append(booking.slot.agent.email)
    for language, addresses in by_language(recipients).items():
        with translation.override(language):
            subject = " ".join(
                render_to_string("services/email/booking_subject.txt", context).split()
            )
            message = EmailMultiAlternatives(
                subject=subject,
                body=render_to_string("services/email/booking.txt", context),
                # The contact on To and the agent on Cc, when they read the same language.
                to=[a for a in addresses if a == booking.contact_email] or addresses,
                cc=[a for a in addresses if a != booking.contact_email and len(addresses) > 1],
            )
            ics = booking_ics(booking)
        message.attach("walkthrough.ics", ics, f"text/calendar; method={method}")
        message.send()
