"""A NUL character in any query or form value is a 400, never a 500 (PostgreSQL cannot compare or
store text holding NUL) and never stored (SQLite would)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

LISTS = [
    "/clients/",
    "/delegations/",
    "/statements/",
    "/payments/",
    "/payments/securities/",
    "/statements/imports/",
    "/api/v1/importers/",
    "/api/v1/payments/",
]


@pytest.mark.parametrize("url", LISTS)
def test_a_nul_in_a_search_is_a_400(personas, client_for, url):
    response = client_for(personas.broker_admin).get(url, {"q": "A\x00B", "search": "A\x00B"})

    assert response.status_code == 400


def test_a_nul_in_a_posted_form_is_a_400_and_nothing_is_stored(personas, client_for):
    from clients.models import Importer

    importer = personas.importer_a
    response = client_for(personas.broker_agent).post(
        f"/clients/{importer.pk}/edit/", {"legal_name": "Alpha\x00 Imports", "bn9": importer.bn9}
    )

    assert response.status_code == 400
    assert Importer.objects.get(pk=importer.pk).legal_name == "Alpha Imports Inc."


def test_a_nul_in_a_json_body_is_a_400(personas, client_for):
    response = client_for(personas.broker_agent).post(
        "/api/v1/invitations/",
        json.dumps(
            {
                "importer": personas.importer_a.pk,
                "email": "a@x.com",
                "role": "finance",
                "full_name": "A\x00B",
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "NUL character" in response.json()["detail"]  # JSON, as the API's other errors


def test_a_nul_in_an_api_query_is_a_json_400_and_in_a_page_query_plain_text(personas, client_for):
    client = client_for(personas.broker_agent)

    api = client.get("/api/v1/importers/", {"search": "A\x00"})
    page = client.get("/search/", {"q": "A\x00"})

    assert (api.status_code, api["Content-Type"]) == (400, "application/json")
    assert "NUL character" in api.json()["detail"]
    assert (page.status_code, page["Content-Type"]) == (400, "text/plain; charset=utf-8")


def test_an_ordinary_search_still_works(personas, client_for):
    response = client_for(personas.broker_admin).get("/clients/", {"q": "Alpha"})

    assert response.status_code == 200
    assert "Alpha Imports Inc." in response.content.decode()
