"""Invitations: how an importer's people get a login (there is no open sign-up).

A broker agent invites an importer's contact, usually as its Business Account Manager (BAM); a
BAM then invites colleagues as finance or employee members (never another BAM: that role carries
the bank account and the CCP delegation, so the broker grants it). The email carries a one-time
link; only a SHA-256 hash of its token is stored, so a database leak reveals no usable link.

Lifecycle (``state``): pending -> accepted, or revoked, or expired once ``expires_at`` passes.

A BAM sees full bank account numbers, so whoever must not see them must not be able to make
themselves (or an address they control) a BAM. A new BAM invited by anyone but one of the
importer's BAMs is first *awaiting confirmation*: the importer's BAMs are asked to confirm it on a
page (signed in), or, while the importer has no BAM, its contact address (``Importer.email``) gets
a one-time confirmation link. Only a confirmation issues the invitation link; a first BAM invited
at the contact address itself needs none (the link goes to the contact).
Resending issues a new token and a fresh expiry: the old link stops working at once. Inviting an
address that already has an open invitation for the importer resends that invitation (with the
new role and name) rather than creating a second one: the person gets one working link, and the
database holds one open invitation per address (a partial unique constraint).
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carm_portal import stored_text as later
from carm_portal.notification_models import Kind
from carm_portal.notifications import notify
from clients import access
from clients.models import Importer, Invitation, Membership, PortalUser

if TYPE_CHECKING:
    from carm_portal.models import User
    from clients.access import AnyUser

log = logging.getLogger(__name__)

State = Invitation.State


class InvitationError(Exception):
    """A refusal to show the person as is (translated, plain language).

    ``field`` names the input at fault ("email", "role") so a form or the API can put the message
    next to it; None when the refusal is about the invitation as a whole (resend, revoke, accept).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvitationThrottled(InvitationError):
    """Sending now would flood the address: ``retry_after`` seconds until it is allowed again."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, field=None)
        self.retry_after = retry_after


# --- How often one address is emailed ---------------------------------------------------------
# An invitation is not sent again within INVITATION_RESEND_MIN_SECONDS of its last sending, and
# one address receives at most INVITATION_SENDS_PER_ADDRESS_PER_DAY invitations in a UTC day,
# whoever sends them and for whichever importer: an address must not be flooded by resends, nor
# by invitations from several importers. The day's count lives in the cache (Redis in
# production, shared by every process); None for no limit.

_DAY = 86_400


def _address_key(email: str, now: datetime) -> str:
    day = int(now.timestamp()) // _DAY
    return f"invitation-sends:{hashlib.sha256(email.encode()).hexdigest()[:32]}:{day}"


def check_send_rate(invitation: Invitation | None, email: str, now: datetime) -> None:
    """Raise ``InvitationThrottled`` if ``invitation`` (already sent) or ``email`` may not be
    emailed now."""
    interval = getattr(settings, "INVITATION_RESEND_MIN_SECONDS", 0) or 0
    if invitation is not None and invitation.last_sent_at is not None and interval:
        wait = interval - (now - invitation.last_sent_at).total_seconds()
        if wait > 0:
            raise InvitationThrottled(
                ngettext(
                    "This invitation was sent less than %(n)d second ago; wait a moment before "
                    "sending it again.",
                    "This invitation was sent less than %(n)d seconds ago; wait a moment before "
                    "sending it again.",
                    interval,
                )
                % {"n": interval},
                retry_after=math.ceil(wait),
            )
    limit = getattr(settings, "INVITATION_SENDS_PER_ADDRESS_PER_DAY", None)
    if limit and (cache.get(_address_key(email, now)) or 0) >= limit:
        raise InvitationThrottled(
            _("%(email)s has received as many invitations as allowed today; try again tomorrow.")
            % {"email": email},
            retry_after=_DAY - int(now.timestamp()) % _DAY,
        )


def _count_send(email: str, now: datetime) -> None:
    if not getattr(settings, "INVITATION_SENDS_PER_ADDRESS_PER_DAY", None):
        return
    key = _address_key(email, now)
    cache.add(key, 0, timeout=_DAY)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_DAY)


# --- Tokens -----------------------------------------------------------------------------------


def new_token() -> str:
    """A URL-safe secret of 256 bits: the one copy lives in the emailed link."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expiry_from(now: datetime) -> datetime:
    return now + timedelta(days=settings.INVITATION_EXPIRY_DAYS)


def accept_url(token: str) -> str:
    """The absolute link of the email (SITE_URL: emails are built outside any request)."""
    return settings.SITE_URL.rstrip("/") + reverse("invitations:accept", args=[token])


# --- Reading ------------------------------------------------------------------------------------


def state(invitation: Invitation, now: datetime | None = None) -> State:
    """Where the invitation stands; revoked and accepted win over the clock."""
    if invitation.revoked_at:
        return State.REVOKED
    if invitation.accepted_at:
        return State.ACCEPTED
    if invitation.confirmation_required and invitation.confirmed_at is None:
        return State.AWAITING_CONFIRMATION
    if invitation.expires_at <= (now or timezone.now()):
        return State.EXPIRED
    return State.PENDING


def state_filter(wanted: str, now: datetime | None = None) -> Q:
    """``state()`` as a query: the invitations that are ``wanted`` at ``now`` (for list filters)."""
    now = now or timezone.now()
    still_open = Q(accepted_at__isnull=True, revoked_at__isnull=True)
    awaiting = Q(confirmation_required=True, confirmed_at__isnull=True)
    by_state: dict[str, Q] = {
        State.REVOKED: Q(revoked_at__isnull=False),
        State.ACCEPTED: Q(accepted_at__isnull=False, revoked_at__isnull=True),
        State.AWAITING_CONFIRMATION: still_open & awaiting,
        State.EXPIRED: still_open & ~awaiting & Q(expires_at__lte=now),
        State.PENDING: still_open & ~awaiting & Q(expires_at__gt=now),
    }
    return by_state[wanted]


def is_open(invitation: Invitation) -> bool:
    """Neither accepted nor revoked (an expired invitation is still open: it can be resent)."""
    return invitation.accepted_at is None and invitation.revoked_at is None


def find_by_token(token: str) -> Invitation | None:
    """The invitation a link points to, whatever its state, or None for an unknown token."""
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("importer__assigned_agent", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


def allowed_roles(user: AnyUser, importer: Importer) -> list[str]:
    """The membership roles ``user`` may invite people to on ``importer`` (empty: may not invite)."""
    return access.invitable_roles(user, importer)


def may_manage(user: AnyUser, invitation: Invitation) -> bool:
    """Resend and revoke follow the same rule as inviting: a BAM handles only the roles it may give."""
    return invitation.role in allowed_roles(user, invitation.importer)


def needs_confirmation(*, importer: Importer, role: str, invited_by: AnyUser) -> bool:
    """A new BAM waits for a confirmation unless one of the importer's BAMs invited them."""
    return access.is_bam_role(role) and not access.is_bam_of(invited_by, importer)


def confirming_bams(importer: Importer) -> list[User]:
    """The importer's active BAMs, who confirm a new BAM (none: its contact address does)."""
    return [m.user for m in access.bams_of([importer.pk])]


def may_confirm(user: AnyUser, invitation: Invitation) -> bool:
    """Who may confirm (or decline) a new BAM on a page: one of the importer's BAMs."""
    return access.is_bam_of(user, invitation.importer_id)


def find_by_confirm_token(token: str) -> Invitation | None:
    """The invitation an importer contact's confirmation link points to, if still awaiting."""
    if not token or len(token) > 200:
        return None
    invitation = (
        Invitation.objects.select_related("importer", "invited_by")
        .filter(confirm_token_hash=hash_token(token))
        .first()
    )
    if invitation is None or state(invitation) != State.AWAITING_CONFIRMATION:
        return None
    return invitation


def is_member(importer: Importer, email: str) -> bool:
    return Membership.objects.filter(importer=importer, user__email__iexact=email).exists()


# --- Changing ------------------------------------------------------------------------------------


def _issue(invitation: Invitation, now: datetime) -> str:
    """Give the invitation a new token and expiry and count the sending; return the raw token."""
    token = new_token()
    invitation.token_hash = hash_token(token)
    invitation.expires_at = expiry_from(now)
    invitation.sent_count += 1
    invitation.last_sent_at = now
    return token


def invite(
    *,
    importer: Importer,
    email: str,
    role: str,
    full_name: str = "",
    invited_by: User,
) -> tuple[Invitation, str]:
    """Invite ``email`` to join ``importer`` with ``role``; the email goes out on commit.

    Refused (``InvitationError``) when the inviter may not give that role or the address already
    belongs to a member. An open invitation for the same address is resent (new token, fresh
    expiry, role and name updated) instead of duplicated: ``invitation.sent_count > 1`` tells.
    """
    email = email.strip().lower()
    if role not in allowed_roles(invited_by, importer):
        raise InvitationError(
            _("You may not invite people with this role for this importer."), field="role"
        )
    if access.is_broker_email(email):
        raise InvitationError(
            _("%(email)s belongs to the broker's staff, who see every importer already.")
            % {"email": email},
            field="email",
        )
    if is_member(importer, email):
        raise InvitationError(
            _("%(email)s is already a member of this importer.") % {"email": email},
            field="email",
        )
    now = timezone.now()
    check_send_rate(None, email, now)
    try:
        with transaction.atomic():
            invitation = (
                Invitation.objects.select_for_update()
                .filter(
                    importer=importer,
                    email=email,
                    accepted_at__isnull=True,
                    revoked_at__isnull=True,
                )
                .first()
            )
            if invitation is None:
                invitation = Invitation(importer=importer, email=email, invited_by=invited_by)
            else:
                check_send_rate(invitation, email, now)
            if invitation.pk and not may_manage(invited_by, invitation):
                # e.g. a BAM re-inviting as employee someone the broker invited as BAM
                raise InvitationError(
                    _("%(email)s already has an invitation as %(role)s, which you may not change.")
                    % {"email": email, "role": invitation.get_role_display()},
                    field="email",
                )
            invitation.role = role
            invitation.full_name = full_name.strip() or invitation.full_name
            token = _issue(invitation, now)
            confirm_with = _ask_confirmation(invitation, invited_by=invited_by)
            invitation.save()
    except IntegrityError:
        # Someone invited the same address at the same moment: theirs stands.
        raise InvitationError(
            _("%(email)s was invited a moment ago; refresh the page.") % {"email": email},
            field="email",
        ) from None
    _count_send(email, now)
    if confirm_with is None:
        _send_on_commit(invitation, token)
    else:
        _send_confirmation_on_commit(invitation, confirm_with)
    return invitation, token


def _ask_confirmation(invitation: Invitation, *, invited_by: User) -> ConfirmWith | None:
    """Set the invitation's confirmation fields; what to send instead of the invitation (None:
    send the invitation itself). Raises ``InvitationError`` when nobody could confirm."""
    importer = invitation.importer
    invitation.confirmed_at = None
    invitation.confirmed_by = None
    invitation.confirm_token_hash = ""
    invitation.confirmation_sent_to = ""
    invitation.confirmation_required = needs_confirmation(
        importer=importer, role=invitation.role, invited_by=invited_by
    )
    if not invitation.confirmation_required:
        return None
    bams = confirming_bams(importer)
    if bams:
        return ConfirmWith(bams=bams, token="")
    contact = (importer.email or "").strip().lower()
    if not contact:
        raise InvitationError(
            _(
                "%(importer)s has no BAM yet and no general email on record. Its first BAM is "
                "confirmed through that address: record the importer's email first."
            )
            % {"importer": importer.legal_name},
            field="role",
        )
    if contact == invitation.email:
        invitation.confirmation_required = False  # the invitation goes to the contact itself
        return None
    token = new_token()
    invitation.confirm_token_hash = hash_token(token)
    invitation.confirmation_sent_to = contact
    return ConfirmWith(bams=[], token=token)


@dataclass(frozen=True)
class ConfirmWith:
    """Who is asked to confirm a new BAM: the importer's BAMs, or its contact through ``token``."""

    bams: list[User]
    token: str


def confirm(
    invitation: Invitation, *, by: AnyUser | None, token: str = "", approve: bool = True
) -> str:
    """A BAM (signed in, ``by``) or the importer's contact (``token`` from the link) confirms a new
    BAM: the invitation link is issued and sent now. ``approve=False`` declines it (revoked).
    Returns the invitation's raw token ("" when declined)."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("importer").get(pk=invitation.pk)
        )
        if state(invitation) != State.AWAITING_CONFIRMATION:
            raise InvitationError(_("This invitation is not waiting for a confirmation."))
        by_contact = bool(token) and hash_token(token) == invitation.confirm_token_hash
        if not by_contact and not (by is not None and may_confirm(by, invitation)):
            raise InvitationError(_("Only the importer's BAM may confirm a new BAM."))
        user = by if by is not None and by.is_authenticated else None
        now = timezone.now()
        invitation.confirm_token_hash = ""
        if not approve:
            invitation.revoked_at = now
            invitation.revoked_by = user
            invitation.save(update_fields=["confirm_token_hash", "revoked_at", "revoked_by"])
            return ""
        invitation.confirmed_at = now
        invitation.confirmed_by = user
        raw = _issue(invitation, now)
        invitation.save(
            update_fields=[
                "confirm_token_hash",
                "confirmed_at",
                "confirmed_by",
                "token_hash",
                "expires_at",
                "sent_count",
                "last_sent_at",
            ]
        )
    _send_on_commit(invitation, raw)
    return raw


def resend(invitation: Invitation, *, by: User) -> str:
    """Send the invitation again with a new link and a fresh expiry; the old link dies now."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not is_open(invitation):
            raise InvitationError(
                _("This invitation was %(state)s; it cannot be sent again. Invite the person anew.")
                % {"state": _state_word(invitation)}
            )
        if is_member(invitation.importer, invitation.email):
            raise InvitationError(_("%(email)s is already a member.") % {"email": invitation.email})
        now = timezone.now()
        check_send_rate(invitation, invitation.email, now)
        token = _issue(invitation, now)
        if state(invitation) == State.AWAITING_CONFIRMATION:
            # Ask again (a new confirmation link for the contact); still no invitation link.
            confirm_with = _ask_confirmation(invitation, invited_by=invitation.invited_by or by)
            invitation.save()
            if confirm_with is not None:
                _count_send(invitation.email, now)
                _send_confirmation_on_commit(invitation, confirm_with)
                return token
        else:
            invitation.save(
                update_fields=["token_hash", "expires_at", "sent_count", "last_sent_at"]
            )
    _count_send(invitation.email, now)
    _send_on_commit(invitation, token)
    return token


def revoke(invitation: Invitation, *, by: User) -> Invitation:
    """Kill the link. An accepted invitation cannot be revoked: remove the membership instead."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at:
            raise InvitationError(_("This invitation was already accepted; it cannot be revoked."))
        if invitation.revoked_at:
            return invitation  # twice is the same as once
        invitation.revoked_at = timezone.now()
        invitation.revoked_by = by
        invitation.save(update_fields=["revoked_at", "revoked_by"])
    return invitation


def accept(invitation: Invitation, *, user: User, verify_email: bool = True) -> Membership:
    """Join ``user`` to the importer with the invited role; the link works once.

    The signed-in address must be the invited one (the link proved that mailbox, not another).
    A person who became a member some other way keeps their membership as it is. The link proved
    the address, so its allauth ``EmailAddress`` is marked verified (``_mark_verified``), except
    with ``verify_email=False``: allauth's sign-up creates the address itself (as the stashed,
    verified one) just after saving the new user, and refuses to find one already there.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("importer").get(pk=invitation.pk)
        )
        current = state(invitation)
        if current != State.PENDING:
            raise InvitationError(_state_refusal(current))
        if not access.may_hold_membership(user):
            raise InvitationError(
                _("This account belongs to the broker's staff, who cannot join an importer.")
            )
        if user.email.strip().lower() != invitation.email:
            raise InvitationError(
                _("This invitation is for %(email)s, not for the account you are signed in with.")
                % {"email": invitation.email}
            )
        membership, _created = Membership.objects.get_or_create(
            user=user, importer=invitation.importer, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if not user.full_name and invitation.full_name:
            user.full_name = invitation.full_name
            user.save(update_fields=["full_name"])
        PortalUser.objects.filter(
            importer=invitation.importer, email=invitation.email, user__isnull=True
        ).update(user=user)
        if verify_email:
            _mark_verified(user, invitation.email)
        if invitation.invited_by_id is not None and invitation.invited_by_id != user.pk:
            notify(
                kind=Kind.INVITATION_ACCEPTED,
                recipients=[invitation.invited_by_id],
                key=f"invitation:{invitation.pk}:accepted",
                text=later.gettext(
                    "%(importer)s: %(who)s accepted your invitation.",
                    {"who": user.get_full_name(), "importer": invitation.importer.legal_name},
                ),
                url=invitation.importer.get_absolute_url(),
            )
    access.forget(user)
    return membership


def _mark_verified(user: User, email: str) -> None:
    """Record in allauth that ``user`` proved ``email``: opening the link read that mailbox.

    An account made by a broker admin or an import may have no ``EmailAddress`` row at all, or an
    unverified one; with mandatory verification either would send the person to "check your
    email" at their next sign-in. The row is created (primary if they have none) or flagged. If
    another account already holds the address verified (allauth's unique constraint), nothing is
    changed: that is for the broker to sort out, not for an invitation to overwrite.
    """
    from allauth.account.models import EmailAddress

    email = email.strip().lower()
    if EmailAddress.objects.filter(email__iexact=email, verified=True).exclude(user=user).exists():
        log.warning("invitation: %s is verified on another account; left as it is", email)
        return
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=not has_primary)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])


def _state_word(invitation: Invitation) -> str:
    return {
        State.ACCEPTED: _("accepted"),
        State.REVOKED: _("revoked"),
        State.EXPIRED: _("expired"),
        State.PENDING: _("pending"),
        State.AWAITING_CONFIRMATION: _("awaiting confirmation"),
    }[state(invitation)]


def _state_refusal(current: State) -> str:
    return {
        State.AWAITING_CONFIRMATION: _(
            "This invitation is waiting for the importer's confirmation."
        ),
        State.ACCEPTED: _("This invitation link was already used."),
        State.REVOKED: _("This invitation was withdrawn."),
        State.EXPIRED: _("This invitation link has expired."),
    }.get(current, _("This invitation cannot be accepted."))


# --- The email ------------------------------------------------------------------------------------


def render_invitation_email(
    invitation: Invitation, token: str, language: str | None = None
) -> EmailMultiAlternatives:
    """Subject, text and HTML in ``language``, else the active one.

    The invited person has no account, so no saved language yet: the email goes in the language
    of the page the inviter sent it from (``_send_on_commit`` notes it at that moment).
    """
    importer = invitation.importer
    context = {
        "invitation": invitation,
        "importer": importer,
        "role_label": invitation.get_role_display(),
        "is_bam": access.is_bam_role(invitation.role),
        "inviter": invitation.invited_by,
        "agent": importer.assigned_agent,
        "url": accept_url(token),
        "expires_at": invitation.expires_at,
        "expiry_days": settings.INVITATION_EXPIRY_DAYS,
        "broker_name": settings.BROKER_NAME,
        "site_url": settings.SITE_URL,
    }
    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        subject = " ".join(
            render_to_string("clients/email/invitation_subject.txt", context).split()
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("clients/email/invitation.txt", context),
            to=[invitation.email],
            # A question in reply goes to the person who invited them, not to a no-reply box.
            reply_to=[invitation.invited_by.email] if invitation.invited_by else None,
        )
        message.attach_alternative(
            render_to_string("clients/email/invitation.html", context), "text/html"
        )
    return message


def send_invitation_email(invitation: Invitation, token: str, language: str | None = None) -> None:
    """Send now. Called on commit, so a rolled-back invitation never mails a dead link."""
    render_invitation_email(invitation, token, language).send()


def _send_on_commit(invitation: Invitation, token: str) -> None:
    # The inviter's language now, while their request is active (the commit may come later).
    language = translation.get_language() or settings.LANGUAGE_CODE
    # robust: a mail server failure is logged, the invitation stays and can be resent.
    transaction.on_commit(lambda: send_invitation_email(invitation, token, language), robust=True)


# --- The confirmation request (a new BAM) ---------------------------------------------------------


def confirm_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("invitations:confirm_by_contact", args=[token])


def render_confirmation_email(
    invitation: Invitation, *, to: str, url: str, language: str
) -> EmailMultiAlternatives:
    """Asks ``to`` (a BAM or the importer's contact) to confirm or decline a new BAM."""
    context = {
        "invitation": invitation,
        "importer": invitation.importer,
        "inviter": invitation.invited_by,
        "url": url,
        "broker_name": settings.BROKER_NAME,
    }
    with translation.override(language):
        subject = " ".join(
            render_to_string("clients/email/bam_confirmation_subject.txt", context).split()
        )
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("clients/email/bam_confirmation.txt", context),
            to=[to],
        )
        message.attach_alternative(
            render_to_string("clients/email/bam_confirmation.html", context), "text/html"
        )
    return message


def _send_confirmation_on_commit(invitation: Invitation, confirm_with: ConfirmWith) -> None:
    inviter_language = translation.get_language() or settings.LANGUAGE_CODE
    if confirm_with.token:
        messages = [
            render_confirmation_email(
                invitation,
                to=invitation.confirmation_sent_to,
                url=confirm_url(confirm_with.token),
                language=inviter_language,
            )
        ]
    else:
        page = settings.SITE_URL.rstrip("/") + reverse("invitations:confirm", args=[invitation.pk])
        messages = [
            render_confirmation_email(
                invitation,
                to=bam.email,
                url=page,
                language=bam.language or settings.LANGUAGE_CODE,
            )
            for bam in confirm_with.bams
        ]

    def send() -> None:
        for message in messages:
            message.send()

    # robust: a mail failure is logged; "Resend" asks again.
    transaction.on_commit(send, robust=True)
