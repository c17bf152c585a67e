"""A JSON body nested deeper than API_MAX_JSON_DEPTH is a 400 with the reason, never a 500."""

from __future__ import annotations

import json

import pytest

from carm_portal.json_guard import json_depth

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),  # brackets inside a string are text
        (b'["\\"[[[", [[]]]', 3),  # an escaped quote does not end the string
    ],
)
def test_json_depth_counts_nesting_outside_strings(body, depth):
    assert json_depth(body) == depth


def test_json_depth_stops_early_past_the_limit():
    assert json_depth(b"[" * 100_000, stop_above=64) == 65


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
def test_deeply_nested_body_is_a_400_with_the_reason(api_as, depth):
    api = api_as("broker_admin")
    body = "[" * depth + "]" * depth

    response = api.post("/api/v1/importers/", body, content_type="application/json")

    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["detail"]


def test_anonymous_deep_body_is_refused_before_parsing(api):
    body = '{"a":' * 5_000 + "1" + "}" * 5_000

    response = api.post("/api/v1/importers/", body, content_type="application/json")

    assert response.status_code in (400, 401)  # never a 500


def test_body_at_the_limit_reaches_validation(api_as):
    api = api_as("broker_admin")
    nested: object = 1
    for _ in range(63):
        nested = [nested]
    body = json.dumps({"legal_name": nested})

    response = api.post("/api/v1/importers/", body, content_type="application/json")

    assert response.status_code == 400
    assert "legal_name" in response.json()  # a field error: the body was parsed


def test_limit_is_a_setting(api_as, settings):
    settings.API_MAX_JSON_DEPTH = 3
    api = api_as("broker_admin")

    response = api.post(
        "/api/v1/importers/", json.dumps({"a": [[[1]]]}), content_type="application/json"
    )

    assert response.status_code == 400
    assert "nested deeper than 3 levels" in response.json()["detail"]
