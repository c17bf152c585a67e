"""django-allauth adapter: nobody signs up on their own.

Broker staff are created by a broker admin; importer people arrive by invitation, so an open
signup form would be a way around tenancy. The invitation link (``clients.invitation_views.accept``)
puts its token in the session under ``INVITATION_SESSION_KEY``; only then is signup open, and only
for the invited address. The link proved that mailbox, so the new address is verified at once
(allauth's "stashed verified email", plus ``is_email_verified`` below) and no confirmation email
is sent. Saving the user accepts the invitation in the same transaction, creating the membership.

A person who already has an account is sent to sign in instead (the login page names the waiting
invitation and fills in the address). Signing in with the invited address accepts the invitation
in ``pre_login``, before allauth's stages run: the link proved the mailbox, so accepting marks the
address verified and mandatory verification no longer stops an account whose address was never
confirmed; and the acceptance does not depend on the ``next`` URL surviving the detour.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.forms import BaseForm
    from django.http import HttpResponse

    from carm_portal.models import User
    from clients.models import Invitation

log = logging.getLogger(__name__)

INVITATION_SESSION_KEY = "carm_invitation_token"


def invitation_in_session(request: HttpRequest | None) -> Invitation | None:
    """The pending invitation whose link this browser opened, if it is still pending."""
    if request is None or not hasattr(request, "session"):
        return None
    token = request.session.get(INVITATION_SESSION_KEY)
    if not token:
        return None
    from clients import invitations

    invitation = invitations.find_by_token(token)
    if invitation is None or invitations.state(invitation) != invitations.State.PENDING:
        return None
    return invitation


def welcome(request: HttpRequest, invitation: Invitation) -> None:
    """The message of an accepted invitation, on the next page (home)."""
    messages.success(
        request,
        _("Welcome: you now have access to %(importer)s as %(role)s.")
        % {"importer": invitation.importer.legal_name, "role": invitation.get_role_display()},
    )


def accept_session_invitation(request: HttpRequest, user: User) -> Invitation | None:
    """Accept the invitation this browser opened if it is for ``user``'s address; else None.

    For the sign-in of an existing account (``pre_login``). A session invitation for another
    address is left alone: the accept link then says plainly that it is for someone else.
    """
    from clients import invitations

    invitation = invitation_in_session(request)
    email = (getattr(user, "email", "") or "").strip().lower()
    if invitation is None or invitation.email != email:
        return None
    try:
        invitations.accept(invitation, user=user)
    except invitations.InvitationError:  # revoked or used a moment ago: the link will say so
        log.info("invitation %s not accepted at sign-in", invitation.pk, exc_info=True)
        return None
    request.session.pop(INVITATION_SESSION_KEY, None)
    welcome(request, invitation)
    return invitation


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Open only while the session carries a pending invitation (used, expired, revoked: no)."""
        return invitation_in_session(request) is not None

    def clean_email(self, email: str) -> str:
        """On the signup page, only the invited address is accepted."""
        email = super().clean_email(email)
        request = self.request
        if request is not None and request.path == reverse("account_signup"):
            invitation = invitation_in_session(request)
            if invitation is not None and email.strip().lower() != invitation.email:
                raise ValidationError(
                    _(
                        "This invitation is for %(email)s. Sign up with that address, or ask "
                        "whoever invited you to send an invitation to the other one."
                    )
                    % {"email": invitation.email},
                    code="not_invited",
                )
        return email

    def is_email_verified(self, request: HttpRequest, email: str) -> bool:
        """The invitation link proved the invited address."""
        if super().is_email_verified(request, email):
            return True
        accepted = getattr(request, "_carm_accepted_invitation_email", None)
        if accepted and accepted == email.strip().lower():
            return True
        invitation = invitation_in_session(request)
        return invitation is not None and invitation.email == email.strip().lower()

    def save_user(
        self,
        request: HttpRequest,
        user: User,
        form: BaseForm,
        commit: bool = True,
    ) -> User:
        """Create the user and accept their invitation (ATOMIC_REQUESTS: both or neither)."""
        from clients import invitations

        invitation = invitation_in_session(request)
        if invitation is not None and not getattr(user, "full_name", ""):
            user.full_name = invitation.full_name
        user = super().save_user(request, user, form, commit=commit)
        if invitation is not None and commit:
            # allauth creates the verified address right after this (the stash below).
            invitations.accept(invitation, user=user, verify_email=False)
            request._carm_accepted_invitation_email = invitation.email  # type: ignore[attr-defined]  # a stash on this request for is_email_verified
            self.stash_verified_email(request, invitation.email)
            request.session.pop(INVITATION_SESSION_KEY, None)
            welcome(request, invitation)
        return user

    def pre_login(self, request: HttpRequest, user: User, **kwargs: Any) -> HttpResponse | None:
        """After the password is checked, before allauth's stages (email verification among them):
        an existing account signing in from an invitation link accepts it here."""
        response = super().pre_login(request, user, **kwargs)
        if response is None and not kwargs.get("signup"):
            accept_session_invitation(request, user)
        return response
