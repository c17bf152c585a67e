"""The schema and Swagger UI: public outside production, behind a sign-in in production."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.kit import bearer
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(settings):
    settings.API_DOCS_PUBLIC = False


def test_private_schema_refuses_anonymous_callers(private, api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 401


def test_private_docs_send_anonymous_visitors_to_sign_in(private, client):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs/")


def test_private_schema_and_docs_open_to_a_signed_in_person(private, personas, client_for):
    client = client_for(personas.employee_a)

    assert client.get("/api/schema/", {"format": "json"}).status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_private_schema_open_to_a_token(private, personas):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=bearer(personas.bam_b))

    assert api.get("/api/schema/", {"format": "json"}).status_code == 200


def test_public_outside_production(settings, api):
    settings.API_DOCS_PUBLIC = True

    assert api.get("/api/schema/", {"format": "json"}).status_code == 200


def test_production_settings_make_the_docs_private():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print('docs public:', settings.API_DOCS_PUBLIC)",
        DJANGO_ENV="production",
        SECRET_KEY="x" * 64,
        PAYMENTS_ENCRYPTION_KEYS="MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=",
        ALLOWED_HOSTS="carm.example.com",
    )

    assert "docs public: False" in result.stdout, result.stderr


def test_development_settings_make_the_docs_public():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print('docs public:', settings.API_DOCS_PUBLIC)",
        DJANGO_ENV="development",
    )

    assert "docs public: True" in result.stdout, result.stderr
