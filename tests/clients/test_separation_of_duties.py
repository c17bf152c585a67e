"""Whoever must never see full bank numbers (broker staff) cannot give themselves the role that
does: no broker-staff account holds a membership, broker and member rights never add up, and a
new BAM invited by anyone but the importer's BAM waits for that BAM's (or, for a first BAM, the
importer contact's) confirmation before any invitation link exists."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from clients import access, invitations
from clients.access import BrokerRole, Perm
from clients.invitations import InvitationError, State
from clients.models import Invitation, Membership
from tests.factories import ImporterFactory, UserFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _link(message, pattern: str) -> str:
    return re.search(r"https?://[^/\s]+(" + pattern + r")", message.body)[1]


# --- Broker staff never hold a membership ------------------------------------------------------


@pytest.mark.parametrize("who", ["broker_admin", "broker_agent", "broker_finance"])
def test_broker_staff_cannot_be_given_a_membership(personas, who):
    with pytest.raises(ValidationError, match="broker staff"):
        Membership.objects.create(
            user=getattr(personas, who), importer=personas.importer_a, role=Role.BAM
        )

    assert not Membership.objects.filter(user=getattr(personas, who)).exists()


def test_a_superuser_cannot_be_given_a_membership(personas):
    root = UserFactory(email="root@broker.example.com", is_superuser=True)

    with pytest.raises(ValidationError):
        Membership.objects.create(user=root, importer=personas.importer_a, role=Role.BAM)


def test_a_member_cannot_join_a_broker_group_either_way(personas):
    group = Group.objects.get(name=BrokerRole.AGENT.value)

    with pytest.raises(ValidationError), transaction.atomic():
        personas.bam_a.groups.add(group)
    with pytest.raises(ValidationError), transaction.atomic():
        group.user_set.add(personas.employee_a)

    assert not personas.bam_a.groups.exists()
    assert not personas.employee_a.groups.exists()
    personas.broker_finance.groups.add(group)  # staff without memberships may change groups


def test_a_member_cannot_be_made_superuser(personas):
    personas.bam_a.is_superuser = True

    with pytest.raises(ValidationError):
        personas.bam_a.save()


def test_broker_and_member_rights_never_add_up(personas):
    """A membership row slipped past the guard (bulk_create skips signals) gives staff nothing."""
    Membership.objects.bulk_create(
        [Membership(user=personas.broker_admin, importer=personas.importer_a, role=Role.BAM)]
    )
    access.forget(personas.broker_admin)

    assert not access.can(personas.broker_admin, Perm.VIEW_BANK_ACCOUNT, personas.importer_a)
    assert access.permissions_for(personas.broker_admin, personas.importer_a) == (
        access.permissions_for(personas.broker_admin, personas.importer_b)
    )
    assert access.can(personas.bam_a, Perm.VIEW_BANK_ACCOUNT, personas.importer_a)


def test_the_admin_cannot_add_a_membership(personas, client_for):
    client = client_for(
        UserFactory(email="root@broker.example.com", is_superuser=True, is_staff=True)
    )

    page = client.get(reverse("admin:clients_membership_add"))
    posted = client.post(
        reverse("admin:clients_membership_add"),
        {"user": personas.bam_b.pk, "importer": personas.importer_a.pk, "role": "bam"},
    )

    assert (page.status_code, posted.status_code) == (403, 403)
    assert not Membership.objects.filter(user=personas.bam_b, importer=personas.importer_a).exists()


def test_the_admin_user_form_refuses_to_make_a_member_broker_staff(personas, client_for):
    admin = UserFactory(email="root@broker.example.com", is_superuser=True, is_staff=True)
    group = Group.objects.get(name=BrokerRole.ADMIN.value)
    url = reverse("admin:carm_portal_user_change", args=[personas.bam_a.pk])

    response = client_for(admin).post(
        url,
        {
            "email": personas.bam_a.email,
            "full_name": "Bam A",
            "language": "",
            "is_active": "on",
            "groups": [group.pk],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "remove their memberships before making them broker staff" in response.content.decode()
    assert not personas.bam_a.groups.exists()


def test_broker_staff_cannot_accept_an_invitation(personas):
    invitation, _ = invitations.invite(
        importer=personas.importer_a,
        email="later.staff@broker.example.com",
        role=Role.FINANCE,
        invited_by=personas.broker_agent,
    )
    user = UserFactory(email="later.staff@broker.example.com", roles=[BrokerRole.AGENT])

    with pytest.raises(InvitationError, match="broker's staff"):
        invitations.accept(invitation, user=user)

    assert not Membership.objects.filter(user=user).exists()


# --- A new BAM needs the importer's BAM --------------------------------------------------------


def test_an_agent_inviting_a_bam_only_asks_the_importers_bam(personas, send_now, client_for):
    invitation, token = send_now(
        invitations.invite,
        importer=personas.importer_a,
        email="agent.controlled@example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )

    assert invitations.state(invitation) == State.AWAITING_CONFIRMATION
    assert [m.to for m in mail.outbox] == [[personas.bam_a.email]]
    assert "/invitations/accept/" not in mail.outbox[0].body
    # the raw token the function returned opens nothing while the invitation waits
    response = client_for(UserFactory(email="agent.controlled@example.com")).get(
        reverse("invitations:accept", args=[token])
    )
    assert response.status_code == 410
    with pytest.raises(InvitationError, match="waiting for the importer's confirmation"):
        invitations.accept(invitation, user=UserFactory(email="x@example.com"))


def test_the_bam_confirms_on_a_page_and_only_then_the_link_goes_out(
    personas, send_now, client_for, django_capture_on_commit_callbacks
):
    invitation, _ = send_now(
        invitations.invite,
        importer=personas.importer_a,
        email="second.bam@alpha.example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )
    page = _link(mail.outbox[0], r"/invitations/\d+/confirm/")
    client = client_for(personas.bam_a)

    shown = client.get(page)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(page, {"decision": "confirm"})

    assert shown.status_code == 200
    assert "second.bam@alpha.example.com" in shown.content.decode()
    assert confirmed.status_code == 200
    invitation.refresh_from_db()
    assert (invitation.confirmed_by, invitations.state(invitation)) == (
        personas.bam_a,
        State.PENDING,
    )
    assert mail.outbox[1].to == ["second.bam@alpha.example.com"]
    link = _link(mail.outbox[1], r"/invitations/accept/[\w-]+/")
    newcomer = UserFactory(email="second.bam@alpha.example.com")
    client_for(newcomer).get(link)
    assert Membership.objects.get(user=newcomer).role == Role.BAM


def test_a_declined_bam_is_revoked_and_never_emailed(personas, send_now, client_for):
    invitation, _ = send_now(
        invitations.invite,
        importer=personas.importer_a,
        email="intruder@example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )

    client_for(personas.bam_a).post(
        reverse("invitations:confirm", args=[invitation.pk]), {"decision": "decline"}
    )

    invitation.refresh_from_db()
    assert invitations.state(invitation) == State.REVOKED
    assert [m.to for m in mail.outbox] == [[personas.bam_a.email]]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("broker_admin", 403),
        ("broker_agent", 403),
        ("broker_finance", 403),
        ("employee_a", 403),
        ("bam_b", 404),
    ],
)
def test_only_the_importers_bam_may_confirm(personas, client_for, who, status):
    invitation, _ = invitations.invite(
        importer=personas.importer_a,
        email="new.bam@example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )
    url = reverse("invitations:confirm", args=[invitation.pk])

    response = client_for(getattr(personas, who)).post(url, {"decision": "confirm"})

    assert response.status_code == status
    invitation.refresh_from_db()
    assert invitations.state(invitation) == State.AWAITING_CONFIRMATION
    with pytest.raises(InvitationError):
        invitations.confirm(invitation, by=getattr(personas, who))


def test_a_first_bam_is_confirmed_through_the_importers_contact(send_now, client, personas):
    importer = ImporterFactory(legal_name="Charlie Co.", email="Office@Charlie.example.com")

    invitation, _ = send_now(
        invitations.invite,
        importer=importer,
        email="someone@example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )

    assert invitations.state(invitation) == State.AWAITING_CONFIRMATION
    assert invitation.confirmation_sent_to == "office@charlie.example.com"
    assert [m.to for m in mail.outbox] == [["office@charlie.example.com"]]
    link = _link(mail.outbox[0], r"/invitations/confirm/[\w-]+/")
    assert client.get(link).status_code == 200
    response = send_now(client.post, link, {"decision": "confirm"})
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitations.state(invitation) == State.PENDING
    assert invitation.confirmed_by is None and invitation.confirmed_at is not None
    assert mail.outbox[1].to == ["someone@example.com"]
    assert client.get(link).status_code == 404  # the confirmation link works once


def test_a_first_bam_at_the_contact_address_needs_no_confirmation(send_now, personas):
    importer = ImporterFactory(legal_name="Delta Ltd.", email="owner@delta.example.com")

    invitation, _ = send_now(
        invitations.invite,
        importer=importer,
        email="Owner@Delta.example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )

    assert invitations.state(invitation) == State.PENDING
    assert [m.to for m in mail.outbox] == [["owner@delta.example.com"]]


def test_a_first_bam_needs_a_contact_address_on_record(personas, client_for):
    importer = ImporterFactory(legal_name="Echo Inc.", email="")
    url = reverse("invitations:importer", args=[importer.pk])

    response = client_for(personas.broker_agent).post(
        url, {"full_name": "Eve", "email": "eve@example.com", "role": "bam"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "record the importer&#x27;s email first" in body
    assert 'value="eve@example.com"' in body
    assert not Invitation.objects.filter(importer=importer).exists()
    assert mail.outbox == []


def test_the_api_refuses_a_first_bam_without_a_contact_with_a_field_error(personas, client):
    from rest_framework.test import APIClient

    importer = ImporterFactory(legal_name="Foxtrot Ltd.", email="")
    api = APIClient()
    api.force_authenticate(personas.broker_agent)

    response = api.post(
        "/api/v1/invitations/",
        {"importer": importer.pk, "email": "f@example.com", "role": "bam"},
        format="json",
    )

    assert response.status_code == 400
    assert "record the importer's email first" in response.json()["role"][0]


@pytest.mark.parametrize(
    ("who", "status"),
    [("bam_a", 200), ("broker_agent", 403), ("broker_admin", 403), ("employee_a", 403)],
)
def test_the_api_confirms_through_the_same_rule(personas, send_now, who, status):
    from rest_framework.test import APIClient

    invitation, _ = invitations.invite(
        importer=personas.importer_a,
        email="api.bam@example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )
    api = APIClient()
    api.force_authenticate(getattr(personas, who))

    response = send_now(api.post, f"/api/v1/invitations/{invitation.pk}/confirm/")

    assert response.status_code == status
    invitation.refresh_from_db()
    expected = State.PENDING if status == 200 else State.AWAITING_CONFIRMATION
    assert invitations.state(invitation) == expected
    assert [m.to for m in mail.outbox] == ([["api.bam@example.com"]] if status == 200 else [])


@pytest.mark.parametrize("posted", [{}, {"decision": ""}, {"decision": "maybe"}])
def test_a_confirmation_without_a_clear_decision_is_a_400_and_changes_nothing(
    personas, client_for, posted
):
    invitation, _ = invitations.invite(
        importer=personas.importer_a,
        email="undecided@example.com",
        role=Role.BAM,
        invited_by=personas.broker_agent,
    )

    response = client_for(personas.bam_a).post(
        reverse("invitations:confirm", args=[invitation.pk]), posted
    )

    assert response.status_code == 400
    invitation.refresh_from_db()
    assert invitations.state(invitation) == State.AWAITING_CONFIRMATION
    assert mail.outbox == [] or all("undecided@example.com" not in m.to for m in mail.outbox)
