"""Showing a full bank account number: the one way to, checked, audited and told to the BAMs.

``reveal`` is what the bank account page's "Show the full number" and the API's
``POST /api/v1/bank-accounts/{id}/reveal/`` call; nothing else reads a number for a person
(``crypto.reveal_account_number`` is called from here only, and a test greps for it).

* Only a user holding ``Perm.VIEW_BANK_ACCOUNT`` on the account's importer (its BAM) may:
  anyone else gets ``PermissionDenied`` and nothing is written or sent.
* And only with two-factor authentication set up (``access.require_mfa_to_reveal``): a BAM
  without an authenticator gets ``access.MFARequired`` (a ``PermissionDenied``), nothing written.
* Each reveal writes one ``BankAccountReveal`` row (account, user, time, page or API, IP) in the
  same transaction as the decryption: the number never leaves without its row.
* Once that transaction commits, every *other* active BAM of the importer gets an email in their
  own saved language (``carm_portal.user_language``) saying who saw which account (masked), when
  (Eastern time) and how, so a BAM added behind the others' backs cannot read the number
  unnoticed. A mail failure is logged and never undoes the audit row.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carm_portal.calendar import cbsa_zone
from carm_portal.user_language import languages_by_email
from clients import access
from clients.access import Perm
from payments import crypto
from payments.models import BankAccount, BankAccountReveal

if TYPE_CHECKING:
    from clients.access import AnyUser

log = logging.getLogger(__name__)

Channel = BankAccountReveal.Channel

# The reveal log a bank account page shows.
LOG_LENGTH = 20


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, if it is one (``REMOTE_ADDR``: the proxy in front of
    the app when there is one; forwarded headers are not trusted here)."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def reveal(*, bank_account: BankAccount, user: AnyUser, channel: str, ip: str | None = None) -> str:
    """The full account number of ``bank_account`` for ``user``, recorded and told to the BAMs.

    Raises ``PermissionDenied`` (nothing written, nothing sent) unless ``user`` holds
    ``Perm.VIEW_BANK_ACCOUNT`` on the account's importer, and ``access.MFARequired`` (one) unless
    ``user`` has set up two-factor authentication. Callers have already answered 404 for an
    account of an importer the user may not see.
    """
    if channel not in Channel.values:
        raise ValueError(f"Unknown reveal channel {channel!r}.")
    if not access.can(user, Perm.VIEW_BANK_ACCOUNT, bank_account.importer_id):
        raise PermissionDenied(_("Only the importer's Business Account Managers see this number."))
    access.require_mfa_to_reveal(user)
    assert user.is_authenticated  # access.can grants nothing to an anonymous user
    with transaction.atomic():
        entry = BankAccountReveal.objects.create(
            bank_account=bank_account,
            user=user,
            user_email=user.email,
            revealed_at=timezone.now(),
            channel=channel,
            ip=ip,
        )
        # Inside the transaction: an unreadable token rolls the row back (nothing was shown).
        number = crypto.reveal_account_number(bank_account)
        transaction.on_commit(lambda: notify_bams(entry.pk), robust=True)
    return number


def reveal_log(bank_account: BankAccount) -> list[BankAccountReveal]:
    """The last ``LOG_LENGTH`` reveals of the account, newest first (who, when, how; no number)."""
    return list(
        BankAccountReveal.objects.filter(bank_account=bank_account)
        .select_related("user")
        .order_by("-revealed_at", "-id")[:LOG_LENGTH]
    )


# --- The email to the other BAMs -----------------------------------------------------------------


def recipients(entry: BankAccountReveal) -> list[str]:
    """The importer's active BAMs other than the one who revealed the number (their addresses)."""
    return sorted(
        {
            email.lower()
            for email in access.bams_of([entry.bank_account.importer_id])
            .exclude(user_id=entry.user_id)  # type: ignore[misc]  # None (a deleted user) is IS NULL to Django
            .exclude(user__email__iexact=entry.user_email)
            .values_list("user__email", flat=True)
        }
    )


def eastern(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, cbsa_zone())


def render_email(entry: BankAccountReveal, to: str, language: str) -> EmailMultiAlternatives:
    """The notice to one BAM, in ``language``."""
    with translation.override(language):
        account = entry.bank_account
        revealer = entry.user
        context = {
            "entry": entry,
            "account": account,
            "importer": account.importer,
            "who": (revealer.get_full_name() if revealer else "") or entry.user_email,
            "who_email": entry.user_email,
            # Formatted here: the template's date filter would use the server's time zone.
            "when": eastern(entry.revealed_at).strftime("%Y-%m-%d %H:%M"),
            "how": entry.get_channel_display(),
            "url": settings.SITE_URL.rstrip("/") + account.get_absolute_url(),
            "broker_name": settings.BROKER_NAME,
        }
        subject = " ".join(render_to_string("payments/email/reveal_subject.txt", context).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("payments/email/reveal.txt", context),
            to=[to],
        )
        message.attach_alternative(
            render_to_string("payments/email/reveal.html", context), "text/html"
        )
    return message


def notify_bams(entry_id: int) -> int:
    """Email each other active BAM of the importer about reveal ``entry_id``; returns how many
    emails went out. Each recipient gets their own email (one address per ``To``); a failure is
    logged per recipient and never raised: the reveal is recorded either way."""
    entry = BankAccountReveal.objects.select_related("bank_account__importer", "user").get(
        pk=entry_id
    )
    to = recipients(entry)
    languages = languages_by_email(to)
    sent = 0
    for address in to:
        try:
            render_email(entry, address, languages[address]).send()
            sent += 1
        except Exception:
            log.exception(
                "Reveal %s of bank account %s: notice to %s not sent",
                entry.pk,
                entry.bank_account_id,
                address,
            )
    return sent
