"""/api/v1/onboarding-steps/ (read; mark as the page does) and /api/v1/portal-users/ (read),
per persona, scoped by clients.access; lists constant-query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import OnboardingStep
from clients.onboarding import refresh_checklist
from tests.factories import PortalUserFactory
from tests.kit import PERSONAS

pytestmark = pytest.mark.django_db

STEPS = "/api/v1/onboarding-steps/"
PEOPLE = "/api/v1/portal-users/"
# VIEW: everyone of A and the broker; B's BAM sees nothing of A.
READ = dict(zip(PERSONAS, (200, 200, 200, 200, 200, 200, 404), strict=True))
# MANAGE_CLIENT: broker admins and agents.
MARK = dict(zip(PERSONAS, (200, 200, 403, 403, 403, 403, 404), strict=True))
MANUAL_STEP = 5  # a step a person confirms (1, 5 and 7 are manual on the page)


@pytest.fixture
def checklist(personas):
    refresh_checklist(personas.importer_a)
    refresh_checklist(personas.importer_b)
    return personas.importer_a.onboarding_steps.order_by("step")


@pytest.mark.parametrize("persona", PERSONAS)
def test_steps_list_only_visible_importers(api_as, personas, checklist, persona):
    response = api_as(persona).get(STEPS)

    assert response.status_code == 200
    importers = {row["importer"] for row in response.json()["results"]}
    if READ[persona] == 200:
        assert personas.importer_a.pk in importers
    else:
        assert importers == {personas.importer_b.pk}
    if not persona.startswith("broker") and persona != "bam_b":
        assert importers == {personas.importer_a.pk}


@pytest.mark.parametrize("persona", PERSONAS)
def test_step_retrieve_per_persona(api_as, checklist, persona):
    row = checklist.first()

    response = api_as(persona).get(f"{STEPS}{row.pk}/")

    assert response.status_code == READ[persona]
    if response.status_code == 200:
        assert response.json()["step"] == row.step


@pytest.mark.parametrize("persona", PERSONAS)
def test_mark_per_persona(api_as, checklist, persona):
    row = checklist.get(step=MANUAL_STEP)

    response = api_as(persona).post(
        f"{STEPS}{row.pk}/mark/",
        {"status": "done", "completed_on": "2026-11-02", "note": "Done in the CCP"},
        format="json",
    )

    assert response.status_code == MARK[persona], response.content
    row.refresh_from_db()
    assert (row.status == "done") == (MARK[persona] == 200)
    if MARK[persona] == 200:
        assert response.json()["completed_on"] == "2026-11-02"
        assert response.json()["confirmed_by"]


def test_a_derived_step_cannot_be_ticked(api_as, checklist):
    derived = checklist.filter(derived=True).exclude(step=MANUAL_STEP).first()

    done = api_as("broker_agent").post(f"{STEPS}{derived.pk}/mark/", {"status": "done"})
    blocked = api_as("broker_agent").post(
        f"{STEPS}{derived.pk}/mark/", {"status": "blocked", "note": "Waiting"}
    )

    assert done.status_code == 400
    assert "status" in done.json()
    assert blocked.status_code == 200
    assert blocked.json()["status"] == "blocked"


def test_mark_refuses_an_absurd_date(api_as, checklist):
    row = checklist.get(step=MANUAL_STEP)

    response = api_as("broker_admin").post(
        f"{STEPS}{row.pk}/mark/", {"status": "done", "completed_on": "0001-01-01"}, format="json"
    )

    assert response.status_code == 400
    assert "completed_on" in response.json()
    row.refresh_from_db()
    assert row.status != OnboardingStep.Status.DONE


@pytest.mark.parametrize("persona", PERSONAS)
def test_people_per_persona(api_as, personas, persona):
    mine = PortalUserFactory(importer=personas.importer_a)
    PortalUserFactory(importer=personas.importer_b)

    listed = api_as(persona).get(PEOPLE)
    one = api_as(persona).get(f"{PEOPLE}{mine.pk}/")

    ids = {row["id"] for row in listed.json()["results"]}
    assert (mine.pk in ids) == (READ[persona] == 200)
    assert one.status_code == READ[persona]


def test_people_are_read_only(api_as, personas):
    mine = PortalUserFactory(importer=personas.importer_a)
    api = api_as("broker_admin")

    assert api.post(PEOPLE, {"importer": personas.importer_a.pk}).status_code == 405
    assert api.patch(f"{PEOPLE}{mine.pk}/", {"full_name": "x"}).status_code == 405


def test_lists_are_constant_query(api_as, personas, checklist):
    api = api_as("broker_admin")
    PortalUserFactory(importer=personas.importer_a)
    api.get(STEPS)
    api.get(PEOPLE)
    with CaptureQueriesContext(connection) as few:
        api.get(STEPS)
        api.get(PEOPLE)
    PortalUserFactory.create_batch(3, importer=personas.importer_b)
    OnboardingStep.objects.filter(importer=personas.importer_a).update(note="x")
    with CaptureQueriesContext(connection) as many:
        api.get(STEPS)
        api.get(PEOPLE)

    assert len(many) == len(few)
