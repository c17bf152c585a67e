"""The invitation rules (clients/invitations.py): who may invite whom, one open invitation per
address, one-time links that expire, resend and revoke, accept, and the email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clients import invitations
from clients.invitations import InvitationError, State
from clients.models import Invitation, Membership, PortalUser
from tests.factories import PortalUserFactory, UserFactory

Role = Membership.Role


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the email) as the test's transaction never commits."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _invite(personas, email="new.person@alpha.example.com", role=Role.FINANCE, by=None, **kw):
    return invitations.invite(
        importer=personas.importer_a,
        email=email,
        role=role,
        full_name=kw.pop("full_name", "New Person"),
        invited_by=by or personas.broker_agent,
    )


# --- invite ---------------------------------------------------------------------------------------


def test_an_agent_invites_finance_and_the_email_carries_the_one_time_link(personas, send_now):
    invitation, token = send_now(_invite, personas, email="  New.Person@Alpha.example.com ")

    assert invitation.email == "new.person@alpha.example.com"
    assert invitation.role == Role.FINANCE
    assert invitation.token_hash == invitations.hash_token(token)
    assert token not in invitation.token_hash
    assert invitation.sent_count == 1
    assert invitations.state(invitation) == State.PENDING
    expected_expiry = timezone.now() + timedelta(days=14)
    assert abs((invitation.expires_at - expected_expiry).total_seconds()) < 60
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@alpha.example.com"]
    assert message.reply_to == [personas.broker_agent.email]
    assert "Alpha Imports Inc." in message.subject
    assert reverse("invitations:accept", args=[token]) in message.body
    assert reverse("invitations:accept", args=[token]) in message.alternatives[0][0]
    assert "as Finance" in message.body
    assert personas.broker_agent.email in message.body  # the assigned agent to ask


def test_the_link_uses_site_url(personas, send_now, settings):
    settings.SITE_URL = "https://carm.example.com/"
    _, token = send_now(_invite, personas)

    assert f"https://carm.example.com/invitations/accept/{token}/" in mail.outbox[0].body


def test_no_email_leaves_before_the_invitation_is_committed(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _invite(personas)

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_bam_invites_finance_and_employee_but_not_another_bam(personas):
    for role in (Role.FINANCE, Role.EMPLOYEE):
        invitation, _ = _invite(
            personas, email=f"new.{role}@alpha.example.com", role=role, by=personas.bam_a
        )
        assert invitation.role == role

    with pytest.raises(InvitationError, match="may not invite"):
        _invite(personas, role=Role.BAM, by=personas.bam_a)


@pytest.mark.parametrize("who", ["finance_a", "employee_a", "broker_finance", "bam_b"])
def test_people_without_the_invite_permission_on_the_importer_cannot_invite(personas, who):
    with pytest.raises(InvitationError):
        _invite(personas, role=Role.EMPLOYEE, by=getattr(personas, who))

    assert not Invitation.objects.exists()


def test_allowed_roles_per_persona(personas):
    a = personas.importer_a
    assert invitations.allowed_roles(personas.broker_admin, a) == list(Role.values)
    assert invitations.allowed_roles(personas.broker_agent, a) == list(Role.values)
    assert invitations.allowed_roles(personas.bam_a, a) == [Role.FINANCE, Role.EMPLOYEE]
    assert invitations.allowed_roles(personas.finance_a, a) == []
    assert invitations.allowed_roles(personas.employee_a, a) == []
    assert invitations.allowed_roles(personas.broker_finance, a) == []
    assert invitations.allowed_roles(personas.bam_b, a) == []


def test_a_member_cannot_be_invited_again(personas):
    with pytest.raises(InvitationError, match="already a member"):
        _invite(personas, email="EMPLOYEE@alpha.example.com", role=Role.FINANCE)


def test_broker_staff_are_not_invited_to_an_importer(personas):
    with pytest.raises(InvitationError, match="broker's staff"):
        _invite(personas, email=personas.broker_finance.email.upper(), role=Role.FINANCE)


def test_a_member_of_another_importer_can_be_invited(personas):
    invitation, _ = _invite(personas, email=personas.bam_b.email)

    assert invitation.importer == personas.importer_a


def test_inviting_an_open_address_again_resends_the_same_invitation(personas, send_now):
    first, old_token = send_now(_invite, personas, role=Role.EMPLOYEE, full_name="")
    second, new_token = send_now(_invite, personas, role=Role.FINANCE, full_name="Named Later")

    assert second.pk == first.pk
    assert Invitation.objects.count() == 1
    second.refresh_from_db()
    assert second.sent_count == 2
    assert second.role == Role.FINANCE
    assert second.full_name == "Named Later"
    assert invitations.find_by_token(old_token) is None
    assert invitations.find_by_token(new_token) == second
    assert len(mail.outbox) == 2


def test_a_bam_cannot_rewrite_an_open_bam_invitation_of_the_broker(personas):
    first, token = _invite(personas, role=Role.BAM)

    with pytest.raises(InvitationError, match="may not change"):
        _invite(personas, role=Role.EMPLOYEE, by=personas.bam_a)

    first.refresh_from_db()
    assert first.role == Role.BAM
    assert invitations.find_by_token(token) == first


def test_an_expired_invitation_is_resent_when_invited_again(personas):
    first, _ = _invite(personas)
    Invitation.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(days=1))

    second, token = _invite(personas)

    assert second.pk == first.pk
    assert invitations.state(invitations.find_by_token(token)) == State.PENDING


def test_after_a_revoke_a_new_invitation_can_be_made(personas):
    first, _ = _invite(personas)
    invitations.revoke(first, by=personas.broker_agent)

    second, _ = _invite(personas)

    assert second.pk != first.pk
    assert Invitation.objects.count() == 2


# --- state, find, resend, revoke ---------------------------------------------------------------------


def test_state_follows_the_clock_and_the_stamps(personas):
    invitation, _ = _invite(personas)
    now = timezone.now()

    assert invitations.state(invitation, now) == State.PENDING
    assert invitations.state(invitation, invitation.expires_at) == State.EXPIRED
    invitation.revoked_at = now
    assert invitations.state(invitation, now) == State.REVOKED
    invitation.revoked_at = None
    invitation.accepted_at = now
    assert (
        invitations.state(invitation, invitation.expires_at + timedelta(days=1)) == State.ACCEPTED
    )


@pytest.mark.parametrize("token", ["", "nope", "x" * 500])
def test_unknown_tokens_find_nothing(personas, token):
    _invite(personas)

    assert invitations.find_by_token(token) is None


def test_resend_kills_the_old_link_and_gives_a_fresh_expiry(personas, send_now):
    invitation, old_token = _invite(personas)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )

    new_token = send_now(invitations.resend, invitation, by=personas.broker_agent)

    assert new_token != old_token
    assert invitations.find_by_token(old_token) is None
    fresh = invitations.find_by_token(new_token)
    assert invitations.state(fresh) == State.PENDING
    assert fresh.expires_at > timezone.now() + timedelta(days=13)
    assert fresh.sent_count == 2
    assert mail.outbox[-1].to == [invitation.email]
    assert new_token in mail.outbox[-1].body


def test_accepted_or_revoked_invitations_are_not_resent(personas):
    invitation, _ = _invite(personas)
    invitations.revoke(invitation, by=personas.broker_agent)

    with pytest.raises(InvitationError, match="revoked"):
        invitations.resend(invitation, by=personas.broker_agent)


def test_revoke_kills_the_link(personas):
    invitation, token = _invite(personas)

    invitations.revoke(invitation, by=personas.bam_a)

    invitation.refresh_from_db()
    assert invitations.state(invitation) == State.REVOKED
    assert invitation.revoked_by == personas.bam_a
    with pytest.raises(InvitationError, match="withdrawn"):
        invitations.accept(
            invitations.find_by_token(token), user=UserFactory(email=invitation.email)
        )


# --- accept -------------------------------------------------------------------------------------------


def test_accept_creates_the_membership_once(personas):
    invitation, _ = _invite(personas, role=Role.FINANCE, full_name="Fiona Finance")
    PortalUserFactory(
        importer=personas.importer_a, email=invitation.email, ccp_role=PortalUser.CcpRole.PAM
    )
    user = UserFactory(email=invitation.email, full_name="")
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    membership = invitations.accept(invitation, user=user)

    assert membership.role == Role.FINANCE
    assert membership.importer == personas.importer_a
    invitation.refresh_from_db()
    assert invitations.state(invitation) == State.ACCEPTED
    assert invitation.accepted_by == user
    user.refresh_from_db()
    assert user.full_name == "Fiona Finance"
    assert EmailAddress.objects.get(user=user).verified
    assert PortalUser.objects.get(importer=personas.importer_a, email=user.email).user == user
    with pytest.raises(InvitationError, match="already used"):
        invitations.accept(invitation, user=user)
    assert Membership.objects.filter(user=user).count() == 1


def test_an_expired_link_cannot_be_accepted(personas):
    invitation, _ = _invite(personas)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(InvitationError, match="expired"):
        invitations.accept(invitation, user=UserFactory(email=invitation.email))

    assert not Membership.objects.filter(user__email=invitation.email).exists()


def test_only_the_invited_address_can_accept(personas):
    invitation, _ = _invite(personas)

    with pytest.raises(InvitationError, match="not for the account"):
        invitations.accept(invitation, user=personas.bam_b)

    assert not Membership.objects.filter(user=personas.bam_b, importer=personas.importer_a).exists()


def test_an_existing_membership_is_kept_as_it_is(personas):
    invitation, _ = _invite(personas, role=Role.FINANCE)
    user = UserFactory(email=invitation.email)
    Membership.objects.create(user=user, importer=personas.importer_a, role=Role.EMPLOYEE)

    membership = invitations.accept(invitation, user=user)

    assert membership.role == Role.EMPLOYEE
    assert invitations.state(Invitation.objects.get()) == State.ACCEPTED


def test_the_email_templates_render_without_an_agent_or_a_name(personas):
    personas.importer_a.assigned_agent = None
    personas.importer_a.save()
    invitation, token = _invite(personas, role=Role.EMPLOYEE, full_name="")

    message = invitations.render_invitation_email(invitation, token)

    assert message.body.startswith("Hello,")
    assert "Business Account Manager" not in message.body
    assert "{%" not in message.body and "{{" not in message.body
    html = message.alternatives[0][0]
    assert 'lang="en"' in html
    assert token in html


# --- accept verifies the address; state as a query ----------------------------------------------


def test_accept_gives_an_account_without_an_address_a_verified_primary_one(personas):
    invitation, _ = _invite(personas, role=Role.EMPLOYEE)
    user = UserFactory(email=invitation.email)
    EmailAddress.objects.create(user=user, email="old@elsewhere.example.com", primary=True)

    invitations.accept(invitation, user=user)

    address = EmailAddress.objects.get(user=user, email=invitation.email)
    assert (address.verified, address.primary) == (True, False)  # the existing primary stays


def test_accept_leaves_an_address_another_account_verified(personas):
    invitation, _ = _invite(personas, role=Role.EMPLOYEE)
    user = UserFactory(email=invitation.email)
    EmailAddress.objects.create(user=user, email=invitation.email, verified=False, primary=True)
    EmailAddress.objects.create(user=personas.bam_b, email=invitation.email, verified=True)

    membership = invitations.accept(invitation, user=user)  # no IntegrityError

    assert membership.importer == personas.importer_a
    assert not EmailAddress.objects.get(user=user).verified


def test_accept_for_signup_leaves_the_address_to_allauth(personas):
    invitation, _ = _invite(personas)
    user = UserFactory(email=invitation.email)

    invitations.accept(invitation, user=user, verify_email=False)

    assert not EmailAddress.objects.filter(user=user).exists()


def test_state_filter_agrees_with_state(personas):
    rows = []
    for i in range(4):
        invitation, _ = _invite(personas, email=f"s{i}@alpha.example.com", role=Role.EMPLOYEE)
        rows.append(invitation)
    _invite(personas, email="s4@alpha.example.com", role=Role.BAM)  # awaiting confirmation
    Invitation.objects.filter(pk=rows[1].pk).update(expires_at=timezone.now() - timedelta(days=1))
    invitations.revoke(rows[2], by=personas.broker_agent)
    invitations.accept(rows[3], user=UserFactory(email=rows[3].email))
    now = timezone.now()

    for wanted in State.values:
        found = set(Invitation.objects.filter(invitations.state_filter(wanted, now)))
        expected = {i for i in Invitation.objects.all() if invitations.state(i, now) == wanted}
        assert found == expected and len(found) == 1, wanted


def test_refusals_name_the_field_at_fault(personas):
    with pytest.raises(InvitationError) as role:
        _invite(personas, role=Role.BAM, by=personas.bam_a)
    with pytest.raises(InvitationError) as member:
        _invite(personas, email=personas.employee_a.email, role=Role.FINANCE)

    assert (role.value.field, member.value.field) == ("role", "email")
