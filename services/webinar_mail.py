"""The webinar e-mails: the registration (with its .ics when a seat is confirmed) and reminders."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from services.ics import event_calendar, uid_for
from services.models import Registration


def session_ics(registration: Registration) -> bytes:
    session = registration.session
    return event_calendar(
        cancelled=session.cancelled_at is not None,
        sequence=1 if session.cancelled_at is not None else 0,
        uid=uid_for("webinar", session.pk),
        summary=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        description=session.description,
        location=session.join_url,
        organizer_email=settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">"),
    )


def render(registration: Registration, template: str) -> EmailMultiAlternatives:
    """``template`` names a subject/text/html triple under ``services/email/``."""
    context = {
        "registration": registration,
        "session": registration.session,
        "broker_name": settings.BROKER_NAME,
        "eastern": settings.CBSA_TIME_ZONE,
    }
    with translation.override(registration.language or settings.LANGUAGE_CODE):
        subject = " ".join(
            render_to_string(f"services/email/{template}_subject.txt", context).split()
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"services/email/{template}.txt", context),
            to=[registration.email],
        )
        message.attach_alternative(
            render_to_string(f"services/email/{template}.html", context), "text/html"
        )
    if registration.status == Registration.Status.CONFIRMED:
        method = "CANCEL" if registration.session.cancelled_at else "REQUEST"
        message.attach("webinar.ics", session_ics(registration), f"text/calendar; method={method}")
    return message


def send_registration_email(registration: Registration) -> None:
    render(registration, "webinar_registered").send()


def send_reminder(registration: Registration) -> None:
    render(registration, "webinar_reminder").send()


def send_session_cancelled(registration: Registration) -> None:
    render(registration, "webinar_cancelled").send()
