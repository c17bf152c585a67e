"""Invitation pages end to end: the invite form and list, resend, revoke, the emailed link, and
sign-up (django-allauth) with the invited, verified address. Plus who may reach what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from carm_portal.adapters import INVITATION_SESSION_KEY
from carm_portal.models import User
from clients import invitations
from clients.invitations import State
from clients.models import Invitation, Membership
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.kit import persona_cases

Role = Membership.Role
NEW_EMAIL = "owner@alpha.example.com"
PASSWORD = "a-long-and-unusual-passphrase-42"


def _invite(personas, *, email=NEW_EMAIL, role=Role.FINANCE, by=None):
    return invitations.invite(
        importer=personas.importer_a,
        email=email,
        role=role,
        full_name="Olive Owner",
        invited_by=by or personas.broker_agent,
    )


def _link_in(message) -> str:
    """The path of the accept link in the email (the email has it absolute, on SITE_URL)."""
    match = re.search(r"https?://[^/\s]+(/invitations/accept/[\w-]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _expire(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )


# --- Who gets what ----------------------------------------------------------------------------------

# url name, method, expected status per persona (in the order of tests.kit.PERSONAS); the
# invitation acted on is a finance one, which importer A's BAM may handle.
TABLE = [
    ("invitations:importer", "get", (200, 200, 403, 200, 403, 403, 404)),
    ("invitations:importer", "post", (200, 200, 403, 200, 403, 403, 404)),
    ("invitations:resend", "post", (302, 302, 403, 302, 403, 403, 404)),
    ("invitations:revoke", "post", (302, 302, 403, 302, 403, 403, 404)),
]

CASES = persona_cases(TABLE)


def _url(name: str, personas) -> str:
    if name == "invitations:importer":
        return reverse(name, args=[personas.importer_a.pk])
    invitation, _ = _invite(personas, email="fred@alpha.example.com", role=Role.FINANCE)
    return reverse(name, args=[invitation.pk])


@pytest.mark.parametrize(("name", "method", "persona", "expected"), CASES)
def test_each_persona_gets_the_expected_status(
    personas, client_for, name, method, persona, expected
):
    url = _url(name, personas)
    client = client_for(personas.all()[persona])

    response = client.get(url) if method == "get" else client.post(url, {})

    assert response.status_code == expected


@pytest.mark.parametrize(("name", "method"), sorted({(name, method) for name, method, _ in TABLE}))
def test_anonymous_is_sent_to_the_login_page(personas, client, name, method):
    url = _url(name, personas)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize("name", ["invitations:resend", "invitations:revoke"])
def test_resend_and_revoke_refuse_get(personas, client_for, name):
    response = client_for(personas.broker_agent).get(_url(name, personas))

    assert response.status_code == 405


@pytest.mark.parametrize("name", ["invitations:resend", "invitations:revoke"])
def test_a_bam_cannot_touch_a_bam_invitation(personas, client_for, name):
    invitation, token = _invite(personas, role=Role.BAM)

    response = client_for(personas.bam_a).post(reverse(name, args=[invitation.pk]))

    assert response.status_code == 403
    assert invitations.find_by_token(token).revoked_at is None


def test_the_importer_page_offers_the_link_to_those_who_may_invite(personas, client_for):
    url = reverse("clients:importer_detail", args=[personas.importer_a.pk])
    link = reverse("invitations:importer", args=[personas.importer_a.pk])

    for persona, shown in [("broker_agent", True), ("bam_a", True), ("employee_a", False)]:
        body = client_for(getattr(personas, persona)).get(url).content.decode()
        assert (link in body) is shown, persona


# --- The invite form and the list -------------------------------------------------------------------


def test_an_agent_invites_through_the_form_and_the_email_goes_out(
    personas, client_for, django_capture_on_commit_callbacks
):
    url = reverse("invitations:importer", args=[personas.importer_a.pk])
    client = client_for(personas.broker_agent)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"full_name": "Olive Owner", "email": "Owner@Alpha.example.com", "role": "bam"}
        )

    assert response.status_code == 302
    assert response["Location"] == url
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == (NEW_EMAIL, Role.BAM)
    assert invitation.invited_by == personas.broker_agent
    # A new BAM waits for the importer's BAM: the email asks bam_a, none goes to the invitee yet.
    assert [m.to for m in mail.outbox] == [[personas.bam_a.email]]
    page = client.get(url).content.decode()
    assert NEW_EMAIL in page
    assert "badge--awaiting_confirmation" in page
    assert "waits for the confirmation of the importer" in page


def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(personas, client_for):
    url = reverse("invitations:importer", args=[personas.importer_a.pk])

    response = client_for(personas.bam_a).post(
        url, {"full_name": "Carl Colleague", "email": "carl@alpha.example.com", "role": "bam"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="Carl Colleague"' in body
    assert 'value="carl@alpha.example.com"' in body
    assert "error-summary" in body
    assert not Invitation.objects.exists()


def test_a_bam_sees_only_finance_and_employee_roles(personas, client_for):
    body = client_for(personas.bam_a).get(
        reverse("invitations:importer", args=[personas.importer_a.pk])
    )
    roles = [c[0] for c in body.context["form"].fields["role"].choices]

    assert roles == [Role.FINANCE, Role.EMPLOYEE]


def test_a_bam_invites_a_finance_colleague(personas, client_for):
    url = reverse("invitations:importer", args=[personas.importer_a.pk])

    response = client_for(personas.bam_a).post(
        url, {"email": "fiona@alpha.example.com", "role": "finance"}
    )

    assert response.status_code == 302
    assert Invitation.objects.get().role == Role.FINANCE


def test_inviting_a_member_is_refused_on_the_form(personas, client_for):
    url = reverse("invitations:importer", args=[personas.importer_a.pk])

    response = client_for(personas.broker_agent).post(
        url, {"email": personas.employee_a.email, "role": "finance"}
    )

    assert response.status_code == 200
    assert "already a member" in response.content.decode()


def test_inviting_an_open_address_again_says_it_was_resent(personas, client_for):
    url = reverse("invitations:importer", args=[personas.importer_a.pk])
    client = client_for(personas.broker_agent)
    client.post(url, {"email": NEW_EMAIL, "role": "finance"})

    response = client.post(url, {"email": NEW_EMAIL, "role": "finance"}, follow=True)

    assert Invitation.objects.count() == 1
    assert "already had an invitation" in response.content.decode()


def test_the_list_shows_each_state_in_constant_queries(
    personas, client_for, django_assert_max_num_queries
):
    url = reverse("invitations:importer", args=[personas.importer_a.pk])
    client = client_for(personas.broker_agent)
    client.get(url)  # warm the session and caches
    for i in range(20):
        invitation, _ = _invite(personas, email=f"p{i}@alpha.example.com", role=Role.EMPLOYEE)
        if i % 4 == 1:
            _expire(invitation)
        elif i % 4 == 2:
            invitations.revoke(invitation, by=personas.broker_agent)
        elif i % 4 == 3:
            invitations.accept(invitation, user=UserFactory(email=invitation.email))

    with django_assert_max_num_queries(8):
        response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert [i for i in range(20) if f"p{i}@alpha.example.com" in body] == list(range(20))
    for state in ("pending", "expired", "revoked", "accepted"):
        assert f"badge--{state}" in body
    assert body.count(">Send again<") == 10  # pending and expired ones only


def test_resend_from_the_list_kills_the_old_link(
    personas, client_for, django_capture_on_commit_callbacks
):
    invitation, old_token = _invite(personas)
    client = client_for(personas.broker_agent)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invitations:resend", args=[invitation.pk]))

    assert response.status_code == 302
    assert client.get(reverse("invitations:accept", args=[old_token])).status_code == 404
    new_path = _link_in(mail.outbox[-1])
    client.logout()
    assert client.get(new_path).status_code == 302  # to sign-up


def test_revoke_from_the_list_then_the_link_says_withdrawn(personas, client_for, client):
    invitation, token = _invite(personas, role=Role.EMPLOYEE)

    response = client_for(personas.bam_a).post(reverse("invitations:revoke", args=[invitation.pk]))

    assert response.status_code == 302
    client.logout()
    page = client.get(reverse("invitations:accept", args=[token]))
    assert page.status_code == 410
    assert "withdrawn" in page.content.decode()


# --- The link and sign-up ----------------------------------------------------------------------------


def test_the_whole_lifecycle_invite_email_signup_membership(
    personas, client_for, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(personas.broker_agent).post(
            reverse("invitations:importer", args=[personas.importer_a.pk]),
            {"full_name": "Olive Owner", "email": NEW_EMAIL, "role": "bam"},
        )
    confirm_page = re.search(r"https?://[^/]+(/invitations/\d+/confirm/)", mail.outbox[0].body)[1]
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client_for(personas.bam_a).post(confirm_page, {"decision": "confirm"})
    assert confirmed.status_code == 200
    client.logout()
    link = _link_in(mail.outbox[1])

    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_signup")

    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    body = page.content.decode()
    assert f'value="{NEW_EMAIL}" readonly' in body
    assert "Alpha Imports Inc." in body

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": NEW_EMAIL, "password1": PASSWORD, "password2": PASSWORD},
        )

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(email=NEW_EMAIL)
    assert user.full_name == "Olive Owner"
    assert Membership.objects.get(user=user).role == Role.BAM
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (NEW_EMAIL, True, True)
    invitation = Invitation.objects.get()
    assert invitations.state(invitation) == State.ACCEPTED
    assert invitation.accepted_by == user
    assert len(mail.outbox) == 2  # the BAM's confirmation request and the invitation, no more
    assert INVITATION_SESSION_KEY not in client.session
    assert int(client.session["_auth_user_id"]) == user.pk
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome: you now have access to Alpha Imports Inc." in home.content.decode()

    # The same link again, from another browser: plainly "already used", with who to ask.
    client.logout()
    again = client.get(link)
    assert again.status_code == 410
    text = again.content.decode()
    assert "already used" in text
    assert personas.broker_agent.email in text


def test_the_signup_form_refuses_another_address(personas, client):
    _, token = _invite(personas)
    client.get(reverse("invitations:accept", args=[token]))

    response = client.post(
        reverse("account_signup"),
        {"email": "someone.else@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert "This invitation is for owner@alpha.example.com" in response.content.decode()
    assert not User.objects.filter(email="someone.else@example.com").exists()
    assert invitations.state(Invitation.objects.get()) == State.PENDING


def test_signup_is_closed_without_an_invitation(db, client):
    response = client.get(reverse("account_signup"))

    assert "Sign-up is by invitation" in response.content.decode()
    client.post(
        reverse("account_signup"),
        {"email": "walk.in@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert not User.objects.filter(email="walk.in@example.com").exists()


def test_signup_closes_when_the_invitation_is_revoked_meanwhile(personas, client):
    invitation, token = _invite(personas)
    client.get(reverse("invitations:accept", args=[token]))
    invitations.revoke(invitation, by=personas.broker_agent)

    client.post(
        reverse("account_signup"),
        {"email": NEW_EMAIL, "password1": PASSWORD, "password2": PASSWORD},
    )

    assert not User.objects.filter(email=NEW_EMAIL).exists()


def test_a_person_with_an_account_accepts_by_signing_in(personas, client):
    _, token = _invite(personas, email=personas.bam_b.email, role=Role.BAM)  # B's BAM joins A
    invitation = Invitation.objects.get()
    token = invitations.confirm(invitation, by=personas.bam_a)  # A's BAM confirms the new BAM
    EmailAddress.objects.create(
        user=personas.bam_b, email=personas.bam_b.email, verified=True, primary=True
    )
    link = reverse("invitations:accept", args=[token])

    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?{urlencode({'next': link})}"

    response = client.post(
        reverse("account_login"),
        {"login": personas.bam_b.email, "password": DEFAULT_PASSWORD, "next": link},
    )
    assert response.status_code == 302
    assert response["Location"] == link
    response = client.get(link)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert (
        Membership.objects.get(user=personas.bam_b, importer=personas.importer_a).role == Role.BAM
    )
    assert invitations.state(Invitation.objects.get()) == State.ACCEPTED


def test_signed_in_as_the_invited_person_the_link_accepts_at_once(personas, client_for):
    user = UserFactory(email=NEW_EMAIL)
    _, token = _invite(personas, role=Role.FINANCE)

    response = client_for(user).get(reverse("invitations:accept", args=[token]), follow=True)

    assert response.redirect_chain[0] == (reverse("home"), 302)
    assert Membership.objects.get(user=user).role == Role.FINANCE
    assert "Welcome" in response.content.decode()


def test_signed_in_as_someone_else_the_link_says_so(personas, client_for):
    _, token = _invite(personas)

    response = client_for(personas.employee_a).get(reverse("invitations:accept", args=[token]))

    assert response.status_code == 403
    body = response.content.decode()
    assert NEW_EMAIL in body and personas.employee_a.email in body
    assert invitations.state(Invitation.objects.get()) == State.PENDING


def test_an_expired_link_says_so_and_names_the_agent(personas, client):
    invitation, token = _invite(personas)
    _expire(invitation)

    response = client.get(reverse("invitations:accept", args=[token]))

    assert response.status_code == 410
    body = response.content.decode()
    assert "has expired" in body
    assert personas.broker_agent.email in body
    assert INVITATION_SESSION_KEY not in client.session


def test_an_unknown_link_is_not_found(db, client):
    response = client.get(reverse("invitations:accept", args=["not-a-real-token"]))

    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_signing_out_from_the_someone_else_page_continues_to_signup(personas, client_for):
    _, token = _invite(personas)
    link = reverse("invitations:accept", args=[token])
    client = client_for(personas.employee_a)

    response = client.post(reverse("account_logout"), {"next": link}, follow=True)

    assert response.redirect_chain[-1] == (reverse("account_signup"), 302)
    assert f'value="{NEW_EMAIL}" readonly' in response.content.decode()


# --- An existing account: the login page, and sign-in accepting the invitation ----------------------


def _open_link_as_existing_account(client, personas, *, verified: bool | None):
    """B's BAM is invited to importer A and opens the link, signed out. ``verified``: their
    allauth address is verified (True), unverified (False) or missing altogether (None)."""
    user = personas.bam_b
    if verified is not None:
        EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    _, token = _invite(personas, email=user.email.upper(), role=Role.FINANCE)
    link = reverse("invitations:accept", args=[token])
    response = client.get(link)
    assert response["Location"] == f"{reverse('account_login')}?{urlencode({'next': link})}"
    return user, link


def test_the_login_page_names_the_waiting_invitation_and_fills_in_the_address(personas, client):
    user, _link = _open_link_as_existing_account(client, personas, verified=True)

    page = client.get(reverse("account_login"), {"next": _link})

    body = page.content.decode()
    assert "An invitation to join Alpha Imports Inc. is waiting for you." in body
    assert f"It is for {user.email}, as Finance" in body
    assert f'value="{user.email}"' in body  # the login field, filled in
    assert f'value="{_link}"' in body  # next kept


def test_the_login_page_keeps_what_was_typed_after_a_wrong_password(personas, client):
    _open_link_as_existing_account(client, personas, verified=True)

    page = client.post(
        reverse("account_login"), {"login": "typo@bravo.example.com", "password": "wrong"}
    )

    body = page.content.decode()
    assert page.status_code == 200
    assert 'value="typo@bravo.example.com"' in body
    assert "An invitation to join Alpha Imports Inc. is waiting" in body


def test_the_login_page_says_nothing_without_a_pending_invitation(personas, client):
    assert "is waiting" not in client.get(reverse("account_login")).content.decode()

    _open_link_as_existing_account(client, personas, verified=True)
    invitations.revoke(Invitation.objects.get(), by=personas.broker_agent)

    body = client.get(reverse("account_login")).content.decode()
    assert "is waiting" not in body
    assert 'value="bam@bravo.example.com"' not in body


@pytest.mark.parametrize("verified", [True, False, None], ids=["verified", "unverified", "no-row"])
def test_signing_in_from_the_link_accepts_and_lands_home(personas, client, verified):
    """Mandatory verification would stop an unverified account at "check your email" and lose
    the link; the link proved the address, so sign-in accepts and verifies it."""
    user, link = _open_link_as_existing_account(client, personas, verified=verified)

    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": DEFAULT_PASSWORD, "next": link},
        follow=True,
    )

    assert response.redirect_chain == [(link, 302), (reverse("home"), 302)]
    assert response.status_code == 200
    assert int(client.session["_auth_user_id"]) == user.pk
    assert "Welcome: you now have access to Alpha Imports Inc. as Finance" in (
        response.content.decode()
    )
    membership = Membership.objects.get(user=user, importer=personas.importer_a)
    assert membership.role == Role.FINANCE
    invitation = Invitation.objects.get()
    assert (invitations.state(invitation), invitation.accepted_by) == (State.ACCEPTED, user)
    address = EmailAddress.objects.get(user=user, email=user.email)
    assert (address.verified, address.primary) == (True, True)
    assert mail.outbox == []  # no "confirm your email" message
    assert INVITATION_SESSION_KEY not in client.session


def test_sign_in_accepts_even_when_next_was_lost(personas, client):
    user, _link = _open_link_as_existing_account(client, personas, verified=False)

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert Membership.objects.filter(user=user, importer=personas.importer_a).exists()


def test_signing_in_as_someone_else_leaves_the_invitation_pending(personas, client):
    _user, link = _open_link_as_existing_account(client, personas, verified=True)
    other = personas.employee_a
    EmailAddress.objects.create(user=other, email=other.email, verified=True, primary=True)

    response = client.post(
        reverse("account_login"),
        {"login": other.email, "password": DEFAULT_PASSWORD, "next": link},
        follow=True,
    )

    assert response.status_code == 403  # the link: "this invitation is for someone else"
    assert "This invitation is for someone else" in response.content.decode()
    assert invitations.state(Invitation.objects.get()) == State.PENDING
    assert not Membership.objects.filter(user=other, importer=personas.importer_b).exists()


def test_an_unverified_account_signing_in_without_an_invitation_must_still_verify(personas, client):
    user = personas.bam_b
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert not EmailAddress.objects.get(user=user).verified


def test_the_login_page_sends_an_invited_person_without_a_login_to_sign_up(personas, client):
    _, token = _invite(personas)
    client.get(reverse("invitations:accept", args=[token]))  # to sign-up; they go to sign in

    body = client.get(reverse("account_login")).content.decode()

    assert "An invitation to join Alpha Imports Inc. is waiting for you." in body
    assert f'That address has no login yet: <a href="{reverse("account_signup")}">' in body
    assert f'value="{NEW_EMAIL}"' not in body
