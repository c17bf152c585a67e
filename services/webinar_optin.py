"""Double opt-in for the public webinar form: the signed confirmation link and its e-mail.

The rule (``services.webinar_seats``): a visitor's registration takes no seat and no waitlist
place until the address's owner follows the link and presses "Confirm"; only then is the session
row locked and a seat (or the waitlist) given, in confirmation order. The link works for
``CONFIRM_HOURS`` and never once the session has started; an unconfirmed registration simply
expires (it holds nothing, so nothing needs releasing) and registering again sends a fresh link.
A person signed in as one of an importer's people registers from their home page without it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from services.models import Registration

CONFIRM_HOURS = 48
_SALT = "services.webinar-confirm"


def confirm_token(registration: Registration) -> str:
    # The address is signed too: a link for one address never confirms another's row.
    return signing.dumps({"r": registration.pk, "e": registration.email.lower()}, salt=_SALT)


def confirm_url(registration: Registration) -> str:
    path = reverse("services:webinar_confirm", args=[confirm_token(registration)])
    return settings.SITE_URL.rstrip("/") + path


def registration_from_token(token: str) -> Registration | None:
    """The registration a link names, or None (bad, forged or expired link, or another address)."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=dt.timedelta(hours=CONFIRM_HOURS))
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int):
        return None
    registration = Registration.objects.select_related("session").filter(pk=data["r"]).first()
    if registration is None or registration.email.lower() != data.get("e"):
        return None
    return registration


def render_confirmation(registration: Registration) -> EmailMultiAlternatives:
    context = {
        "registration": registration,
        "session": registration.session,
        "url": confirm_url(registration),
        "hours": CONFIRM_HOURS,
        "broker_name": settings.BROKER_NAME,
        "eastern": settings.CBSA_TIME_ZONE,
    }
    with translation.override(registration.language or settings.LANGUAGE_CODE):
        subject = " ".join(
            render_to_string("services/email/webinar_confirm_subject.txt", context).split()
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("services/email/webinar_confirm.txt", context),
            to=[registration.email],
        )
        message.attach_alternative(
            render_to_string("services/email/webinar_confirm.html", context), "text/html"
        )
    return message


def send_confirmation(registration: Registration) -> None:
    render_confirmation(registration).send()
