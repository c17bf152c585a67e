"""/api/v1/renewal-requests/: ask for a renewal, confirm it, cancel it — the delegation page's
forms and functions, per persona."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegation.models import Delegation, RenewalRequest
from delegation.records import request_renewal
from tests.factories import DelegationFactory
from tests.kit import PERSONAS

pytestmark = pytest.mark.django_db

URL = "/api/v1/renewal-requests/"
READ = dict(zip(PERSONAS, (200, 200, 200, 200, 200, 200, 404), strict=True))
# MANAGE_DELEGATION: broker admins and agents. Creating for an invisible delegation: 400.
ASK = dict(zip(PERSONAS, (201, 201, 403, 403, 403, 403, 400), strict=True))
CANCEL = dict(zip(PERSONAS, (200, 200, 403, 403, 403, 403, 404), strict=True))
# CONFIRM_DELEGATION: broker admins and agents, and the importer's BAM.
CONFIRM = dict(zip(PERSONAS, (200, 200, 403, 200, 403, 403, 404), strict=True))


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def delegation(personas):
    return DelegationFactory(importer=personas.importer_a, expiry_date=dt.date(2026, 12, 15))


@pytest.fixture
def renewal(personas, delegation):
    return request_renewal(
        delegation=delegation,
        expiry_date=dt.date(2027, 12, 31),
        message="Please extend",
        by=personas.broker_agent,
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_ask_per_persona(api_as, delegation, persona):
    response = api_as(persona).post(
        URL,
        {"delegation": delegation.pk, "requested_expiry_date": "2027-12-31", "message": "Hi"},
        format="json",
    )

    assert response.status_code == ASK[persona], response.content
    assert RenewalRequest.objects.exists() == (ASK[persona] == 201)
    if persona == "bam_b":
        assert response.json() == {"delegation": ["No such delegation."]}


def test_ask_follows_the_page_rules(api_as, renewal, delegation):
    api = api_as("broker_agent")

    past = api.post(
        URL, {"delegation": delegation.pk, "requested_expiry_date": "2026-11-01"}, format="json"
    )
    absurd = api.post(
        URL, {"delegation": delegation.pk, "requested_expiry_date": "9999-01-01"}, format="json"
    )
    second = api.post(
        URL, {"delegation": delegation.pk, "requested_expiry_date": "2028-01-31"}, format="json"
    )

    assert past.status_code == 400
    assert past.json() == {"requested_expiry_date": ["Ask for an expiry date after today."]}
    assert absurd.status_code == 400
    assert second.status_code == 400
    assert "already waiting" in second.json()["non_field_errors"][0]


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_per_persona(api_as, renewal, persona):
    listed = api_as(persona).get(URL)
    one = api_as(persona).get(f"{URL}{renewal.pk}/")

    ids = {row["id"] for row in listed.json()["results"]}
    assert (renewal.pk in ids) == (READ[persona] == 200)
    assert one.status_code == READ[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_confirm_per_persona(api_as, renewal, delegation, persona):
    body = {"confirmed_expiry_date": "2027-12-31"}
    if persona.startswith("broker_"):  # on the importer's word: whose, and how
        body |= {"importer_person": "Ana Reyes (BAM)", "channel": "phone"}
    response = api_as(persona).post(f"{URL}{renewal.pk}/confirm/", body, format="json")

    assert response.status_code == CONFIRM[persona], response.content
    delegation.refresh_from_db()
    if CONFIRM[persona] == 200:
        assert response.json()["status"] == "confirmed"
        assert delegation.expiry_date == dt.date(2027, 12, 31)
        assert delegation.status == Delegation.Status.ACTIVE
    else:
        assert delegation.expiry_date == dt.date(2026, 12, 15)


def test_broker_staff_confirming_must_say_who_at_the_importer_and_how(api_as, renewal):
    api = api_as("broker_agent")

    bare = api.post(f"{URL}{renewal.pk}/confirm/", {"confirmed_expiry_date": "2027-12-31"})
    said = api.post(
        f"{URL}{renewal.pk}/confirm/",
        {"confirmed_expiry_date": "2027-12-31", "importer_person": "Ana", "channel": "email"},
        format="json",
    )

    assert bare.status_code == 400
    assert said.status_code == 200, said.content
    renewal.refresh_from_db()
    assert (renewal.confirmed_for_importer_by, renewal.confirmation_channel) == ("Ana", "email")


def test_confirm_refuses_a_past_date_and_a_closed_request(api_as, renewal):
    api = api_as("bam_a")

    past = api.post(
        f"{URL}{renewal.pk}/confirm/", {"confirmed_expiry_date": "2026-11-20"}, format="json"
    )
    done = api.post(
        f"{URL}{renewal.pk}/confirm/", {"confirmed_expiry_date": "2027-06-30"}, format="json"
    )
    again = api.post(
        f"{URL}{renewal.pk}/confirm/", {"confirmed_expiry_date": "2027-07-31"}, format="json"
    )

    assert past.status_code == 400
    assert "confirmed_expiry_date" in past.json()
    assert done.status_code == 200
    assert again.status_code == 400
    assert "no longer open" in again.json()["non_field_errors"][0]


@pytest.mark.parametrize("persona", PERSONAS)
def test_cancel_per_persona(api_as, renewal, persona):
    response = api_as(persona).post(f"{URL}{renewal.pk}/cancel/")

    assert response.status_code == CANCEL[persona]
    renewal.refresh_from_db()
    assert (renewal.status == "cancelled") == (CANCEL[persona] == 200)


def test_list_is_constant_query(api_as, personas, renewal):
    api = api_as("broker_admin")
    api.get(URL)
    with CaptureQueriesContext(connection) as few:
        api.get(URL)
    for _ in range(3):
        request_renewal(
            delegation=DelegationFactory(importer=personas.importer_b),
            expiry_date=dt.date(2027, 12, 31),
            message="",
            by=personas.broker_admin,
        )
    with CaptureQueriesContext(connection) as many:
        response = api.get(URL)

    assert response.json()["count"] == 4
    assert len(many) == len(few)
