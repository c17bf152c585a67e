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
