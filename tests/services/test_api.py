"""The services API: service requests and bookings, per persona, scoped like the pages."""

from __future__ import annotations

import pytest

from services.models import Booking, ServiceRequest
from services.requests_flow import request_help
from tests.kit import persona_cases
from tests.services.factories import WalkthroughSlotFactory

pytestmark = pytest.mark.django_db

# create a help request for importer A: its BAM and the broker's agents and admins
CREATE = [("help", (201, 201, 403, 201, 403, 403, 400))]


@pytest.mark.parametrize(("row", "persona", "expected"), persona_cases(CREATE))
def test_create_request_per_persona(personas, api_as, row, persona, expected):
    response = api_as(persona).post(
        "/api/v1/service-requests/",
        {"importer": personas.importer_a.pk, "kind": "help", "topic": "payments", "message": "?"},
        format="json",
    )

    assert response.status_code == expected
    assert ServiceRequest.objects.count() == (1 if expected == 201 else 0)


RETRIEVE = [("retrieve", (200, 200, 200, 200, 200, 200, 404))]


@pytest.mark.parametrize(("row", "persona", "expected"), persona_cases(RETRIEVE))
def test_retrieve_request_per_persona(personas, api_as, row, persona, expected):
    req = request_help(
        importer=personas.importer_a, topic="payments", message="?", by=personas.bam_a
    )

    response = api_as(persona).get(f"/api/v1/service-requests/{req.pk}/")

    assert response.status_code == expected


def test_lists_hold_only_the_users_importers(personas, api_as):
    request_help(importer=personas.importer_a, topic="payments", message="A", by=personas.bam_a)
    request_help(importer=personas.importer_b, topic="payments", message="B", by=personas.bam_b)

    mine = api_as("bam_b").get("/api/v1/service-requests/").json()["results"]
    everyone = api_as("broker_finance").get("/api/v1/service-requests/").json()["results"]

    assert [r["message"] for r in mine] == ["B"]
    assert {r["message"] for r in everyone} == {"A", "B"}


def test_another_importers_account_looks_like_none(personas, api_as):
    other = personas.importer_b.program_accounts.get()

    response = api_as("bam_a").post(
        "/api/v1/service-requests/",
        {
            "importer": personas.importer_a.pk,
            "kind": "soa_retrieval",
            "program_account": other.pk,
            "period": "x",
        },
        format="json",
    )
    missing = api_as("bam_a").post(
        "/api/v1/service-requests/",
        {
            "importer": personas.importer_a.pk,
            "kind": "soa_retrieval",
            "program_account": 999999,
            "period": "x",
        },
        format="json",
    )

    assert response.status_code == missing.status_code == 400
    assert response.json()["program_account"] == missing.json()["program_account"]


def test_book_and_cancel_through_the_api(personas, api_as):
    slot = WalkthroughSlotFactory(agent=personas.broker_agent)
    client = api_as("bam_a")

    assert [s["id"] for s in client.get("/api/v1/walkthrough-slots/").json()["results"]] == [
        slot.pk
    ]
    made = client.post(
        "/api/v1/bookings/",
        {
            "importer": personas.importer_a.pk,
            "slot": slot.pk,
            "contact_email": "bam@alpha.example.com",
        },
        format="json",
    )
    again = api_as("bam_b").post(
        "/api/v1/bookings/",
        {
            "importer": personas.importer_b.pk,
            "slot": slot.pk,
            "contact_email": "bam@bravo.example.com",
        },
        format="json",
    )

    assert made.status_code == 201
    assert again.status_code == 400
    booking_id = made.json()["id"]
    assert api_as("employee_a").post(f"/api/v1/bookings/{booking_id}/cancel/").status_code == 403
    assert api_as("bam_b").post(f"/api/v1/bookings/{booking_id}/cancel/").status_code == 404
    cancelled = client.post(f"/api/v1/bookings/{booking_id}/cancel/")
    assert cancelled.status_code == 200
    assert Booking.objects.get().cancelled_at is not None
