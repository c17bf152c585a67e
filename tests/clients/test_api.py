"""The importer and program-account API: the six personas, bad input, queries, tokens."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework.test import APIClient, APIRequestFactory
from stdnum import luhn

from carm_portal.api import exception_handler, unique_as_field_error
from clients.api import ImporterSerializer
from clients.models import Importer, Membership, ProgramAccount
from tests.factories import ImporterFactory, ProgramAccountFactory, UserFactory, bn9_for
from tests.kit import bearer, persona_cases

pytestmark = pytest.mark.django_db

IMPORTERS = "/api/v1/importers/"
ACCOUNTS = "/api/v1/program-accounts/"

NEW_BN9 = bn9_for(5_000_001)  # far beyond any factory sequence
NEW_BN9_SPACED = f"{NEW_BN9[:3]} {NEW_BN9[3:6]}-{NEW_BN9[6:]}"


def luhn_failure(bn9: str) -> str:
    """``bn9`` with its check digit wrong."""
    return bn9[:8] + str((int(bn9[8]) + 1) % 10)


def importer_payload(**overrides: object) -> dict[str, object]:
    return {
        "legal_name": "Charlie Foods Inc.",
        "bn9": NEW_BN9,
        "address_line1": "1 rue Sainte-Catherine Ouest",
        "city": "Montréal",
        "province": "QC",
        "postal_code": "H2X 1Z4",
        **overrides,
    }


def account_payload(owner: Importer, **overrides: object) -> dict[str, object]:
    return {"importer": owner.pk, "bn15": f"{owner.bn9}RM9001", "name": "Quebec", **overrides}


# --- Importers: who may do what -------------------------------------------------------------

IMPORTER_ACCESS = persona_cases(
    {
        #                 admin agent finance bam_a finance_a employee_a bam_b
        "list": (200, 200, 200, 200, 200, 200, 200),
        "retrieve": (200, 200, 200, 200, 200, 200, 404),
        "create": (201, 201, 403, 403, 403, 403, 403),
        "partial_update": (200, 200, 403, 403, 403, 403, 404),
        "update": (200, 200, 403, 403, 403, 403, 404),
        "destroy": (405, 405, 405, 405, 405, 405, 405),
    }
)


def importer_request(client: APIClient, action: str, importer: Importer):
    detail = f"{IMPORTERS}{importer.pk}/"
    full = importer_payload(bn9=importer.bn9, legal_name="Renamed Ltd.", province="ON")
    full["postal_code"] = "M5H 1A1"
    return {
        "list": lambda: client.get(IMPORTERS),
        "retrieve": lambda: client.get(detail),
        "create": lambda: client.post(IMPORTERS, importer_payload(), format="json"),
        "partial_update": lambda: client.patch(
            detail, {"legal_name": "Renamed Ltd."}, format="json"
        ),
        "update": lambda: client.put(detail, full, format="json"),
        "destroy": lambda: client.delete(detail),
    }[action]()


@pytest.mark.parametrize(("action", "persona", "expected"), IMPORTER_ACCESS)
def test_importer_endpoints_answer_each_persona(api_as, personas, action, persona, expected):
    response = importer_request(api_as(persona), action, personas.importer_a)

    assert response.status_code == expected
    importer_a = Importer.objects.get(pk=personas.importer_a.pk)
    renamed = action in {"partial_update", "update"} and expected == 200
    assert (importer_a.legal_name == "Renamed Ltd.") is renamed
    assert Importer.objects.filter(bn9=NEW_BN9).exists() is (expected == 201)
    assert Importer.objects.filter(pk=importer_a.pk).exists()


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("broker_admin", {"importer_a", "importer_b"}),
        ("broker_agent", {"importer_a", "importer_b"}),
        ("broker_finance", {"importer_a", "importer_b"}),
        ("bam_a", {"importer_a"}),
        ("finance_a", {"importer_a"}),
        ("employee_a", {"importer_a"}),
        ("bam_b", {"importer_b"}),
    ],
)
def test_importer_list_holds_only_visible_importers(api_as, personas, persona, visible):
    response = api_as(persona).get(IMPORTERS)

    expected = {getattr(personas, name).pk for name in visible}
    assert {row["id"] for row in response.json()["results"]} == expected
    assert response.json()["count"] == len(expected)


def test_importer_detail_nests_its_program_accounts(api_as, personas):
    account = personas.importer_a.program_accounts.get()

    response = api_as("employee_a").get(f"{IMPORTERS}{personas.importer_a.pk}/")

    assert response.json()["bn9"] == personas.importer_a.bn9
    assert response.json()["program_accounts"] == [
        {
            "id": account.pk,
            "bn15": account.bn15,
            "name": "Head office",
            "status": "active",
            "opened_on": None,
        }
    ]


def test_created_importer_is_returned_normalised(api_as):
    response = api_as("broker_agent").post(
        IMPORTERS,
        importer_payload(bn9=NEW_BN9_SPACED, postal_code="h2x-1z4", phone="(514) 555-0199"),
        format="json",
    )

    assert response.status_code == 201
    importer = Importer.objects.get(pk=response.json()["id"])
    assert (importer.bn9, importer.postal_code, importer.phone) == (
        NEW_BN9,
        "H2X 1Z4",
        "+1 514-555-0199",
    )
    assert importer.status == Importer.Status.ONBOARDING
    assert response.json()["bn9"] == NEW_BN9
    assert response.json()["program_accounts"] == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{IMPORTERS}abc/", 404),
        (f"{IMPORTERS}99999999999999999999999/", 404),
        (f"{IMPORTERS}0/", 404),
        (f"{ACCOUNTS}abc/", 404),
        (f"{ACCOUNTS}99999999999999999999999/", 404),
    ],
)
def test_malformed_ids_in_the_path_are_404(api_as, url, expected):
    assert api_as("broker_admin").get(url).status_code == expected


# --- Importers: filters ---------------------------------------------------------------------


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_importers_filter_by_status(api_as, personas):
    Importer.objects.filter(pk=personas.importer_b.pk).update(status=Importer.Status.ACTIVE)

    assert ids(api_as("broker_admin").get(IMPORTERS, {"status": "active"})) == {
        personas.importer_b.pk
    }


def test_importers_filter_by_bn9_ignores_spaces_and_dashes(api_as, personas):
    bn9 = personas.importer_b.bn9
    typed = f"{bn9[:3]} {bn9[3:6]}-{bn9[6:]}"

    assert ids(api_as("broker_admin").get(IMPORTERS, {"bn9": typed})) == {personas.importer_b.pk}


@pytest.mark.parametrize("q", ["alpha", "ALPHA IMPORTS", "program account"])
def test_importers_search_by_name_bn9_and_bn15(api_as, personas, q):
    account = personas.importer_a.program_accounts.get()
    term = {"program account": account.bn15.lower()}.get(q, q)

    assert ids(api_as("broker_admin").get(IMPORTERS, {"q": term})) == {personas.importer_a.pk}


def test_importers_search_by_bn9(api_as, personas):
    assert ids(api_as("broker_admin").get(IMPORTERS, {"q": personas.importer_b.bn9[:6]})) == {
        personas.importer_b.pk
    }


def test_importer_filters_never_widen_the_scope(api_as, personas):
    response = api_as("bam_a").get(IMPORTERS, {"bn9": personas.importer_b.bn9})

    assert ids(response) == set()


def test_importers_unknown_status_filter_is_400(api_as):
    response = api_as("broker_admin").get(IMPORTERS, {"status": "closed"})

    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_importers_list_is_paginated(api_as, personas):
    ImporterFactory.create_batch(51)

    response = api_as("broker_admin").get(IMPORTERS)

    assert response.json()["count"] == 53
    assert len(response.json()["results"]) == 50
    assert response.json()["next"].endswith("/api/v1/importers/?page=2")


# --- Importers: bad input is a 400 with field errors, never a 500 ---------------------------


def test_bn9_with_a_luhn_failure_is_a_field_error(api_as):
    response = api_as("broker_admin").post(
        IMPORTERS, importer_payload(bn9=luhn_failure(NEW_BN9)), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["bn9"]
    assert "is not a valid Business Number" in response.json()["bn9"][0]


@pytest.mark.parametrize("bn9", ["12345678", "1234567890", "ABCDEFGHI", ""])
def test_malformed_bn9_is_a_field_error(api_as, bn9):
    response = api_as("broker_admin").post(IMPORTERS, importer_payload(bn9=bn9), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["bn9"]


def test_duplicate_bn9_is_a_field_error_however_it_is_typed(api_as, personas):
    bn9 = personas.importer_b.bn9
    typed = f"{bn9[:3]}-{bn9[3:6]}-{bn9[6:]}"

    response = api_as("broker_agent").post(IMPORTERS, importer_payload(bn9=typed), format="json")

    assert response.status_code == 400
    assert response.json() == {"bn9": ["An importer with this Business Number already exists."]}


def test_changing_bn9_to_another_importers_is_a_field_error(api_as, personas):
    response = api_as("broker_agent").patch(
        f"{IMPORTERS}{personas.importer_a.pk}/", {"bn9": personas.importer_b.bn9}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["bn9"]


def test_bn9_cannot_change_under_existing_program_accounts(api_as, personas):
    response = api_as("broker_agent").patch(
        f"{IMPORTERS}{personas.importer_a.pk}/", {"bn9": NEW_BN9}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["bn9"]
    assert Importer.objects.get(pk=personas.importer_a.pk).bn9 == personas.importer_a.bn9


def test_bn9_of_an_importer_without_accounts_can_be_corrected(api_as):
    importer = ImporterFactory()

    response = api_as("broker_agent").patch(
        f"{IMPORTERS}{importer.pk}/", {"bn9": NEW_BN9_SPACED}, format="json"
    )

    assert response.status_code == 200
    assert Importer.objects.get(pk=importer.pk).bn9 == NEW_BN9


def test_an_unrelated_change_is_not_refused_for_an_incomplete_mailing_address(api_as):
    importer = ImporterFactory(mailing_same_as_legal=False)

    response = api_as("broker_agent").patch(
        f"{IMPORTERS}{importer.pk}/", {"operating_name": "Delta"}, format="json"
    )

    assert response.status_code == 200


def test_patch_keeping_its_own_bn9_is_fine(api_as, personas):
    response = api_as("broker_agent").patch(
        f"{IMPORTERS}{personas.importer_a.pk}/", {"bn9": personas.importer_a.bn9}, format="json"
    )

    assert response.status_code == 200


def test_postal_code_outside_the_province_is_a_field_error(api_as):
    response = api_as("broker_admin").post(
        IMPORTERS, importer_payload(province="BC", postal_code="H2X 1Z4"), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "postal_code": ["Postal code H2X 1Z4 is not in BC; check the province or the code."]
    }


def test_changing_only_the_province_rechecks_the_stored_postal_code(api_as, personas):
    response = api_as("broker_admin").patch(
        f"{IMPORTERS}{personas.importer_a.pk}/", {"province": "QC"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["province"]
    assert Importer.objects.get(pk=personas.importer_a.pk).province == "ON"


def test_a_separate_mailing_address_must_be_complete_and_consistent(api_as):
    response = api_as("broker_admin").post(
        IMPORTERS,
        importer_payload(
            mailing_same_as_legal=False,
            mailing_line1="PO Box 12",
            mailing_province="AB",
            mailing_postal_code="M5H 1A1",
        ),
        format="json",
    )

    assert response.status_code == 400
    assert sorted(response.json()) == ["mailing_city", "mailing_postal_code"]


def test_a_separate_mailing_address_is_normalised(api_as):
    response = api_as("broker_admin").post(
        IMPORTERS,
        importer_payload(
            mailing_same_as_legal=False,
            mailing_line1="PO Box 12",
            mailing_city="Calgary",
            mailing_province="AB",
            mailing_postal_code="t2p1j9",
        ),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["mailing_postal_code"] == "T2P 1J9"


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"bn9": ["123456782"]}, ["bn9"]),
        ({"bn9": {"value": "123456782"}}, ["bn9"]),
        ({"legal_name": {"en": "Charlie"}}, ["legal_name"]),
        ({"legal_name": None}, ["legal_name"]),
        ({"province": 5}, ["province"]),
        ({"province": "Quebec"}, ["province"]),
        ({"status": "closed"}, ["status"]),
        ({"mailing_same_as_legal": "perhaps"}, ["mailing_same_as_legal"]),
        ({"email": "not-an-email"}, ["email"]),
        ({"phone": "555-0199"}, ["phone"]),
        ({"postal_code": "12345"}, ["postal_code"]),
        ({"postal_code": ["H2X 1Z4"]}, ["postal_code"]),
        ({"legal_name": "x" * 201, "city": ""}, ["city", "legal_name"]),
    ],
)
def test_wrong_types_and_values_are_field_errors(api_as, overrides, fields):
    response = api_as("broker_admin").post(IMPORTERS, importer_payload(**overrides), format="json")

    assert response.status_code == 400
    assert sorted(response.json()) == fields


def test_missing_fields_are_field_errors(api_as):
    response = api_as("broker_admin").post(IMPORTERS, {}, format="json")

    assert response.status_code == 400
    assert sorted(response.json()) == [
        "address_line1",
        "bn9",
        "city",
        "legal_name",
        "postal_code",
        "province",
    ]


@pytest.mark.parametrize("url", [IMPORTERS, ACCOUNTS])
@pytest.mark.parametrize("body", ['{"legal_name": "Charlie', "", "not json", "[1, 2"])
def test_malformed_json_is_400(api_as, url, body):
    response = api_as("broker_admin").post(url, body, content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json() or response.json()


@pytest.mark.parametrize("body", [[], [importer_payload()], "a string", 42, None])
def test_json_that_is_not_an_object_is_400(api_as, body):
    response = api_as("broker_admin").post(
        IMPORTERS, json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_malformed_json_on_update_is_400(api_as, personas):
    response = api_as("broker_admin").patch(
        f"{IMPORTERS}{personas.importer_a.pk}/", "{", content_type="application/json"
    )

    assert response.status_code == 400


# --- Program accounts: who may do what ------------------------------------------------------

ACCOUNT_ACCESS = persona_cases(
    {
        #                 admin agent finance bam_a finance_a employee_a bam_b
        "list": (200, 200, 200, 200, 200, 200, 200),
        "retrieve": (200, 200, 200, 200, 200, 200, 404),
        "create": (201, 201, 403, 403, 403, 403, 400),
        "partial_update": (200, 200, 403, 403, 403, 403, 404),
        "update": (200, 200, 403, 403, 403, 403, 404),
        "destroy": (405, 405, 405, 405, 405, 405, 405),
    }
)


def account_request(client: APIClient, action: str, account: ProgramAccount):
    detail = f"{ACCOUNTS}{account.pk}/"
    full = {"importer": account.importer_id, "bn15": account.bn15, "name": "Renamed"}
    return {
        "list": lambda: client.get(ACCOUNTS),
        "retrieve": lambda: client.get(detail),
        "create": lambda: client.post(ACCOUNTS, account_payload(account.importer), format="json"),
        "partial_update": lambda: client.patch(detail, {"name": "Renamed"}, format="json"),
        "update": lambda: client.put(detail, full, format="json"),
        "destroy": lambda: client.delete(detail),
    }[action]()


@pytest.mark.parametrize(("action", "persona", "expected"), ACCOUNT_ACCESS)
def test_program_account_endpoints_answer_each_persona(api_as, personas, action, persona, expected):
    account = personas.importer_a.program_accounts.get()

    response = account_request(api_as(persona), action, account)

    assert response.status_code == expected
    renamed = action in {"partial_update", "update"} and expected == 200
    assert (ProgramAccount.objects.get(pk=account.pk).name == "Renamed") is renamed
    created = ProgramAccount.objects.filter(bn15=f"{personas.importer_a.bn9}RM9001").exists()
    assert created is (expected == 201)


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("broker_admin", {"importer_a", "importer_b"}),
        ("broker_agent", {"importer_a", "importer_b"}),
        ("broker_finance", {"importer_a", "importer_b"}),
        ("bam_a", {"importer_a"}),
        ("finance_a", {"importer_a"}),
        ("employee_a", {"importer_a"}),
        ("bam_b", {"importer_b"}),
    ],
)
def test_program_account_list_holds_only_visible_accounts(api_as, personas, persona, visible):
    response = api_as(persona).get(ACCOUNTS)

    expected = {getattr(personas, name).program_accounts.get().pk for name in visible}
    assert ids(response) == expected


def test_program_accounts_filter_by_importer(api_as, personas):
    response = api_as("broker_finance").get(ACCOUNTS, {"importer": personas.importer_b.pk})

    assert ids(response) == {personas.importer_b.program_accounts.get().pk}


def test_filtering_by_an_invisible_importer_looks_like_an_unknown_one(api_as, personas):
    client = api_as("bam_a")

    invisible = client.get(ACCOUNTS, {"importer": personas.importer_b.pk})
    unknown = client.get(ACCOUNTS, {"importer": 987654321})

    assert (
        invisible.json()
        == unknown.json()
        == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    )


def test_program_accounts_filter_by_bn15_ignores_separators(api_as, personas):
    account = personas.importer_b.program_accounts.get()
    typed = f"{account.bn15[:9]}-{account.bn15[9:11].lower()}-{account.bn15[11:]}"

    assert ids(api_as("broker_admin").get(ACCOUNTS, {"bn15": typed})) == {account.pk}


@pytest.mark.parametrize("query", [{"importer": "abc"}, {"status": "open"}])
def test_program_accounts_bad_filters_are_400(api_as, query):
    response = api_as("broker_admin").get(ACCOUNTS, query)

    assert response.status_code == 400
    assert list(response.json()) == list(query)


# --- Program accounts: bad input ------------------------------------------------------------


def test_created_program_account_is_normalised(api_as, personas):
    bn9 = personas.importer_a.bn9
    response = api_as("broker_agent").post(
        ACCOUNTS,
        account_payload(personas.importer_a, bn15=f"{bn9} rm 9001", opened_on="2024-05-01"),
        format="json",
    )

    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "importer": personas.importer_a.pk,
        "bn15": f"{bn9}RM9001",
        "name": "Quebec",
        "status": "active",
        "opened_on": "2024-05-01",
        "created_at": response.json()["created_at"],
    }


def test_bn15_of_another_program_is_a_field_error(api_as, personas):
    bn9 = personas.importer_a.bn9
    response = api_as("broker_agent").post(
        ACCOUNTS, account_payload(personas.importer_a, bn15=f"{bn9}RT0001"), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["bn15"]
    assert "RT account" in response.json()["bn15"][0]


def test_bn15_of_another_importer_is_a_field_error(api_as, personas):
    response = api_as("broker_agent").post(
        ACCOUNTS,
        account_payload(personas.importer_a, bn15=f"{personas.importer_b.bn9}RM9001"),
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["bn15"]
    assert personas.importer_a.bn9 in response.json()["bn15"][0]
    assert not ProgramAccount.objects.filter(bn15=f"{personas.importer_b.bn9}RM9001").exists()


def test_moving_an_account_to_an_importer_of_another_bn9_is_a_field_error(api_as, personas):
    account = personas.importer_a.program_accounts.get()

    response = api_as("broker_agent").patch(
        f"{ACCOUNTS}{account.pk}/", {"importer": personas.importer_b.pk}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["importer"]
    assert ProgramAccount.objects.get(pk=account.pk).importer_id == personas.importer_a.pk


@pytest.mark.parametrize(
    "bn15",
    [
        "RM0001",  # no Business Number
        "{bn9}",  # a BN9 only
        "{bn9}RM01",  # too short
        "{bad}RM9001",  # the BN9 part fails the Luhn check
        "{bn9}RMABCD",  # letters for the reference number
        "",
    ],
)
def test_malformed_bn15_is_a_field_error(api_as, personas, bn15):
    bn9 = personas.importer_a.bn9
    value = bn15.format(bn9=bn9, bad=luhn_failure(bn9))

    response = api_as("broker_admin").post(
        ACCOUNTS, account_payload(personas.importer_a, bn15=value), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["bn15"]


def test_duplicate_bn15_is_a_field_error(api_as, personas):
    existing = personas.importer_a.program_accounts.get()

    response = api_as("broker_admin").post(
        ACCOUNTS, account_payload(personas.importer_a, bn15=existing.bn15), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"bn15": ["This program account is already recorded."]}


@pytest.mark.parametrize(
    "importer", ["abc", 1.5, True, [1], {"id": 1}, None, 0, -1, 10**30, "99999999999999999999"]
)
def test_malformed_importer_is_a_field_error(api_as, personas, importer):
    payload = account_payload(personas.importer_a, importer=importer)

    response = api_as("broker_admin").post(ACCOUNTS, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["importer"]


def test_an_invisible_importer_looks_exactly_like_an_unknown_one(api_as, personas):
    client = api_as("bam_b")

    invisible = client.post(ACCOUNTS, account_payload(personas.importer_a), format="json")
    unknown = client.post(
        ACCOUNTS, account_payload(personas.importer_a, importer=987654321), format="json"
    )

    assert invisible.status_code == unknown.status_code == 400
    assert invisible.json() == unknown.json() == {"importer": ["No such importer."]}


def test_program_account_wrong_types_are_field_errors(api_as, personas):
    payload = account_payload(
        personas.importer_a, bn15=12345, name=["x"], status="open", opened_on="01/05/2024"
    )

    response = api_as("broker_admin").post(ACCOUNTS, payload, format="json")

    assert response.status_code == 400
    assert sorted(response.json()) == ["bn15", "name", "opened_on", "status"]


# --- Anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["importer", "account"])
@pytest.mark.parametrize(
    "action", ["list", "retrieve", "create", "partial_update", "update", "destroy"]
)
def test_anonymous_requests_are_refused(api, personas, kind, action):
    if kind == "importer":
        response = importer_request(api, action, personas.importer_a)
    else:
        response = account_request(api, action, personas.importer_a.program_accounts.get())

    assert response.status_code in {401, 403}
    assert list(response.json()) == ["detail"]


# --- Queries --------------------------------------------------------------------------------


# A request costs: savepoint + release (ATOMIC_REQUESTS), session, user, broker groups, the
# staff's two-factor authenticator (broker staff only: carm_portal.mfa), the memberships (importer
# users only), the page count and the page; importers add one query for all their program
# accounts, and count only a full first page (ShortFirstPagePagination: these fit on one). None
# of it grows with the number of rows.
LIST_QUERIES = [
    (IMPORTERS, "broker_admin", 8),
    (IMPORTERS, "bam_a", 8),
    (ACCOUNTS, "broker_agent", 8),
    (ACCOUNTS, "bam_a", 8),
]


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize(("url", "persona", "queries"), LIST_QUERIES)
def test_lists_run_a_constant_number_of_queries(
    api_as, personas, django_assert_max_num_queries, count, url, persona, queries
):
    for importer in ImporterFactory.create_batch(count):
        ProgramAccountFactory.create_batch(2, importer=importer)
        personas.bam_a.memberships.create(importer=importer, role=Membership.Role.EMPLOYEE)
    client = api_as(persona)

    with django_assert_max_num_queries(queries):
        response = client.get(url)

    assert response.status_code == 200
    assert (
        response.json()["count"]
        == {
            IMPORTERS: count + (2 if persona.startswith("broker") else 1),
            ACCOUNTS: 2 * count + (2 if persona.startswith("broker") else 1),
        }[url]
    )
    if url == IMPORTERS:
        assert sum(len(row["program_accounts"]) for row in response.json()["results"]) == (
            2 * count + (2 if persona.startswith("broker") else 1)
        )


# --- Authentication -------------------------------------------------------------------------


def test_token_auth_sees_only_the_users_importers(api, personas):
    api.credentials(HTTP_AUTHORIZATION=bearer(personas.bam_a))

    response = api.get(IMPORTERS)

    assert ids(response) == {personas.importer_a.pk}
    assert api.get(f"{IMPORTERS}{personas.importer_b.pk}/").status_code == 404


def test_token_auth_writes_without_a_csrf_token(personas):
    header = bearer(personas.broker_agent)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.post(IMPORTERS, importer_payload(), format="json")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("header", ["Token not-a-real-key", "Token", "Bearer abc", "Token a b"])
def test_bad_tokens_are_refused(api, personas, header):
    api.credentials(HTTP_AUTHORIZATION=header)

    response = api.get(IMPORTERS)

    assert response.status_code in {401, 403}


def test_token_of_an_inactive_user_is_refused(api, personas):
    header = bearer(personas.broker_admin)
    type(personas.broker_admin).objects.filter(pk=personas.broker_admin.pk).update(is_active=False)
    api.credentials(HTTP_AUTHORIZATION=header)

    assert api.get(IMPORTERS).status_code in {401, 403}


def test_session_writes_need_the_csrf_token(personas):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas.broker_agent)

    response = client.post(IMPORTERS, importer_payload(), format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Importer.objects.filter(bn9=NEW_BN9).exists()


def test_a_user_with_no_role_sees_nothing(api):
    api.force_login(UserFactory(email="nobody@example.com"))

    assert api.get(IMPORTERS).json()["count"] == 0
    assert api.get(ACCOUNTS).json()["count"] == 0
    assert api.post(IMPORTERS, importer_payload(), format="json").status_code == 403


def test_the_browsable_api_renders_for_a_writer(api_as, personas):
    client = api_as("broker_agent")

    assert client.get(ACCOUNTS, HTTP_ACCEPT="text/html").status_code == 200
    account = personas.importer_a.program_accounts.get()
    assert client.get(f"{ACCOUNTS}{account.pk}/", HTTP_ACCEPT="text/html").status_code == 200
    assert (
        client.get(f"{IMPORTERS}{personas.importer_a.pk}/", HTTP_ACCEPT="text/html").status_code
        == 200
    )


# --- Shared pieces (carm_portal/api.py) -----------------------------------------------------


def test_exception_handler_turns_a_django_validation_error_into_field_errors():
    response = exception_handler(
        DjangoValidationError({"bn9": ["Bad."], "__all__": ["Also bad."]}), {}
    )

    assert response.status_code == 400
    assert response.data == {"bn9": ["Bad."], "non_field_errors": ["Also bad."]}


def test_exception_handler_puts_a_plain_django_validation_error_in_non_field_errors():
    response = exception_handler(DjangoValidationError("Nope."), {})

    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Nope."]}


def test_a_duplicate_that_slips_past_validation_is_still_a_field_error(personas):
    """Two requests validate the same new BN9 together; the second save hits the constraint."""
    request = APIRequestFactory().post(IMPORTERS)
    request.user = personas.broker_admin
    serializer = ImporterSerializer(data=importer_payload(), context={"request": request})
    assert serializer.is_valid(), serializer.errors
    ImporterFactory(bn9=NEW_BN9)  # the other request wins the race

    with pytest.raises(Exception) as caught:
        serializer.save()

    assert caught.value.detail == {"bn9": ["An importer with this Business Number already exists."]}
    assert Importer.objects.filter(bn9=NEW_BN9).count() == 1


def test_unique_as_field_error_reraises_other_integrity_errors(db):
    with pytest.raises(IntegrityError), unique_as_field_error("bn9", "taken", taken=lambda: False):
        raise IntegrityError("NOT NULL constraint failed")


def test_helper_bn9s_are_valid():
    assert luhn.is_valid(NEW_BN9)
    assert not luhn.is_valid(luhn_failure(NEW_BN9))


def test_an_oversized_importer_id_in_a_filter_is_a_400_not_a_500(api_as):
    client = api_as("broker_admin")
    response = client.get("/api/v1/program-accounts/?importer=99999999999999999999999")
    assert response.status_code == 400
    assert list(response.json()) == ["importer"]
