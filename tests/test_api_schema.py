"""The OpenAPI 3 document at /api/schema/ and the offline Swagger UI at /api/docs/."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

STATIC_PREFIX = "/static/"


def common_answers(operation: dict) -> set[str]:
    """What carm_portal.api.document_common_answers adds: 400 everywhere (a NUL in the query
    string, carm_portal.nul_guard), 429 everywhere (rate limits), 404 on a paginated list (a page
    past the last)."""
    paginated = any(p["name"] == "page" for p in operation.get("parameters", []))
    return {"400", "429"} | ({"404"} if paginated else set())


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
    # Both blank allowed in an answer: a prospect made a client has no address yet.
    assert (
        importer["province"]["oneOf"]
        == importer["mailing_province"]["oneOf"]
        == [
            {"$ref": "#/components/schemas/ProvinceEnum"},
            {"type": "string", "enum": [""]},
        ]
    )


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


# --- The shared documentation helpers (carm_portal.api.crud_schema, row_action_schema) ---------

LIST = {"200", "400", "401", "403"}  # 400: a bad filter value
ROW = {"200", "401", "403", "404"}
CREATE = {"201", "400", "401", "403"}
WRITE = {"200", "400", "401", "403", "404"}


@pytest.mark.parametrize(
    ("path", "method", "summary", "codes"),
    [
        ("/api/v1/importers/", "get", "List importers", LIST),
        ("/api/v1/importers/", "post", "Create an importer", CREATE),
        ("/api/v1/importers/{id}/", "get", "Get an importer", ROW),
        ("/api/v1/importers/{id}/", "put", "Replace an importer", WRITE),
        ("/api/v1/importers/{id}/", "patch", "Change an importer", WRITE),
        ("/api/v1/program-accounts/", "post", "Add a program account", CREATE),
        ("/api/v1/program-accounts/{id}/", "patch", "Change a program account", WRITE),
        ("/api/v1/delegations/", "post", "Record a delegation", CREATE),
        ("/api/v1/delegations/{id}/", "put", "Replace a delegation", WRITE),
        ("/api/v1/delegation-alerts/", "get", "List delegation alerts", LIST),
        ("/api/v1/delegation-alerts/{id}/", "get", "Get a delegation alert", ROW),
        ("/api/v1/payments/", "post", "Record a payment", CREATE),
        ("/api/v1/financial-securities/{id}/", "patch", "Change a financial security", WRITE),
        ("/api/v1/payment-alerts/", "get", "List payment and security alerts", LIST),
        ("/api/v1/bank-accounts/{id}/", "get", "Get a PAD bank account", ROW),
        # No body: the answer is the number, or a refusal (its 400 is the common one, a NUL).
        (
            "/api/v1/bank-accounts/{id}/reveal/",
            "post",
            "Show a PAD bank account's full number",
            ROW,
        ),
        # No filters on the rate table: its list's 400 is only the common one (a NUL).
        ("/api/v1/interest-rates/", "get", "List interest rates", {"200", "401", "403"}),
        ("/api/v1/interest-rates/", "post", "Add an interest rate", CREATE),
        # A special create: inviting an address again resends it, with a 200.
        ("/api/v1/invitations/", "post", "Invite a person", {"200", *CREATE}),
        ("/api/v1/invitations/{id}/resend/", "post", "Send an invitation again", WRITE),
        ("/api/v1/invitations/{id}/revoke/", "post", "Revoke an invitation", WRITE),
        ("/api/v1/payments/{id}/status/", "post", "Mark a payment cleared or returned", WRITE),
        ("/api/v1/payments/{id}/allocate/", "post", "Apply a payment again", WRITE),
    ],
)
def test_each_action_has_its_own_summary_and_the_errors_it_can_give(
    schema, path, method, summary, codes
):
    """Views sharing a base viewset (ScopedCrudViewSet...) each keep their own documentation."""
    operation = schema["paths"][path][method]

    assert operation["summary"] == summary
    assert set(operation["responses"]) == codes | common_answers(operation)


def test_views_without_update_document_no_put_or_patch(schema):
    for path in (
        "/api/v1/payments/{id}/",
        "/api/v1/bank-accounts/{id}/",
        "/api/v1/invitations/{id}/",
    ):
        assert set(schema["paths"][path]) - {"parameters"} == {"get"}


def test_crud_schema_refuses_a_view_that_creates_without_a_verb():
    from django.core.exceptions import ImproperlyConfigured

    from carm_portal.api import ScopedCreateViewSet, crud_schema
    from clients.api import ProgramAccountSerializer

    with pytest.raises(ImproperlyConfigured, match="needs a verb"):

        @crud_schema(ProgramAccountSerializer, tag="t", one="a thing", many="things")
        class ThingViewSet(ScopedCreateViewSet):
            pass


def _account_serializer(personas, instance=None, **data):
    from rest_framework.test import APIRequestFactory

    from clients.api import ProgramAccountSerializer

    request = APIRequestFactory().post("/api/v1/program-accounts/")
    request.user = personas.broker_admin
    return ProgramAccountSerializer(
        instance, data=data, partial=instance is not None, context={"request": request}
    )


def test_a_program_account_created_twice_at_once_is_a_field_error(personas):
    """RaceSafeUniqueSerializer: both requests pass the unique check; the second save loses."""
    from rest_framework.exceptions import ValidationError

    from tests.factories import ProgramAccountFactory

    owner = personas.importer_a
    bn15 = f"{owner.bn9}RM9001"
    serializer = _account_serializer(personas, importer=owner.pk, bn15=bn15, name="Quebec")
    assert serializer.is_valid(), serializer.errors
    ProgramAccountFactory(importer=owner, bn15=bn15)  # the other request wins the race

    with pytest.raises(ValidationError) as caught:
        serializer.save()

    assert caught.value.detail == {"bn15": ["This program account is already recorded."]}


def test_a_program_account_changed_to_a_number_just_taken_is_a_field_error(personas):
    from rest_framework.exceptions import ValidationError

    from tests.factories import ProgramAccountFactory

    owner = personas.importer_a
    account = ProgramAccountFactory(importer=owner)
    bn15 = f"{owner.bn9}RM9002"
    serializer = _account_serializer(personas, account, bn15=bn15)
    assert serializer.is_valid(), serializer.errors
    ProgramAccountFactory(importer=owner, bn15=bn15)

    with pytest.raises(ValidationError) as caught:
        serializer.save()

    assert caught.value.detail == {"bn15": ["This program account is already recorded."]}
    account.refresh_from_db()
    assert account.bn15 != bn15


# --- What each operation says is written for the API's readers ----------------------------------


def _internal_docstrings() -> dict[str, str]:
    """The first line of each docstring in carm_portal.api: notes for the project's developers
    (the mixin's permission rules, the base viewsets), never a published description."""
    import inspect

    from carm_portal import api

    return {
        name: inspect.getdoc(cls).splitlines()[0]
        for name, cls in vars(api).items()
        if inspect.isclass(cls) and cls.__module__ == api.__name__ and cls.__doc__
    }


def test_no_description_in_the_schema_repeats_an_internal_docstring(schema):
    """drf-spectacular describes an action without a description of its own by the first
    docstring up the view's MRO: a viewset without one published ImporterScopedMixin's notes as
    the description of e.g. GET /api/v1/statements/{id}/. Every view has its own docstring."""
    internal = _internal_docstrings()
    descriptions = [
        (f"{method.upper()} {path}", operation.get("description", ""))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
    ] + [
        (f"component {name}", component.get("description", ""))
        for name, component in schema["components"]["schemas"].items()
    ]

    assert {"ImporterScopedMixin", "ScopedReadViewSet", "ScopedCrudViewSet"} <= set(internal)
    assert [
        (where, name)
        for where, text in descriptions
        for name, first_line in internal.items()
        if first_line in text
    ] == []


@pytest.mark.parametrize(
    ("path", "method", "summary", "codes"),
    [
        ("/api/v1/statements/", "get", "List statements of account", LIST),
        ("/api/v1/statements/{id}/", "get", "Get a statement of account", ROW),
        ("/api/v1/statements/{id}/lines/", "get", "List the lines of a statement", ROW),
        ("/api/v1/broker-entries/", "get", "List broker entries", LIST),
        ("/api/v1/broker-entries/{id}/", "get", "Get a broker entry", ROW),
        ("/api/v1/import-batches/", "get", "List import batches", {"200", "401", "403"}),
        ("/api/v1/import-batches/{id}/", "get", "Get an import batch", ROW),
        # The same file twice answers the earlier batch, with a 200.
        ("/api/v1/import-batches/", "post", "Import a file", {"200", *CREATE}),
        ("/api/v1/reconciliation-runs/", "get", "List reconciliation runs", LIST),
        ("/api/v1/reconciliation-runs/{id}/", "get", "Get a reconciliation run", ROW),
        # Queued (202), or the run already under way (200).
        (
            "/api/v1/reconciliation-runs/",
            "post",
            "Reconcile a statement",
            {"200", "202", "400", "401", "403"},
        ),
        (
            "/api/v1/reconciliation-runs/{id}/items/",
            "get",
            "List the items of a run",
            {"200", "400", "401", "403", "404"},
        ),
    ],
)
def test_statement_and_reconciliation_actions_keep_their_documentation(
    schema, path, method, summary, codes
):
    operation = schema["paths"][path][method]

    assert operation["summary"] == summary
    assert set(operation["responses"]) == codes | common_answers(operation)
    assert operation["description"]


def test_a_statement_is_described_for_the_api_reader(schema):
    detail = schema["paths"]["/api/v1/statements/{id}/"]["get"]["description"]
    entry = schema["paths"]["/api/v1/broker-entries/{id}/"]["get"]["description"]

    assert detail.startswith("Statements of account CBSA issued")
    assert entry.startswith("Each version of a CAD as the broker declared it")
    assert "read_perm" not in detail + entry


def test_an_action_documents_its_own_query_not_its_views(schema):
    """A statement's lines take no filter; a run's items take their own, not the runs' ones."""

    def names(path: str) -> set[str]:
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    assert names("/api/v1/statements/{id}/lines/") == {"id", "page"}
    assert names("/api/v1/reconciliation-runs/{id}/items/") == {
        "id",
        "page",
        "status",
        "exceptions",
        "open",
    }


def test_bank_account_reads_carry_no_full_number_and_reveal_is_documented(schema):
    """account_number is written only (absent from every read); the reveal answers it alone."""
    account = schema["components"]["schemas"]["BankAccount"]["properties"]
    reveal = schema["paths"]["/api/v1/bank-accounts/{id}/reveal/"]

    assert account["account_number"]["writeOnly"] is True
    assert set(reveal) - {"parameters"} == {"post"}
    assert "requestBody" not in reveal["post"]
    answer = reveal["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/BankAccountNumber"}
    number = schema["components"]["schemas"]["BankAccountNumber"]
    assert number["required"] == ["account_number"]
    assert number["properties"]["account_number"]["readOnly"] is True


def test_every_operation_documents_the_400_a_nul_gets(schema):
    """carm_portal.nul_guard answers a NUL anywhere in the query string with a 400 before any
    view runs, so every operation can give it, those without a body or a filter included."""
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method != "parameters" and "400" not in operation["responses"]
    ]

    assert undocumented == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/statements/{id}/lines/"),
        ("get", "/api/v1/statements/{id}/"),
        ("post", "/api/v1/bank-accounts/{id}/reveal/"),
    ],
)
def test_a_nul_in_the_query_of_a_bodiless_operation_is_a_400_it_documents(
    schema, personas, api_as, method, path
):
    from payments.models import BankAccount
    from statements.models import Statement
    from tests.factories import BankAccountFactory, StatementFactory

    StatementFactory(program_account=personas.importer_a.program_accounts.get())
    BankAccountFactory(importer=personas.importer_a)
    row = (BankAccount if "bank-accounts" in path else Statement).objects.get()

    response = getattr(api_as("bam_a"), method)(path.format(id=row.pk) + "?page=1&x=%00")

    assert response.status_code == 400
    assert "400" in schema["paths"][path][method]["responses"]
