"""The invitation API (/api/v1/invitations/): the six personas, the page's rules through
``clients.invitations``, bad input as 400s, the email on create, and no token ever shown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from clients import invitations
from clients.invitations import State
from clients.models import Invitation, Membership
from tests.factories import UserFactory
from tests.kit import bearer, persona_cases

pytestmark = pytest.mark.django_db

Role = Membership.Role
URL = "/api/v1/invitations/"
NEW_EMAIL = "fred@alpha.example.com"


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    """Run a request with its on-commit callbacks (the email): the test transaction never commits."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _invite(personas, *, email=NEW_EMAIL, role=Role.FINANCE, by=None, importer=None):
    invitation, _token = invitations.invite(
        importer=importer or personas.importer_a,
        email=email,
        role=role,
        full_name="Fred Finance",
        invited_by=by or personas.broker_agent,
    )
    return invitation


def _expire(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )


# --- Who may do what --------------------------------------------------------------------------------

# The invitation acted on is a finance one of importer A, which A's BAM may handle. Creating for an
# importer one may not see is a 400 "No such importer." (the API's rule for an importer named in a
# body: the same answer as for an id that does not exist).
ACCESS = persona_cases(
    {
        #                admin agent finance bam_a finance_a employee_a bam_b
        "list": (200, 200, 200, 200, 200, 200, 200),
        "retrieve": (200, 200, 403, 200, 403, 403, 404),
        "create": (201, 201, 403, 201, 403, 403, 400),
        "resend": (200, 200, 403, 200, 403, 403, 404),
        "revoke": (200, 200, 403, 200, 403, 403, 404),
        "update": (405, 405, 405, 405, 405, 405, 405),
        "destroy": (405, 405, 405, 405, 405, 405, 405),
    }
)


def _request(client: APIClient, action: str, personas, invitation: Invitation):
    detail = f"{URL}{invitation.pk}/"
    create = {
        "importer": personas.importer_a.pk,
        "email": "new@alpha.example.com",
        "role": "employee",
    }
    return {
        "list": lambda: client.get(URL),
        "retrieve": lambda: client.get(detail),
        "create": lambda: client.post(URL, create, format="json"),
        "resend": lambda: client.post(f"{detail}resend/"),
        "revoke": lambda: client.post(f"{detail}revoke/"),
        "update": lambda: client.patch(detail, {"full_name": "X"}, format="json"),
        "destroy": lambda: client.delete(detail),
    }[action]()


@pytest.mark.parametrize(("action", "persona", "expected"), ACCESS)
def test_each_persona_gets_the_expected_status(api_as, personas, action, persona, expected):
    invitation = _invite(personas)

    response = _request(api_as(persona), action, personas, invitation)

    assert response.status_code == expected, response.content
    invitation.refresh_from_db()
    assert (invitation.revoked_at is not None) is (action == "revoke" and expected == 200)
    assert (invitation.sent_count == 2) is (action == "resend" and expected == 200)
    created = Invitation.objects.filter(email="new@alpha.example.com").exists()
    assert created is (expected == 201)


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("broker_admin", {"a", "b"}),
        ("broker_agent", {"a", "b"}),
        ("broker_finance", set()),
        ("bam_a", {"a"}),
        ("finance_a", set()),
        ("employee_a", set()),
        ("bam_b", {"b"}),
    ],
)
def test_the_list_holds_only_importers_where_one_may_invite(api_as, personas, persona, visible):
    _invite(personas, email="a@alpha.example.com")
    _invite(personas, email="b@bravo.example.com", importer=personas.importer_b)

    response = api_as(persona).get(URL)

    assert response.status_code == 200
    emails = {row["email"][0] for row in response.json()["results"]}
    assert emails == visible


def test_anonymous_gets_401(api, personas):
    invitation = _invite(personas)

    assert api.get(URL).status_code == 401
    assert api.post(f"{URL}{invitation.pk}/revoke/").status_code == 401


def test_a_token_works_like_a_session(api, personas):
    _invite(personas)
    api.credentials(HTTP_AUTHORIZATION=bearer(personas.bam_a))

    assert api.get(URL).json()["count"] == 1


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_a_bam_cannot_touch_a_bam_invitation_but_may_read_it(api_as, personas, action):
    invitation = _invite(personas, role=Role.BAM)
    client = api_as("bam_a")

    response = client.post(f"{URL}{invitation.pk}/{action}/")

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert (invitation.revoked_at, invitation.sent_count) == (None, 1)
    row = client.get(f"{URL}{invitation.pk}/").json()
    assert (row["role"], row["can_act"]) == ("bam", False)


# --- Create -----------------------------------------------------------------------------------------


def test_an_agent_invites_and_the_email_goes_out_without_the_token_in_the_answer(
    api_as, personas, send_now, django_capture_on_commit_callbacks
):
    response = send_now(
        api_as("broker_agent").post,
        URL,
        {
            "importer": personas.importer_a.pk,
            "email": "  Owner@Alpha.example.com ",
            "full_name": "Olive Owner",
            "role": "bam",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    invitation = Invitation.objects.get()
    assert body["id"] == invitation.pk
    assert body["email"] == "owner@alpha.example.com"
    # A new BAM invited by the broker waits for the importer's BAM: only they get an email.
    assert (body["role"], body["state"]) == ("bam", "awaiting_confirmation")
    assert body["invited_by"] == personas.broker_agent.email
    assert body["importer_name"] == "Alpha Imports Inc."
    assert body["can_act"] is True
    assert [m.to for m in mail.outbox] == [[personas.bam_a.email]]
    assert "/accept/" not in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        invitations.confirm(invitation, by=personas.bam_a)
    message = mail.outbox[1]
    assert message.to == ["owner@alpha.example.com"]
    token = re.search(r"/invitations/accept/([\w-]+)/", message.body).group(1)
    assert invitations.find_by_token(token) == invitation
    text = response.content.decode()
    assert token not in text and invitation.token_hash not in text
    assert not {"token", "token_hash"} & set(body)


def test_inviting_an_open_address_again_resends_with_200(api_as, personas, send_now):
    first = _invite(personas, role=Role.EMPLOYEE)
    _expire(first)

    response = send_now(
        api_as("bam_a").post,
        URL,
        {"importer": personas.importer_a.pk, "email": NEW_EMAIL.upper(), "role": "finance"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["sent_count"], body["role"], body["state"]) == (
        first.pk,
        2,
        "finance",
        "pending",
    )
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "importer"),
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "x" * 250 + "@a.ca"}, "email"),
        ({"role": "owner"}, "role"),
        ({"role": ""}, "role"),
        ({"full_name": "x" * 151}, "full_name"),
        ({"importer": 999_999_999}, "importer"),
        ({"importer": 2**63}, "importer"),
        ({"importer": "abc"}, "importer"),
        ({"importer": None}, "importer"),
        ({"email": ["a@b.ca"]}, "email"),
    ],
)
def test_bad_input_is_a_400_on_its_field(api_as, personas, payload, field):
    data = {"importer": personas.importer_a.pk, "email": NEW_EMAIL, "role": "finance"}
    data = {**data, **payload} if payload else {}

    response = api_as("broker_agent").post(URL, data, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Invitation.objects.exists()


def test_an_unparsable_body_is_a_400(api_as):
    response = api_as("broker_agent").post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400


def test_a_bam_may_not_invite_a_bam(api_as, personas):
    response = api_as("bam_a").post(
        URL, {"importer": personas.importer_a.pk, "email": NEW_EMAIL, "role": "bam"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "role": ["You may not invite people with this role for this importer."]
    }


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("EMPLOYEE@alpha.example.com", "already a member"),
        ("finance@broker.example.com", "broker's staff"),
    ],
)
def test_members_and_broker_staff_are_refused_on_the_email(api_as, personas, email, message):
    response = api_as("broker_agent").post(
        URL, {"importer": personas.importer_a.pk, "email": email, "role": "finance"}, format="json"
    )

    assert response.status_code == 400
    assert message in response.json()["email"][0]
    assert not Invitation.objects.exists()


def test_a_bam_cannot_rewrite_the_brokers_bam_invitation(api_as, personas):
    _invite(personas, role=Role.BAM)

    response = api_as("bam_a").post(
        URL,
        {"importer": personas.importer_a.pk, "email": NEW_EMAIL, "role": "employee"},
        format="json",
    )

    assert response.status_code == 400
    assert "may not change" in response.json()["email"][0]
    assert Invitation.objects.get().role == Role.BAM


# --- Resend and revoke ------------------------------------------------------------------------------


def test_resend_kills_the_old_link_and_mails_a_new_one(api_as, personas, send_now):
    invitation, old_token = invitations.invite(
        importer=personas.importer_a,
        email=NEW_EMAIL,
        role=Role.FINANCE,
        invited_by=personas.broker_agent,
    )
    _expire(invitation)

    response = send_now(api_as("broker_agent").post, f"{URL}{invitation.pk}/resend/")

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["sent_count"]) == ("pending", 2)
    assert invitations.find_by_token(old_token) is None
    assert len(mail.outbox) == 1
    assert old_token not in mail.outbox[0].body


def test_revoke_then_resend_is_refused_and_revoke_again_is_harmless(api_as, personas):
    invitation = _invite(personas)
    client = api_as("bam_a")

    first = client.post(f"{URL}{invitation.pk}/revoke/")
    again = client.post(f"{URL}{invitation.pk}/revoke/")
    resend = client.post(f"{URL}{invitation.pk}/resend/")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["state"] == "revoked"
    assert first.json()["revoked_by"] == personas.bam_a.email
    assert resend.status_code == 400
    assert "cannot be sent again" in resend.json()["non_field_errors"][0]


def test_an_accepted_invitation_cannot_be_revoked_or_resent(api_as, personas):
    invitation = _invite(personas)
    invitations.accept(invitation, user=UserFactory(email=NEW_EMAIL))
    client = api_as("broker_agent")

    revoke = client.post(f"{URL}{invitation.pk}/revoke/")
    resend = client.post(f"{URL}{invitation.pk}/resend/")

    assert revoke.status_code == 400
    assert "already accepted" in revoke.json()["non_field_errors"][0]
    assert resend.status_code == 400
    assert Invitation.objects.get().revoked_at is None


@pytest.mark.parametrize("pk", ["0", "999999999", "abc", str(2**64)])
def test_unknown_ids_are_404(api_as, personas, pk):
    client = api_as("broker_admin")

    assert client.get(f"{URL}{pk}/").status_code == 404
    assert client.post(f"{URL}{pk}/resend/").status_code == 404


# --- List: filters, states, queries -----------------------------------------------------------------


def _one_of_each_state(personas) -> dict[str, Invitation]:
    pending = _invite(personas, email="pending@alpha.example.com")
    expired = _invite(personas, email="expired@alpha.example.com")
    _expire(expired)
    revoked = _invite(personas, email="revoked@alpha.example.com")
    invitations.revoke(revoked, by=personas.broker_agent)
    accepted = _invite(personas, email="accepted@alpha.example.com")
    invitations.accept(accepted, user=UserFactory(email=accepted.email))
    awaiting = _invite(personas, email="new.bam@alpha.example.com", role="bam")
    return {
        "pending": pending,
        "expired": expired,
        "revoked": revoked,
        "accepted": accepted,
        "awaiting_confirmation": awaiting,
    }


@pytest.mark.parametrize("state", [s.value for s in State])
def test_the_state_filter_follows_the_clock_and_the_stamps(api_as, personas, state):
    rows = _one_of_each_state(personas)

    response = api_as("broker_agent").get(URL, {"state": state})

    results = response.json()["results"]
    assert [row["id"] for row in results] == [rows[state].pk]
    assert results[0]["state"] == state
    assert results[0]["can_act"] is (state in ("pending", "expired", "awaiting_confirmation"))


def test_the_importer_and_email_filters(api_as, personas):
    _invite(personas, email="Same@Example.com")
    other = _invite(personas, email="same@example.com", importer=personas.importer_b)
    client = api_as("broker_agent")

    by_importer = client.get(URL, {"importer": personas.importer_b.pk}).json()["results"]
    by_email = client.get(URL, {"email": " SAME@example.com"}).json()["results"]

    assert [row["id"] for row in by_importer] == [other.pk]
    assert len(by_email) == 2


@pytest.mark.parametrize(
    "params", [{"state": "lost"}, {"importer": "x"}, {"importer": str(2**64)}, {"importer": "-1"}]
)
def test_bad_filters_are_400(api_as, params):
    assert api_as("broker_agent").get(URL, params).status_code == 400


def test_an_invisible_importer_filter_is_an_empty_page(api_as, personas):
    _invite(personas, email="b@bravo.example.com", importer=personas.importer_b)

    response = api_as("bam_a").get(URL, {"importer": personas.importer_b.pk})

    assert (response.status_code, response.json()["count"]) == (200, 0)


def test_the_list_is_constant_query(api_as, personas, django_assert_max_num_queries):
    client = api_as("bam_a")
    client.get(URL)  # warm the session
    for i in range(12):
        _invite(personas, email=f"p{i}@alpha.example.com", role=Role.EMPLOYEE)
    _one_of_each_state(personas)

    # session, user, groups, memberships, count, page, and the request's savepoint pair
    with django_assert_max_num_queries(8):
        response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 17  # one of each state, awaiting confirmation included
