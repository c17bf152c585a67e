"""Webinars: registration and waitlist, the e-mails and their .ics, reminders once, attendance,
the attendee CSV, and who may open which page."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from services import spam_guard
from services.models import Registration
from services.reminders import send_due_reminders
from services.webinar_seats import RegistrationClosed, cancel, mark_attendance, register
from tests.kit import persona_cases
from tests.services.factories import RegistrationFactory, WebinarSessionFactory

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")


def _ics_event(message):
    (name, content, mimetype) = message.attachments[0]
    assert name == "webinar.ics"
    assert mimetype.startswith("text/calendar")
    calendar = Calendar.from_ical(content)
    return next(iter(calendar.walk("VEVENT")))


def test_seats_then_waitlist(django_capture_on_commit_callbacks):
    session = WebinarSessionFactory(capacity=2)

    with django_capture_on_commit_callbacks(execute=True):
        a = register(session=session, name="A", email="a@example.com")
        b = register(session=session, name="B", email="b@example.com")
        c = register(session=session, name="C", email="c@example.com")

    assert [a.status, b.status, c.status] == ["confirmed", "confirmed", "waitlisted"]
    # a confirmed seat gets the calendar file; the waitlist gets none
    assert [len(m.attachments) for m in mail.outbox] == [1, 1, 0]


def test_registering_twice_keeps_one_row():
    session = WebinarSessionFactory()

    first = register(session=session, name="A", email="A@example.com")
    again = register(session=session, name="A", email="a@example.com")

    assert first.pk == again.pk
    assert Registration.objects.count() == 1


def test_cancel_promotes_the_oldest_waitlisted(django_capture_on_commit_callbacks):
    session = WebinarSessionFactory(capacity=1)
    seat = register(session=session, name="A", email="a@example.com")
    first_waiting = register(session=session, name="B", email="b@example.com")
    register(session=session, name="C", email="c@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        promoted = cancel(registration=seat)

    assert promoted == first_waiting
    first_waiting.refresh_from_db()
    assert first_waiting.status == "confirmed"
    assert mail.outbox[-1].to == ["b@example.com"]
    assert cancel(registration=seat) is None  # twice: nothing more


def test_no_registration_after_the_start():
    session = WebinarSessionFactory(starts_at=timezone.now() - dt.timedelta(minutes=1))

    with pytest.raises(RegistrationClosed):
        register(session=session, name="A", email="a@example.com")


def test_ics_times_across_the_dst_change(django_capture_on_commit_callbacks):
    # 10:00 Eastern on each side of the 2027 spring-forward (14 March): EST is UTC-5, EDT UTC-4.
    before = WebinarSessionFactory(starts_at=dt.datetime(2027, 3, 12, 10, tzinfo=TORONTO))
    after = WebinarSessionFactory(starts_at=dt.datetime(2027, 3, 15, 10, tzinfo=TORONTO))

    with (
        time_machine.travel(dt.datetime(2027, 3, 1, tzinfo=dt.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        register(session=before, name="A", email="a@example.com")
        register(session=after, name="A", email="a@example.com")

    first, second = (_ics_event(m) for m in mail.outbox)
    assert first["dtstart"].dt == dt.datetime(2027, 3, 12, 15, tzinfo=dt.UTC)
    assert second["dtstart"].dt == dt.datetime(2027, 3, 15, 14, tzinfo=dt.UTC)
    assert first["dtend"].dt - first["dtstart"].dt == dt.timedelta(hours=1)
    assert first["dtstart"].dt.astimezone(TORONTO).hour == 10
    assert second["dtstart"].dt.astimezone(TORONTO).hour == 10
    assert str(first["location"]) == "https://meet.example.com/carm"


def test_the_confirmation_states_the_eastern_time():
    session = WebinarSessionFactory(starts_at=dt.datetime(2027, 7, 6, 13, 30, tzinfo=TORONTO))
    from services.webinar_mail import render

    registration = RegistrationFactory(session=session)

    assert "13:30" in render(registration, "webinar_registered").body


def test_reminders_24h_and_1h_are_sent_once_each():
    start = dt.datetime(2027, 5, 4, 14, tzinfo=dt.UTC)
    session = WebinarSessionFactory(starts_at=start)
    RegistrationFactory(session=session, email="seat@example.com")
    RegistrationFactory(session=session, email="waiting@example.com", status="waitlisted")

    assert send_due_reminders(now=start - dt.timedelta(hours=25)) == 0
    assert send_due_reminders(now=start - dt.timedelta(hours=23)) == 1
    assert send_due_reminders(now=start - dt.timedelta(hours=22)) == 0  # rerun: nothing twice
    assert send_due_reminders(now=start - dt.timedelta(minutes=50)) == 1
    assert send_due_reminders(now=start - dt.timedelta(minutes=40)) == 0
    assert send_due_reminders(now=start + dt.timedelta(minutes=5)) == 0
    assert [m.to for m in mail.outbox] == [["seat@example.com"], ["seat@example.com"]]


def test_a_late_registration_gets_only_the_1h_reminder():
    start = dt.datetime(2027, 5, 4, 14, tzinfo=dt.UTC)
    session = WebinarSessionFactory(starts_at=start)
    RegistrationFactory(session=session)

    sent = send_due_reminders(now=start - dt.timedelta(minutes=30))

    assert sent == 1
    registration = Registration.objects.get()
    assert registration.reminded_1h_at is not None
    assert registration.reminded_24h_at is None


def test_the_beat_task_calls_the_reminders():
    from carm_portal.celery import app
    from services.tasks import send_webinar_reminders

    assert app.conf.beat_schedule["send-webinar-reminders"]["task"] == send_webinar_reminders.name
    start = timezone.now() + dt.timedelta(minutes=30)
    RegistrationFactory(session=WebinarSessionFactory(starts_at=start))

    assert send_webinar_reminders() == 1
    assert send_webinar_reminders() == 0


def test_attendance():
    session = WebinarSessionFactory()
    came = RegistrationFactory(session=session)
    missed = RegistrationFactory(session=session)
    waiting = RegistrationFactory(session=session, status="waitlisted")

    mark_attendance(session=session, attended_ids={came.pk, waiting.pk})

    came.refresh_from_db()
    missed.refresh_from_db()
    waiting.refresh_from_db()
    assert (came.attended, missed.attended, waiting.attended) == (True, False, None)


# --- Pages -----------------------------------------------------------------------------------------

TABLE = [
    ("services:session_list", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("services:session_create", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("services:session_detail", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("services:session_edit", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("services:session_attendance", "post", (302, 302, 403, 403, 403, 403, 403)),
    ("services:session_csv", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("services:webinar_register", "get", (200, 200, 200, 200, 200, 200, 200)),
]


@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, name, method, persona, expected
):
    session = WebinarSessionFactory()
    args = [] if name in ("services:session_list", "services:session_create") else [session.pk]
    client = client_for(personas.all()[persona])

    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == expected


# register from the home page for importer A: its people yes, staff 403, the outsider 404
HOME_TABLE = [("register_me", (403, 403, 403, 302, 302, 302, 404))]


@pytest.mark.parametrize(("row", "persona", "expected"), persona_cases(HOME_TABLE))
def test_register_from_home_per_persona(personas, client_for, row, persona, expected):
    session = WebinarSessionFactory()
    client = client_for(personas.all()[persona])

    response = client.post(
        reverse("services:register_me", args=[session.pk]), {"importer": personas.importer_a.pk}
    )

    assert response.status_code == expected
    registered = Registration.objects.filter(importer=personas.importer_a).count()
    assert registered == (1 if expected == 302 else 0)


def test_home_panel_shows_sessions_and_the_users_registration(personas, client_for):
    session = WebinarSessionFactory(title="Prepare for CARM, spring")
    client = client_for(personas.bam_a)

    before = client.get(reverse("home")).content.decode()
    client.post(
        reverse("services:register_me", args=[session.pk]), {"importer": personas.importer_a.pk}
    )
    after = client.get(reverse("home")).content.decode()

    assert "Prepare for CARM, spring" in before
    assert reverse("services:register_me", args=[session.pk]) in before
    assert reverse("services:register_me", args=[session.pk]) not in after
    registration = Registration.objects.get()
    assert reverse("services:registration_cancel", args=[registration.pk]) in after


def test_home_panel_is_constant_query(personas, client_for):
    client = client_for(personas.bam_a)
    WebinarSessionFactory()
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("home"))
    for _ in range(2):
        RegistrationFactory(session=WebinarSessionFactory(), email=personas.bam_a.email)
    with CaptureQueriesContext(connection) as three:
        client.get(reverse("home"))

    assert len(three) == len(one)


def test_only_the_registrant_or_staff_cancel(personas, client_for):
    registration = RegistrationFactory(user=personas.bam_a, email=personas.bam_a.email)
    url = reverse("services:registration_cancel", args=[registration.pk])

    assert client_for(personas.employee_a).post(url).status_code == 404
    assert client_for(personas.bam_a).post(url).status_code == 302
    registration.refresh_from_db()
    assert registration.status == "cancelled"


def test_attendee_csv_escapes_formulas(personas, client_for):
    session = WebinarSessionFactory()
    RegistrationFactory(session=session, name='=HYPERLINK("http://evil")', attended=True)

    response = client_for(personas.broker_agent).get(
        reverse("services:session_csv", args=[session.pk])
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Name"
    assert rows[1][0].startswith("'=")
    assert rows[1][5] == "yes"


def test_session_form_takes_eastern_time(personas, client_for):
    client = client_for(personas.broker_agent)

    response = client.post(
        reverse("services:session_create"),
        {
            "title": "Prepare for CARM",
            "description": "",
            "starts_at_0": "2027-11-08",
            "starts_at_1": "10:00",
            "duration_minutes": 60,
            "capacity": 30,
            "join_url": "https://meet.example.com/x",
            "language": "en",
        },
    )

    assert response.status_code == 302
    from services.models import WebinarSession

    assert WebinarSession.objects.get().starts_at == dt.datetime(2027, 11, 8, 15, tzinfo=dt.UTC)


def test_public_registration(client, django_capture_on_commit_callbacks):
    import time

    cache.clear()
    session = WebinarSessionFactory(capacity=1)
    RegistrationFactory(session=session)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("services:webinar_register", args=[session.pk]),
            {
                "name": "Pat",
                "email": "pat@example.com",
                "company": "",
                "website": "",
                "shown": spam_guard.form_stamp(time.time() - 20),
            },
        )

    assert response.status_code == 200
    # Double opt-in (tests/services/test_webinar_optin.py): waitlisted only once confirmed.
    assert Registration.objects.get(email="pat@example.com").status == "pending"
    assert "confirmation link within 48 hours" in response.content.decode()
    cache.clear()


def test_a_past_session_has_no_public_page(client):
    session = WebinarSessionFactory(starts_at=timezone.now() - dt.timedelta(hours=2))

    assert client.get(reverse("services:webinar_register", args=[session.pk])).status_code == 404


def test_cancelling_a_session_tells_everyone_once(
    personas, client_for, django_capture_on_commit_callbacks
):
    session = WebinarSessionFactory(capacity=1)
    RegistrationFactory(session=session, email="seat@example.com")
    RegistrationFactory(session=session, email="waiting@example.com", status="waitlisted")
    RegistrationFactory(session=session, email="gone@example.com", status="cancelled")
    client = client_for(personas.broker_agent)
    url = reverse("services:session_cancel", args=[session.pk])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
        client.post(url)

    assert sorted(m.to[0] for m in mail.outbox) == ["seat@example.com", "waiting@example.com"]
    seat = next(m for m in mail.outbox if m.to == ["seat@example.com"])
    assert Calendar.from_ical(seat.attachments[0][1])["method"] == "CANCEL"
    session.refresh_from_db()
    assert session.cancelled_at is not None
    assert send_due_reminders(now=session.starts_at - dt.timedelta(minutes=30)) == 0
    assert client_for(personas.bam_a).post(url).status_code == 403


def test_the_public_list_says_when_a_session_is_full(client):
    full = WebinarSessionFactory(title="Full session", capacity=1)
    RegistrationFactory(session=full)
    WebinarSessionFactory(
        title="Open session", capacity=5, starts_at=full.starts_at + dt.timedelta(days=1)
    )

    page = client.get(reverse("services:webinars")).content.decode()

    assert page.count("Full: you can join the waitlist") == 1
    assert (
        page.index("Full session") < page.index("Full: you can join") < page.index("Open session")
    )
