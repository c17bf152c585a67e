"""Walk-throughs: publish, book (one booking per slot), cancel or move until 24 h before, the
session record on the importer page, the charge once, ICS for both sides, access per persona."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from services import walkthroughs
from services.models import Booking, Charge, Fee, WalkthroughSlot
from tests.kit import persona_cases
from tests.services.factories import WalkthroughSlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def slot(personas):
    return WalkthroughSlotFactory(agent=personas.broker_agent)


def _book(personas, slot, **kw):
    return walkthroughs.book(
        slot=slot,
        importer=personas.importer_a,
        by=personas.bam_a,
        contact_email="bam@alpha.example.com",
        **kw,
    )


def test_publish_keeps_one_slot_per_agent_and_time(personas):
    start = timezone.now() + dt.timedelta(days=5)

    walkthroughs.publish_slots(
        agent=personas.broker_agent, starts=[start, start + dt.timedelta(hours=1)]
    )
    walkthroughs.publish_slots(agent=personas.broker_agent, starts=[start])

    assert WalkthroughSlot.objects.count() == 2


def test_a_slot_is_booked_once(personas, slot):
    _book(personas, slot)

    with pytest.raises(walkthroughs.BookingError):
        walkthroughs.book(
            slot=slot,
            importer=personas.importer_b,
            by=personas.bam_b,
            contact_email="b@x.example.com",
        )
    assert Booking.objects.count() == 1
    assert slot not in walkthroughs.open_slots()


def test_no_booking_within_24_hours(personas):
    near = WalkthroughSlotFactory(starts_at=timezone.now() + dt.timedelta(hours=20))

    with pytest.raises(walkthroughs.BookingError):
        _book(personas, near)
    assert near not in walkthroughs.open_slots()


def test_cancel_frees_the_slot_and_sends_a_cancel_ics(
    personas, slot, django_capture_on_commit_callbacks
):
    booking = _book(personas, slot)

    with django_capture_on_commit_callbacks(execute=True):
        walkthroughs.cancel(booking=booking)

    assert slot in walkthroughs.open_slots()
    (message,) = mail.outbox
    assert message.to == ["bam@alpha.example.com"] and message.cc == [personas.broker_agent.email]
    calendar = Calendar.from_ical(message.attachments[0][1])
    assert calendar["method"] == "CANCEL"
    assert next(iter(calendar.walk("VEVENT")))["status"] == "CANCELLED"


def test_move_updates_the_same_event(personas, slot, django_capture_on_commit_callbacks):
    later = WalkthroughSlotFactory(
        agent=personas.broker_agent, starts_at=slot.starts_at + dt.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        booking = _book(personas, slot)
    with django_capture_on_commit_callbacks(execute=True):
        walkthroughs.move(booking=booking, to=later)

    first, second = (
        next(iter(Calendar.from_ical(m.attachments[0][1]).walk("VEVENT"))) for m in mail.outbox
    )
    assert str(first["uid"]) == str(second["uid"])
    assert int(second["sequence"]) == int(first["sequence"]) + 1
    assert second["dtstart"].dt == later.starts_at.replace(microsecond=0)
    assert slot in walkthroughs.open_slots()


def test_no_change_within_24_hours(personas, slot):
    booking = _book(personas, slot)
    late = slot.starts_at - dt.timedelta(hours=23)

    with pytest.raises(walkthroughs.BookingError):
        walkthroughs.cancel(booking=booking, now=late)
    assert not walkthroughs.may_change(booking, late)
    assert walkthroughs.may_change(booking, slot.starts_at - dt.timedelta(hours=25))


def test_recording_the_session_charges_once_and_shows_on_the_importer_page(
    personas, slot, client_for
):
    Fee.objects.create(service="walkthrough", amount=Decimal("150.00"))
    booking = _book(personas, slot)
    after = slot.starts_at + dt.timedelta(hours=2)

    walkthroughs.record_session(
        booking=booking, notes="Retrieved the SOA", outcomes=["soa_retrieved"], now=after
    )
    walkthroughs.record_session(
        booking=booking, notes="Retrieved the SOA", outcomes=["soa_retrieved"], now=after
    )

    charge = Charge.objects.get()
    assert (charge.importer, charge.amount, charge.booking) == (
        personas.importer_a,
        Decimal("150.00"),
        booking,
    )
    page = (
        client_for(personas.employee_a).get(personas.importer_a.get_absolute_url()).content.decode()
    )
    assert "Retrieved the SOA" in page
    assert "Statement of Account retrieved from CBSA" in page


def test_no_record_before_the_session(personas, slot):
    booking = _book(personas, slot)

    with pytest.raises(walkthroughs.BookingError):
        walkthroughs.record_session(booking=booking, notes="", outcomes=[])


def test_ics_download_parses_with_the_right_time(personas, slot, client_for):
    booking = _book(personas, slot)

    response = client_for(personas.bam_a).get(reverse("services:booking_ics", args=[booking.pk]))

    event = next(iter(Calendar.from_ical(response.content).walk("VEVENT")))
    assert event["dtstart"].dt == slot.starts_at.replace(microsecond=0).astimezone(dt.UTC)
    assert event["dtend"].dt - event["dtstart"].dt == dt.timedelta(hours=1)


# --- Pages per persona -----------------------------------------------------------------------------

TABLE = [
    ("services:importer_services", "get", (200, 200, 200, 200, 200, 200, 404)),
    ("services:book", "get", (200, 200, 403, 200, 403, 403, 404)),
    ("services:booking_detail", "get", (200, 200, 200, 200, 200, 200, 404)),
    ("services:booking_ics", "get", (200, 200, 200, 200, 200, 200, 404)),
    ("services:booking_cancel", "post", (302, 302, 403, 302, 403, 403, 404)),
    ("services:booking_record", "post", (302, 302, 403, 403, 403, 403, 404)),
    ("services:slot_list", "get", (200, 200, 403, 403, 403, 403, 403)),
]


@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, slot, name, method, persona, expected
):
    booking = _book(personas, slot)
    if name in ("services:importer_services", "services:book"):
        args = [personas.importer_a.pk]
    elif name == "services:slot_list":
        args = []
    else:
        args = [booking.pk]
    client = client_for(personas.all()[persona])

    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == expected


def test_booking_through_the_page(personas, client_for, slot, django_capture_on_commit_callbacks):
    client = client_for(personas.bam_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("services:book", args=[personas.importer_a.pk]),
            {"slot": slot.pk, "contact_email": "bam@alpha.example.com", "topics": "Roles"},
        )

    booking = Booking.objects.get()
    assert response["Location"] == booking.get_absolute_url()
    assert booking.booked_by == personas.bam_a
    assert len(mail.outbox) == 1


def test_publish_through_the_page_in_eastern_time(personas, client_for):
    client = client_for(personas.broker_agent)

    client.post(
        reverse("services:slot_list"),
        {"starts_at_0": "2027-01-12", "starts_at_1": "09:00", "count": 3, "join_url": ""},
    )

    starts = list(WalkthroughSlot.objects.values_list("starts_at", flat=True))
    assert starts == [dt.datetime(2027, 1, 12, h, tzinfo=dt.UTC) for h in (14, 15, 16)]


def test_each_recipient_reads_the_booking_in_their_own_language(
    personas, slot, django_capture_on_commit_callbacks
):
    """The agent chose French, the importer's contact English: the one booking reaches each in
    their own language, whatever language the person booking had on."""
    personas.broker_agent.language = "fr"
    personas.broker_agent.save(update_fields=["language"])
    personas.bam_a.language = "en"
    personas.bam_a.save(update_fields=["language"])

    with translation.override("fr"), django_capture_on_commit_callbacks(execute=True):
        walkthroughs.book(
            slot=slot,
            importer=personas.importer_a,
            by=personas.bam_a,
            contact_email=personas.bam_a.email,
        )

    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipient) == {(personas.bam_a.email,), (personas.broker_agent.email,)}
    english = by_recipient[(personas.bam_a.email,)]
    french = by_recipient[(personas.broker_agent.email,)]
    assert english.cc == [] and french.cc == []
    with translation.override("en"):
        assert english.subject == " ".join(
            render_to_string(
                "services/email/booking_subject.txt",
                {
                    "booking": Booking.objects.get(),
                    "slot": slot,
                    "broker_name": settings.BROKER_NAME,
                },
            ).split()
        )
    assert english.subject != french.subject
    for message in mail.outbox:
        assert Calendar.from_ical(message.attachments[0][1])["method"] == "REQUEST"
