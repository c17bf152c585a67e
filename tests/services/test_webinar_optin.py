"""Public webinar sign-ups are double opt-in: the seat is given when the e-mailed link is
confirmed, not when the form is sent; a signed-in importer's person needs no link."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from services import spam_guard
from services.models import Registration
from services.webinar_optin import confirm_token
from services.webinar_seats import (
    RegistrationClosed,
    confirm_registration,
    register,
    with_seat_counts,
)
from tests.services.factories import RegistrationFactory, WebinarSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _sign_up(client, session, email="pat@example.com", **extra):
    return client.post(
        reverse("services:webinar_register", args=[session.pk]),
        {
            "name": "Pat Visitor",
            "email": email,
            "company": "Maple Imports Ltd.",
            "website": "",
            "shown": spam_guard.form_stamp(time.time() - 20),
        },
        REMOTE_ADDR="203.0.113.9",
        **extra,
    )


def _link_path(message) -> str:
    link = re.search(r"https?://\S+/services/webinars/confirm/\S+/", message.body).group(0)
    return "/" + link.split("/", 3)[3]


def test_a_visitors_sign_up_holds_no_seat_until_the_link_is_confirmed(
    client, django_capture_on_commit_callbacks
):
    session = WebinarSessionFactory(capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client, session)

    assert response.status_code == 200
    registration = Registration.objects.get(email="pat@example.com")
    assert registration.status == "pending"
    assert with_seat_counts(type(session).objects.filter(pk=session.pk)).get().confirmed == 0
    [message] = mail.outbox
    assert message.to == ["pat@example.com"]
    assert message.attachments == []  # no calendar file before the seat
    assert "The link works for 48 hours" in message.body

    path = _link_path(message)
    assert client.get(path).status_code == 200  # a mail scanner's GET takes nothing
    assert Registration.objects.get(pk=registration.pk).status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 200
    assert "Registration confirmed" in response.content.decode()
    assert Registration.objects.get(pk=registration.pk).status == "confirmed"
    assert len(mail.outbox) == 2
    assert mail.outbox[1].attachments[0][0] == "webinar.ics"


def test_confirming_twice_gives_one_seat_and_one_email(client, django_capture_on_commit_callbacks):
    session = WebinarSessionFactory(capacity=2)
    registration = register(session=session, name="Pat", email="pat@example.com", opt_in=True)
    path = reverse("services:webinar_confirm", args=[confirm_token(registration)])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(path)
        second = client.post(path)

    assert second.status_code == 200
    assert list(Registration.objects.values_list("status", flat=True)) == ["confirmed"]
    assert len(mail.outbox) == 1


def test_an_expired_link_takes_no_seat_and_a_new_sign_up_sends_a_fresh_one(
    client, django_capture_on_commit_callbacks
):
    session = WebinarSessionFactory(capacity=2, starts_at=timezone.now() + dt.timedelta(days=10))
    registration = register(session=session, name="Pat", email="pat@example.com", opt_in=True)
    path = reverse("services:webinar_confirm", args=[confirm_token(registration)])

    with time_machine.travel(timezone.now() + dt.timedelta(hours=49)):
        response = client.post(path)
        assert response.status_code == 404
        assert "links work for 48 hours" in response.content.decode()
        assert Registration.objects.get().status == "pending"
        with django_capture_on_commit_callbacks(execute=True):
            _sign_up(client, session)
        fresh = _link_path(mail.outbox[-1])
        with django_capture_on_commit_callbacks(execute=True):
            client.post(fresh)

    assert Registration.objects.get().status == "confirmed"  # the same row, not a second one


def test_a_tampered_link_or_another_address_confirms_nothing(client):
    session = WebinarSessionFactory()
    registration = register(session=session, name="Pat", email="pat@example.com", opt_in=True)
    token = confirm_token(registration)

    assert (
        client.post(reverse("services:webinar_confirm", args=[token[:-2] + "xx"])).status_code
        == 404
    )
    Registration.objects.filter(pk=registration.pk).update(email="other@example.com")
    assert client.post(reverse("services:webinar_confirm", args=[token])).status_code == 404
    assert Registration.objects.get().status == "pending"


def test_seats_go_in_confirmation_order(django_capture_on_commit_callbacks):
    """An unconfirmed visitor keeps nobody out: whoever confirms first takes the last seat."""
    session = WebinarSessionFactory(capacity=1)
    early = register(session=session, name="Early", email="early@example.com", opt_in=True)
    late = register(session=session, name="Late", email="late@example.com", opt_in=True)

    assert confirm_registration(late).status == "confirmed"
    assert confirm_registration(early).status == "waitlisted"


def test_no_confirmation_once_the_session_has_started():
    session = WebinarSessionFactory(starts_at=timezone.now() + dt.timedelta(hours=2))
    registration = register(session=session, name="Pat", email="pat@example.com", opt_in=True)

    with pytest.raises(RegistrationClosed):
        confirm_registration(registration, now=session.starts_at + dt.timedelta(minutes=1))
    assert Registration.objects.get().status == "pending"


def test_a_signed_in_importer_person_needs_no_link(
    personas, client_for, django_capture_on_commit_callbacks
):
    session = WebinarSessionFactory(capacity=5)
    client = client_for(personas.bam_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client, session, email=personas.bam_a.email.upper())

    assert response.status_code == 200
    registration = Registration.objects.get()
    assert (registration.status, registration.user) == ("confirmed", personas.bam_a)
    assert mail.outbox[0].attachments[0][0] == "webinar.ics"


def test_a_signed_in_person_registering_someone_else_still_needs_the_link(personas, client_for):
    session = WebinarSessionFactory(capacity=5)
    _sign_up(client_for(personas.bam_a), session, email="colleague@example.com")

    assert Registration.objects.get().status == "pending"


def test_pending_registrations_get_no_reminder_and_no_cancellation_email(
    django_capture_on_commit_callbacks,
):
    from services.reminders import send_due_reminders
    from services.webinar_seats import cancel_session

    session = WebinarSessionFactory(starts_at=timezone.now() + dt.timedelta(minutes=50))
    RegistrationFactory(session=session, status=Registration.Status.PENDING)
    send_due_reminders()
    with django_capture_on_commit_callbacks(execute=True):
        assert cancel_session(session=session) == 0
    assert mail.outbox == []
