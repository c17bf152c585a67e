"""The public interest form: record a sign-up, e-mail a confirmation link, count it once confirmed.

Double opt-in: the form only records a claim; the lead counts (appears in the staff pipeline) when
the address's owner follows the signed link. The link names the prospect and expires after
``CONFIRM_DAYS``; following it twice confirms once. No account is created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from services.models import Prospect

CONFIRM_DAYS = 7
_SALT = "services.interest-confirm"


def confirm_token(prospect: Prospect) -> str:
    # The e-mail address is signed too: a token for one address never confirms another.
    return signing.dumps({"p": prospect.pk, "e": prospect.email.lower()}, salt=_SALT)


def confirm_url(prospect: Prospect) -> str:
    path = reverse("services:interest_confirm", args=[confirm_token(prospect)])
    return settings.SITE_URL.rstrip("/") + path


def record_interest(
    *,
    name: str,
    company: str,
    email: str,
    phone: str = "",
    bn9: str = "",
    services: Iterable[str] = (),
    message: str = "",
    language: str = "en",
    now: dt.datetime | None = None,
) -> Prospect:
    """Record (or refresh) an unconfirmed sign-up and send its confirmation link after commit.

    A second sign-up from the same address before it is confirmed updates that row and sends a
    fresh link, so a retyped form never leaves two claims.
    """
    now = now or timezone.now()
    email = email.strip().lower()
    values = {
        "name": name.strip(),
        "company": company.strip(),
        "phone": phone,
        "bn9": bn9,
        "services": sorted(set(services)),
        "message": message.strip(),
        "language": language,
        "consent_at": now,
    }
    with transaction.atomic():
        prospect = (
            Prospect.objects.select_for_update()
            .filter(email=email, confirmed_at=None, importer=None)
            .first()
        )
        if prospect is None:
            prospect = Prospect(email=email, **values)
        else:
            for field, value in values.items():
                setattr(prospect, field, value)
        prospect.full_clean()
        prospect.save()
        transaction.on_commit(lambda: send_confirmation(prospect), robust=True)
    return prospect


def prospect_from_token(token: str) -> Prospect | None:
    """The prospect a confirmation link names, or None (bad, forged, expired or stale link)."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=dt.timedelta(days=CONFIRM_DAYS))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    pk = data.get("p")
    if not isinstance(pk, int):
        return None
    prospect = Prospect.objects.filter(pk=pk).first()
    if prospect is None or prospect.email.lower() != data.get("e"):
        return None
    return prospect


def confirm_interest(prospect: Prospect, *, now: dt.datetime | None = None) -> bool:
    """Count the lead; True the first time only (a conditional update: one click, one lead)."""
    changed = Prospect.objects.filter(pk=prospect.pk, confirmed_at=None).update(
        confirmed_at=now or timezone.now()
    )
    prospect.refresh_from_db(fields=["confirmed_at"])
    return changed == 1


def render_confirmation(prospect: Prospect) -> EmailMultiAlternatives:
    context = {
        "prospect": prospect,
        "url": confirm_url(prospect),
        "days": CONFIRM_DAYS,
        "broker_name": settings.BROKER_NAME,
    }
    with translation.override(prospect.language or settings.LANGUAGE_CODE):
        subject = " ".join(
            render_to_string("services/email/interest_confirm_subject.txt", context).split()
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("services/email/interest_confirm.txt", context),
            to=[prospect.email],
        )
        message.attach_alternative(
            render_to_string("services/email/interest_confirm.html", context), "text/html"
        )
    return message


def send_confirmation(prospect: Prospect) -> None:
    render_confirmation(prospect).send()
