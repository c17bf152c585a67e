"""Rate limits: per user, per token, per anonymous address (429 with Retry-After), and the
invitation emails, per invitation and per address, on the pages and in the API alike."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from carm_portal import api_tokens
from clients import invitations
from clients.invitations import InvitationThrottled
from clients.models import Invitation, Membership

pytestmark = pytest.mark.django_db

IMPORTERS = "/api/v1/importers/"
INVITATIONS = "/api/v1/invitations/"


@pytest.fixture
def own_cache(monkeypatch):
    """A cache of the test's own: counts from other tests (or other CI workers) never leak in."""
    cache = LocMemCache(f"throttle-tests-{uuid.uuid4()}", {})  # a name shares its storage
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)
    monkeypatch.setattr(invitations, "cache", cache)
    return cache


def test_the_defaults_limit_every_kind_of_caller():
    """What production runs with (the test settings turn limits off for the rest of the suite)."""
    from carm_portal import settings as project_settings

    rates = project_settings.API_THROTTLE_RATES
    assert {"anon", "user", "token", "invitation-send"} <= set(rates)
    assert all(rates[scope] for scope in ("anon", "user", "token", "invitation-send"))
    assert project_settings.INVITATION_RESEND_MIN_SECONDS > 0
    assert project_settings.INVITATION_SENDS_PER_ADDRESS_PER_DAY > 0
    classes = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert "carm_portal.throttles.TokenThrottle" in classes


def test_a_user_over_the_rate_gets_429_with_retry_after(own_cache, settings, api_as):
    settings.API_THROTTLE_RATES = {"user": "3/minute"}
    api = api_as("bam_a")

    statuses = [api.get(IMPORTERS).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = api.get(IMPORTERS)
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_one_users_limit_is_not_anothers(own_cache, settings, api_as):
    settings.API_THROTTLE_RATES = {"user": "2/minute"}
    bam_a, bam_b = api_as("bam_a"), api_as("bam_b")
    bam_a.get(IMPORTERS)
    bam_a.get(IMPORTERS)

    assert bam_a.get(IMPORTERS).status_code == 429
    assert bam_b.get(IMPORTERS).status_code == 200


def test_the_limit_lifts_after_the_period(own_cache, settings, api_as, monkeypatch):
    settings.API_THROTTLE_RATES = {"user": "1/minute"}
    now = [1_000_000.0]
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])
    api = api_as("bam_a")

    assert api.get(IMPORTERS).status_code == 200
    assert api.get(IMPORTERS).status_code == 429
    now[0] += 61
    assert api.get(IMPORTERS).status_code == 200


def test_each_token_has_its_own_allowance(own_cache, settings, personas):
    settings.API_THROTTLE_RATES = {"token": "2/minute", "user": "100/minute"}
    first = APIClient()
    second = APIClient()
    first.credentials(
        HTTP_AUTHORIZATION="Bearer " + api_tokens.issue(user=personas.bam_a, name="one")[1]
    )
    second.credentials(
        HTTP_AUTHORIZATION="Bearer " + api_tokens.issue(user=personas.bam_a, name="two")[1]
    )

    assert [first.get(IMPORTERS).status_code for _ in range(3)] == [200, 200, 429]
    assert second.get(IMPORTERS).status_code == 200


def test_a_tokens_requests_count_for_its_owner_too(own_cache, settings, personas):
    settings.API_THROTTLE_RATES = {"token": "100/minute", "user": "2/minute"}
    by_token = APIClient()
    by_token.credentials(
        HTTP_AUTHORIZATION="Bearer " + api_tokens.issue(user=personas.bam_a, name="one")[1]
    )
    by_session = APIClient()
    by_session.force_login(personas.bam_a)
    by_token.get(IMPORTERS)
    by_token.get(IMPORTERS)

    assert by_session.get(IMPORTERS).status_code == 429


def test_anonymous_callers_are_limited_by_address(own_cache, settings):
    """On what anonymous callers may open (the schema, outside production). Elsewhere they are
    refused (401) before any count."""
    settings.API_THROTTLE_RATES = {"anon": "1/minute"}
    settings.API_DOCS_PUBLIC = True
    api = APIClient()

    assert api.get("/api/schema/").status_code == 200
    assert api.get("/api/schema/").status_code == 429
    assert api.get("/api/schema/", REMOTE_ADDR="192.0.2.7").status_code == 200


# --- Invitation emails ----------------------------------------------------------------------------


def _invite(personas, email="fred@alpha.example.com", importer=None):
    invitation, _token = invitations.invite(
        importer=importer or personas.importer_a,
        email=email,
        role=Membership.Role.FINANCE,
        invited_by=personas.bam_a if importer is None else personas.broker_admin,
    )
    return invitation


def test_an_invitation_is_not_resent_within_the_interval(own_cache, settings, personas):
    settings.INVITATION_RESEND_MIN_SECONDS = 60
    invitation = _invite(personas)

    with pytest.raises(InvitationThrottled) as refused:
        invitations.resend(invitation, by=personas.bam_a)
    assert 0 < refused.value.retry_after <= 60
    with pytest.raises(InvitationThrottled):  # inviting the address again is a resend
        _invite(personas)

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        invitations.resend(invitation, by=personas.bam_a)
    assert Invitation.objects.get(pk=invitation.pk).sent_count == 2


def test_an_address_gets_a_bounded_number_of_invitations_a_day(own_cache, settings, personas):
    settings.INVITATION_SENDS_PER_ADDRESS_PER_DAY = 3
    invitation = _invite(personas)  # 1
    invitations.resend(invitation, by=personas.bam_a)  # 2
    invitations.resend(invitation, by=personas.bam_a)  # 3

    with pytest.raises(InvitationThrottled):
        invitations.resend(invitation, by=personas.bam_a)
    with pytest.raises(InvitationThrottled):  # from another importer, to the same address
        _invite(personas, importer=personas.importer_b)
    _invite(personas, email="someone.else@alpha.example.com")  # other addresses are unaffected
    assert Invitation.objects.get(pk=invitation.pk).sent_count == 3


def test_the_api_answers_a_too_early_resend_with_429(own_cache, settings, personas, api_as):
    settings.INVITATION_RESEND_MIN_SECONDS = 60
    invitation = _invite(personas)

    response = api_as("bam_a").post(f"{INVITATIONS}{invitation.pk}/resend/")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert Invitation.objects.get(pk=invitation.pk).sent_count == 1


def test_the_page_says_why_a_resend_waits(own_cache, settings, personas, client_for):
    settings.INVITATION_RESEND_MIN_SECONDS = 60
    invitation = _invite(personas)

    response = client_for(personas.bam_a).post(f"/invitations/{invitation.pk}/resend/", follow=True)

    assert "wait a moment" in response.content.decode()
    assert Invitation.objects.get(pk=invitation.pk).sent_count == 1


def test_the_invitation_endpoints_have_their_own_scope(own_cache, settings, personas, api_as):
    settings.API_THROTTLE_RATES = {"invitation-send": "1/hour"}
    api = api_as("bam_a")
    body = {"importer": personas.importer_a.pk, "role": "employee"}

    first = api.post(INVITATIONS, {**body, "email": "one@alpha.example.com"}, format="json")
    second = api.post(INVITATIONS, {**body, "email": "two@alpha.example.com"}, format="json")

    assert first.status_code == 201
    assert second.status_code == 429
    assert api.get(INVITATIONS).status_code == 200  # reading is not sending
