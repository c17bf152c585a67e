"""The schema documents what every operation can answer, and money as decimal strings."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_documents_401_403_and_429(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        assert {"401", "403", "429"} <= set(responses), (method, path)
        assert "Retry-After" in responses["429"]["headers"], (method, path)


def test_bodies_document_400_and_rows_404(schema):
    for path, method, operation in _operations(schema):
        if "requestBody" in operation:
            assert "400" in operation["responses"], (method, path)
        if "{id}" in path:
            assert "404" in operation["responses"], (method, path)


def test_money_is_a_decimal_string(schema):
    payment = schema["components"]["schemas"]["Payment"]["properties"]
    amount = payment["amount"]

    assert amount["type"] == "string"
    assert amount["format"] == "decimal"
    assert amount["pattern"].startswith("^-?\\d{0,12}")


def test_new_endpoints_are_documented(schema):
    paths = schema["paths"]

    assert {"get"} <= set(paths["/api/v1/reconciliation-items/"])
    for action in ("assign", "comments", "resolve", "reopen"):
        assert "post" in paths[f"/api/v1/reconciliation-items/{{id}}/{action}/"]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"


def _email_formats(node):
    """Every ``format`` the schema gives an e-mail field, wherever it is nested."""
    if isinstance(node, dict):
        if node.get("format") in ("email", "idn-email"):
            yield node["format"]
        for value in node.values():
            yield from _email_formats(value)
    elif isinstance(node, list):
        for value in node:
            yield from _email_formats(value)


def test_an_importer_made_from_a_prospect_reads_as_the_schema_says(schema, personas, api_as):
    """A prospect turned client has no BN9 and no address yet (the wizard asks for them): the
    API reads it as null and blank, so the schema must allow both in an answer."""
    from tests.factories import ImporterFactory

    importer = ImporterFactory(bn9=None, province="", address_line1="", postal_code="")
    importer.assigned_agent = personas.broker_agent
    importer.save()

    body = api_as("broker_agent").get(f"/api/v1/importers/{importer.pk}/").json()

    assert (body["bn9"], body["province"]) == (None, "")
    fields = schema["components"]["schemas"]["Importer"]["properties"]
    assert fields["bn9"]["nullable"] is True
    assert {"type": "string", "enum": [""]} in fields["province"]["oneOf"]


@pytest.mark.parametrize("change", [{"bn9": None}, {"province": ""}])
def test_a_write_may_not_clear_an_importers_bn9_or_province(personas, api_as, change):
    importer = personas.importer_a
    before = (importer.bn9, importer.province)

    response = api_as("broker_agent").patch(
        f"/api/v1/importers/{importer.pk}/", change, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == list(change)
    importer.refresh_from_db()
    assert (importer.bn9, importer.province) == before


def test_an_address_in_any_script_is_read_as_its_schema_says(schema, personas, api_as):
    """Django's e-mail validation accepts a domain in any script; the ``email`` format (ASCII
    only) does not, so every e-mail field is documented as ``idn-email``."""
    from clients.invitations import invite

    invitation, _token = invite(
        importer=personas.importer_a,
        email="chloe@boréal.example.com",
        role="employee",
        invited_by=personas.bam_a,
    )

    body = api_as("bam_a").get(f"/api/v1/invitations/{invitation.pk}/").json()

    assert body["email"] == "chloe@boréal.example.com"
    assert set(_email_formats(schema)) == {"idn-email"}
