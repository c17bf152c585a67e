"""Invitation pages: an importer's invitations with the invite form, resend, revoke, and the
one-time link of the email. Thin views: ``clients.invitations`` holds the rules and
``clients.access`` says who may do what (an importer user of another importer gets a 404).
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.adapters import INVITATION_SESSION_KEY, welcome
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.models import User
from clients import access, invitations
from clients.access import Perm
from clients.invitation_forms import InvitationForm
from clients.invitations import InvitationError, State
from clients.models import Importer, Invitation

LIST_LIMIT = 200


def _invitation_for(request: HttpRequest, pk: int) -> Invitation:
    """The invitation ``pk`` if its importer is visible (else 404), the user may INVITE there
    (else 403) and may handle its role (a BAM cannot touch a BAM invitation: 403)."""
    invitation = access.get_scoped(
        Invitation.objects.select_related("importer"), request.user, pk, Perm.INVITE
    )
    if not invitations.may_manage(request.user, invitation):
        raise PermissionDenied(_("Your role does not allow this for this invitation."))
    return invitation


@login_required
def importer_invitations(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """GET: the importer's invitations and the invite form; POST: invite (or resend if open)."""
    importer = access.get_importer(request.user, importer_pk, Perm.INVITE)
    roles = invitations.allowed_roles(request.user, importer)
    if request.method == "POST":
        form = InvitationForm(request.POST, roles=roles)
        if form.is_valid():
            try:
                invitation, _token = invitations.invite(
                    importer=importer,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    full_name=form.cleaned_data["full_name"],
                    invited_by=request.user,
                )
            except InvitationError as exc:
                form.add_error(exc.field if exc.field in form.fields else "email", str(exc))
            else:
                if invitations.state(invitation) == State.AWAITING_CONFIRMATION:
                    msg = _(
                        "The invitation of %(email)s as BAM waits for the confirmation of the "
                        "importer's BAM (or, for a first BAM, of its contact address): they were "
                        "emailed, and the link goes out once they confirm."
                    )
                elif invitation.sent_count > 1:
                    msg = _("%(email)s already had an invitation: a new link was sent.")
                else:
                    msg = _("Invitation sent to %(email)s.")
                messages.success(request, msg % {"email": invitation.email})
                return redirect("invitations:importer", importer_pk=importer.pk)
    else:
        form = InvitationForm(roles=roles)
    return _render_list(request, importer, form)


def _render_list(request: HttpRequest, importer: Importer, form: InvitationForm) -> HttpResponse:
    now = timezone.now()
    rows = list(
        importer.invitations.select_related("invited_by", "accepted_by", "revoked_by").order_by(
            "-created_at", "-id"
        )[:LIST_LIMIT]
    )
    roles = set(invitations.allowed_roles(request.user, importer))
    for row in rows:
        row.state = invitations.state(row, now)
        row.state_label = State(row.state).label
        row.can_act = row.role in roles and invitations.is_open(row)
    return render(
        request,
        "clients/invitations/importer_invitations.html",
        {
            "importer": importer,
            "invitations": rows,
            "form": form,
            "is_broker": access.is_broker(request.user),
            "expiry_days": settings.INVITATION_EXPIRY_DAYS,
        },
    )


@login_required
@require_POST
def resend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation_for(request, pk)
    try:
        invitations.resend(invitation, by=request.user)
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("A new link was sent to %(email)s.") % {"email": invitation.email}
        )
    return redirect("invitations:importer", importer_pk=invitation.importer_id)


@login_required
@require_POST
def revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation_for(request, pk)
    try:
        invitations.revoke(invitation, by=request.user)
    except InvitationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The invitation of %(email)s was withdrawn; its link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("invitations:importer", importer_pk=invitation.importer_id)


def accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the email. Open to anyone holding it: the token is the credential.

    Anonymous: the token goes into the session (which opens sign-up for that one address) and the
    person goes to sign-up, or to sign-in when the address already has an account. Signing in
    accepts the invitation (``AccountAdapter.pre_login``: it reads the session, so a lost ``next``
    or allauth's email verification cannot drop it), then ``next`` brings them back here and on
    home. Signed in as the invited address: accept and go home.
    """
    invitation = invitations.find_by_token(token)
    if invitation is None:
        return _outcome(request, None, "unknown", status=404)
    current = invitations.state(invitation)
    user = request.user
    if current == State.ACCEPTED and user.is_authenticated and invitation.accepted_by_id == user.pk:
        return redirect("home")
    if current != State.PENDING:
        return _outcome(request, invitation, current, status=410)
    if user.is_authenticated:
        if user.email.lower() != invitation.email:
            return _outcome(request, invitation, "other_user", status=403)
        try:
            invitations.accept(invitation, user=user)
        except InvitationError as exc:  # lost a race with a revoke or another accept
            messages.error(request, str(exc))
            return redirect("home")
        request.session.pop(INVITATION_SESSION_KEY, None)
        welcome(request, invitation)
        return redirect("home")
    request.session[INVITATION_SESSION_KEY] = token
    if User.objects.filter(email__iexact=invitation.email).exists():
        login_url = reverse("account_login")
        return redirect(f"{login_url}?{urlencode({'next': request.path})}")
    get_adapter(request).stash_verified_email(request, invitation.email)
    return redirect("account_signup")


def _outcome(
    request: HttpRequest, invitation: Invitation | None, outcome: str, *, status: int
) -> HttpResponse:
    """A plain page saying why the link does not work and whom to ask."""
    return render(
        request,
        "clients/invitations/accept_outcome.html",
        {
            "invitation": invitation,
            "outcome": outcome,
            "importer": invitation.importer if invitation else None,
            "agent": invitation.importer.assigned_agent if invitation else None,
        },
        status=status,
    )


# --- Confirming a new BAM ---------------------------------------------------------------------


@login_required
def confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One of the importer's BAMs confirms (or declines) a new BAM invited by someone else.

    Anyone who may see the importer but is not its BAM gets a 403 (broker staff included: the
    point is that the broker cannot make a BAM on its own); another importer's user a 404.
    """
    invitation = access.get_scoped(
        Invitation.objects.select_related("importer", "invited_by"), request.user, pk
    )
    if not invitations.may_confirm(request.user, invitation):
        raise PermissionDenied(_("Only the importer's BAM may confirm a new BAM."))
    return _confirmation_page(request, invitation, by=request.user, token="")


def confirm_by_contact(request: HttpRequest, token: str) -> HttpResponse:
    """The importer contact's one-time link: confirm (or decline) the importer's first BAM."""
    invitation = invitations.find_by_confirm_token(token)
    if invitation is None:
        return _outcome(request, None, "unknown", status=404)
    return _confirmation_page(request, invitation, by=None, token=token)


def _confirmation_page(
    request: HttpRequest, invitation: Invitation, *, by: User | None, token: str
) -> HttpResponse:
    current = invitations.state(invitation)
    if request.method == "POST" and current == State.AWAITING_CONFIRMATION:
        decision = request.POST.get("decision")
        if decision not in ("confirm", "decline"):  # never decline by default
            return HttpResponseBadRequest(
                _("Choose to confirm or to decline."), content_type="text/plain; charset=utf-8"
            )
        approve = decision == "confirm"
        try:
            invitations.confirm(invitation, by=by, token=token, approve=approve)
        except InvitationError as exc:
            messages.error(request, str(exc))
        else:
            if approve:
                messages.success(
                    request,
                    _("Confirmed: the invitation was sent to %(email)s.")
                    % {"email": invitation.email},
                )
            else:
                messages.success(
                    request,
                    _("Declined: %(email)s will not become a BAM.") % {"email": invitation.email},
                )
            invitation.refresh_from_db()
            current = invitations.state(invitation)
    return render(
        request,
        "clients/invitations/confirm.html",
        {
            "invitation": invitation,
            "importer": invitation.importer,
            "awaiting": current == State.AWAITING_CONFIRMATION,
            "state_label": State(current).label,
        },
    )
