"""The OpenAPI 3 document at /api/schema/ and the offline Swagger UI at /api/docs/."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

STATIC_PREFIX = "/static/"


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_a_valid_openapi_3_document(schema):
    validate_schema(schema)  # raises on any departure from the OpenAPI 3.0 JSON schema

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "carm-portal API"


def test_schema_generates_without_warnings(tmp_path):
    """The command CI runs: any drf-spectacular warning fails it (SystemExit or an error)."""
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )

    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3.")


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/importers/", {"get", "post"}),
        ("/api/v1/importers/{id}/", {"get", "put", "patch"}),
        ("/api/v1/program-accounts/", {"get", "post"}),
        ("/api/v1/program-accounts/{id}/", {"get", "put", "patch"}),
    ],
)
def test_schema_documents_each_endpoint_and_method(schema, path, methods):
    operations = schema["paths"][path]

    assert set(operations) - {"parameters"} == methods
    for operation in operations.values():
        assert {"cookieAuth", "tokenAuth"} <= {
            name for requirement in operation["security"] for name in requirement
        }


def test_schema_documents_the_list_filters(schema):
    importer_filters = {
        p["name"] for p in schema["paths"]["/api/v1/importers/"]["get"]["parameters"]
    }
    account_filters = {
        p["name"] for p in schema["paths"]["/api/v1/program-accounts/"]["get"]["parameters"]
    }

    assert importer_filters == {"page", "status", "bn9", "q"}
    assert account_filters == {"page", "importer", "status", "bn15"}


def test_schema_names_each_choice_set_once(schema):
    components = schema["components"]["schemas"]

    assert components["ImporterStatusEnum"]["enum"] == [
        "prospect",
        "onboarding",
        "active",
        "inactive",
    ]
    assert components["ProgramAccountStatusEnum"]["enum"] == ["active", "closed"]
    assert len(components["ProvinceEnum"]["enum"]) == 13
    importer = components["Importer"]["properties"]
    assert importer["province"]["allOf"] == [{"$ref": "#/components/schemas/ProvinceEnum"}]
    assert importer["mailing_province"]["oneOf"] == [
        {"$ref": "#/components/schemas/ProvinceEnum"},
        {"type": "string", "enum": [""]},
    ]


def test_schema_types_the_ids(schema):
    account = schema["components"]["schemas"]["ProgramAccount"]["properties"]
    detail = schema["paths"]["/api/v1/importers/{id}/"]["get"]["parameters"]

    assert account["importer"]["type"] == "integer"
    assert [p["schema"]["type"] for p in detail if p["name"] == "id"] == ["integer"]


def test_docs_render_swagger_ui_from_the_sidecar(client):
    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<div id="swagger-ui"></div>' in html
    assert "<script>" not in html  # no inline script: a strict CSP holds
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert '"/api/schema/"' in script.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    assert re.findall(r"https?://", html) == []  # no CDN: the docs work offline


def test_every_asset_the_docs_reference_is_served_locally(client):
    html = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)

    assets.remove("/api/docs/?script=")  # the split view's own initialiser, checked above
    assert len(assets) >= 4
    for asset in assets:
        assert asset.startswith(STATIC_PREFIX), asset
        assert finders.find(asset.removeprefix(STATIC_PREFIX)), asset
