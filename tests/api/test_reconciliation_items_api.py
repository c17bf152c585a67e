"""/api/v1/reconciliation-items/: the item page's workflow (assign, comment, resolve, reopen)
through ``statements.workflow``, per persona; lists constant-query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statements.models import ReconciliationComment
from tests.kit import PERSONAS
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db

URL = "/api/v1/reconciliation-items/"
# VIEW_FINANCE to read: every persona of A but the employee; B's BAM sees nothing.
READ = dict(zip(PERSONAS, (200, 200, 200, 200, 200, 403, 404), strict=True))
# MANAGE_STATEMENTS to work: the three broker roles.
WORK = dict(zip(PERSONAS, (200, 200, 200, 403, 403, 403, 404), strict=True))


@pytest.fixture
def run(personas):
    return reconciled_statement(personas.importer_a.program_accounts.get())


@pytest.fixture
def mismatch(run):
    return run.items.get(status="amount_mismatch")


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_holds_only_items_the_persona_may_see(api_as, mismatch, persona):
    response = api_as(persona).get(URL)

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert (mismatch.pk in ids) == (READ[persona] == 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_retrieve_per_persona(api_as, mismatch, persona):
    response = api_as(persona).get(f"{URL}{mismatch.pk}/")

    assert response.status_code == READ[persona]
    if response.status_code == 200:
        assert response.json()["workable"] is True
        assert response.json()["difference"] == "0.27"


@pytest.mark.parametrize("persona", PERSONAS)
def test_resolve_per_persona(api_as, mismatch, persona):
    response = api_as(persona).post(
        f"{URL}{mismatch.pk}/resolve/",
        {"resolution": "explained", "note": "GST rounding"},
        format="json",
    )

    assert response.status_code == WORK[persona]
    mismatch.refresh_from_db()
    assert (mismatch.resolution == "explained") == (WORK[persona] == 200)


def test_resolve_follows_the_workflow_rules(api_as, mismatch):
    api = api_as("broker_finance")

    no_note = api.post(f"{URL}{mismatch.pk}/resolve/", {"resolution": "explained"}, format="json")
    bad = api.post(f"{URL}{mismatch.pk}/resolve/", {"resolution": "open"}, format="json")

    assert no_note.status_code == 400
    assert "note" in no_note.json()
    assert bad.status_code == 400
    assert "resolution" in bad.json()


def test_resolve_then_reopen(api_as, mismatch):
    api = api_as("broker_agent")
    resolved = api.post(
        f"{URL}{mismatch.pk}/resolve/", {"resolution": "followed_up", "note": ""}, format="json"
    )
    assert resolved.json()["resolution"] == "followed_up"

    reopened = api.post(f"{URL}{mismatch.pk}/reopen/")
    again = api.post(f"{URL}{mismatch.pk}/reopen/")

    assert reopened.status_code == 200
    assert reopened.json()["resolution"] == ""
    assert again.status_code == 400  # already open


def test_a_matched_item_cannot_be_worked(api_as, run):
    matched = run.items.filter(status="matched").first()

    response = api_as("broker_admin").post(
        f"{URL}{matched.pk}/resolve/", {"resolution": "followed_up"}, format="json"
    )

    assert response.status_code == 400
    assert "matched item is not an exception" in response.json()["non_field_errors"][0]


@pytest.mark.parametrize("persona", PERSONAS)
def test_assign_per_persona(api_as, personas, mismatch, persona):
    response = api_as(persona).post(
        f"{URL}{mismatch.pk}/assign/", {"assignee": personas.broker_finance.pk}, format="json"
    )

    assert response.status_code == WORK[persona]
    if response.status_code == 200:
        assert response.json()["assigned_to"] == personas.broker_finance.email


def test_assign_refuses_an_importers_person_and_takes_back_with_null(api_as, personas, mismatch):
    api = api_as("broker_admin")

    member = api.post(f"{URL}{mismatch.pk}/assign/", {"assignee": personas.bam_a.pk}, format="json")
    nobody = api.post(f"{URL}{mismatch.pk}/assign/", {"assignee": None}, format="json")

    assert member.status_code == 400
    assert member.json() == {"assignee": ["No such broker staff member."]}
    assert nobody.status_code == 200
    assert nobody.json()["assigned_to"] is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_comment_per_persona(api_as, mismatch, persona):
    response = api_as(persona).post(
        f"{URL}{mismatch.pk}/comments/", {"text": "Asked CBSA"}, format="json"
    )

    expected = 201 if WORK[persona] == 200 else WORK[persona]
    assert response.status_code == expected
    assert ReconciliationComment.objects.exists() == (expected == 201)


def test_comments_show_on_the_item(api_as, mismatch):
    api = api_as("broker_finance")
    api.post(f"{URL}{mismatch.pk}/comments/", {"text": "Asked CBSA"}, format="json")
    blank = api.post(f"{URL}{mismatch.pk}/comments/", {"text": "   "}, format="json")

    comments = api.get(f"{URL}{mismatch.pk}/").json()["comments"]

    assert [c["text"] for c in comments] == ["Asked CBSA"]
    assert blank.status_code == 400


def test_list_is_constant_query(api_as, personas, run):
    api = api_as("broker_admin")
    api.get(URL)  # warm up sessions and content types
    with CaptureQueriesContext(connection) as few:
        api.get(URL)
    reconciled_statement(personas.importer_b.program_accounts.get())
    with CaptureQueriesContext(connection) as many:
        response = api.get(URL)

    assert response.json()["count"] > 0
    assert len(many) == len(few)
