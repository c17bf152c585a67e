"""The delegation and delegation-alert API: the six personas, bad input, filters, queries."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from clients.models import Importer, Membership
from delegation.checks import run_delegation_checks
from delegation.models import Delegation, DelegationAlert
from tests.factories import DelegationFactory, ImporterFactory, ProgramAccountFactory
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)
DELEGATIONS = "/api/v1/delegations/"
ALERTS = "/api/v1/delegation-alerts/"

PMR_NEEDS_ACCOUNT = "A PMR covers only the accounts selected: choose at least one program account."
PAST_EXPIRY = (
    "This date is in the past, so the delegation is not active. Record it as expired, or enter "
    "the new expiry date the importer set."
)
BLANK_EXPIRY = (
    "Enter the expiry date the importer set in the CCP. If it really was left blank, tick the "
    "confirmation below; the delegation will be flagged."
)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def delegation_a(personas) -> Delegation:
    """Importer A's active BMR, expiring in 10 days."""
    return DelegationFactory(
        importer=personas.importer_a, expiry_date=TODAY + dt.timedelta(days=10), notes="first"
    )


@pytest.fixture
def alert_a(delegation_a) -> DelegationAlert:
    run_delegation_checks(today=TODAY)
    return DelegationAlert.objects.get(delegation=delegation_a)


def payload(owner: Importer, /, **overrides: object) -> dict[str, object]:
    """A new active BMR/pBAM for ``owner``, approved this month, running to next year."""
    data = {
        "importer": owner.pk,
        "relationship": "BMR",
        "authority": "pBAM",
        "status": "active",
        "requested_on": "2026-11-02",
        "approved_on": "2026-11-05",
        "expiry_date": "2027-11-30",
        "notes": "created",
        **overrides,
    }
    return {key: value for key, value in data.items() if value != "omit"}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Delegations: who may do what -----------------------------------------------------------

DELEGATION_ACCESS = persona_cases(
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


def delegation_request(client: APIClient, action: str, delegation: Delegation):
    detail = f"{DELEGATIONS}{delegation.pk}/"
    full = payload(delegation.importer, notes="changed", expiry_date="2027-12-31")
    return {
        "list": lambda: client.get(DELEGATIONS),
        "retrieve": lambda: client.get(detail),
        "create": lambda: client.post(DELEGATIONS, payload(delegation.importer), format="json"),
        "partial_update": lambda: client.patch(detail, {"notes": "changed"}, format="json"),
        "update": lambda: client.put(detail, full, format="json"),
        "destroy": lambda: client.delete(detail),
    }[action]()


@pytest.mark.parametrize(("action", "persona", "expected"), DELEGATION_ACCESS)
def test_delegation_endpoints_answer_each_persona(api_as, delegation_a, action, persona, expected):
    response = delegation_request(api_as(persona), action, delegation_a)

    assert response.status_code == expected
    changed = action in {"partial_update", "update"} and expected == 200
    assert (Delegation.objects.get(pk=delegation_a.pk).notes == "changed") is changed
    assert Delegation.objects.filter(notes="created").exists() is (expected == 201)
    if expected in {400, 403, 404, 405}:
        assert list(response.json()) in (["detail"], ["importer"])


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("broker_admin", {"a", "b"}),
        ("broker_agent", {"a", "b"}),
        ("broker_finance", {"a", "b"}),
        ("bam_a", {"a"}),
        ("finance_a", {"a"}),
        ("employee_a", {"a"}),
        ("bam_b", {"b"}),
    ],
)
def test_delegation_list_holds_only_visible_importers(
    api_as, personas, delegation_a, persona, visible
):
    delegation_b = DelegationFactory(importer=personas.importer_b)
    expected = {"a": delegation_a.pk, "b": delegation_b.pk}

    response = api_as(persona).get(DELEGATIONS)

    assert set(ids(response)) == {expected[name] for name in visible}


def test_create_needs_the_right_on_the_importer_named(api_as, personas):
    response = api_as("bam_a").post(DELEGATIONS, payload(personas.importer_a), format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Your role does not allow this for this importer."}
    assert Delegation.objects.count() == 0


# --- Delegations: what they hold -------------------------------------------------------------


def test_retrieve_gives_accounts_days_left_and_open_alerts(api_as, personas, delegation_a):
    account = personas.importer_a.program_accounts.get()
    Delegation.objects.filter(pk=delegation_a.pk).update(relationship="PMR", authority="pPAM")
    delegation_a.program_accounts.add(account)
    run_delegation_checks(today=TODAY)
    alerts = {a.kind: a for a in DelegationAlert.objects.filter(delegation=delegation_a)}

    response = api_as("employee_a").get(f"{DELEGATIONS}{delegation_a.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": delegation_a.pk,
        "importer": personas.importer_a.pk,
        "importer_name": "Alpha Imports Inc.",
        "relationship": "PMR",
        "authority": "pPAM",
        "status": "active",
        "program_accounts": [account.pk],
        "program_account_bn15s": [account.bn15],
        "requested_on": "2026-01-05",
        "approved_on": "2026-01-08",
        "expiry_date": "2026-12-03",
        "blank_expiry_confirmed": False,
        "revoked_on": None,
        "days_left": 10,
        "notes": "first",
        "open_alerts": [
            {
                "id": alerts["expires_within_14"].pk,
                "kind": "expires_within_14",
                "family": "expires_within",
                "label": "Expires within 14 days",
                "severity": "warning",
                "message": alerts["expires_within_14"].message,
                "raised_on": "2026-11-23",
            },
            {
                "id": alerts["ppam_needs_pbam"].pk,
                "kind": "ppam_needs_pbam",
                "family": "ppam_needs_pbam",
                "label": "pPAM instead of pBAM",
                "severity": "warning",
                "message": alerts["ppam_needs_pbam"].message,
                "raised_on": "2026-11-23",
            },
        ],
        "recorded_by": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


def test_resolved_alerts_are_not_listed_as_open(api_as, alert_a):
    DelegationAlert.objects.filter(pk=alert_a.pk).update(resolved_at=dt.datetime.now(tz=dt.UTC))

    response = api_as("broker_agent").get(f"{DELEGATIONS}{alert_a.delegation_id}/")

    assert response.json()["open_alerts"] == []


def test_create_records_who_and_returns_the_saved_delegation(api_as, personas):
    account = personas.importer_a.program_accounts.get()

    response = api_as("broker_agent").post(
        DELEGATIONS,
        payload(personas.importer_a, relationship="PMR", program_accounts=[account.pk]),
        format="json",
    )

    assert response.status_code == 201, response.content
    delegation = Delegation.objects.get()
    assert delegation.recorded_by == personas.broker_agent
    assert {h.history_user for h in delegation.history.all()} == {personas.broker_agent}
    assert list(delegation.program_accounts.all()) == [account]
    body = response.json()
    assert (body["id"], body["recorded_by"], body["days_left"]) == (
        delegation.pk,
        "agent@broker.example.com",
        372,
    )
    assert (body["program_accounts"], body["program_account_bn15s"]) == (
        [account.pk],
        [account.bn15],
    )
    # PMR with one account and all accounts covered: the advice that BMR would be wider.
    assert [a["kind"] for a in body["open_alerts"]] == ["limited_relationship"]


def test_create_uses_the_model_defaults(api_as, personas):
    response = api_as("broker_agent").post(
        DELEGATIONS, {"importer": personas.importer_a.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    delegation = Delegation.objects.get()
    assert (delegation.relationship, delegation.authority, delegation.status) == (
        "BMR",
        "pBAM",
        "requested",
    )


def test_creating_an_active_delegation_resolves_the_no_delegation_alert(api_as, personas):
    Importer.objects.filter(pk=personas.importer_a.pk).update(status=Importer.Status.ACTIVE)
    run_delegation_checks(today=TODAY)
    alert = DelegationAlert.objects.get(importer=personas.importer_a)
    assert (alert.kind, alert.resolved_at) == ("no_delegation", None)

    response = api_as("broker_agent").post(DELEGATIONS, payload(personas.importer_a), format="json")

    assert response.status_code == 201
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert response.json()["open_alerts"] == []


def test_a_confirmed_blank_expiry_is_saved_and_flagged(api_as, personas):
    response = api_as("broker_agent").post(
        DELEGATIONS,
        payload(personas.importer_a, expiry_date=None, blank_expiry_confirmed=True),
        format="json",
    )

    assert response.status_code == 201, response.content
    delegation = Delegation.objects.get()
    assert (delegation.expiry_date, delegation.blank_expiry_confirmed) == (None, True)
    assert [a["kind"] for a in response.json()["open_alerts"]] == ["blank_expiry"]
    assert response.json()["days_left"] is None


def test_an_expiry_date_clears_the_blank_confirmation(api_as, personas):
    response = api_as("broker_agent").post(
        DELEGATIONS, payload(personas.importer_a, blank_expiry_confirmed=True), format="json"
    )

    assert response.status_code == 201
    assert response.json()["blank_expiry_confirmed"] is False
    assert Delegation.objects.get().blank_expiry_confirmed is False


def test_a_bmr_drops_the_accounts_sent(api_as, personas):
    account = personas.importer_a.program_accounts.get()

    response = api_as("broker_agent").post(
        DELEGATIONS, payload(personas.importer_a, program_accounts=[account.pk]), format="json"
    )

    assert response.status_code == 201
    assert response.json()["program_accounts"] == []
    assert Delegation.objects.get().program_accounts.count() == 0


# --- Delegations: updates -------------------------------------------------------------------


def test_renewing_the_date_resolves_the_expiry_alert_at_once(api_as, alert_a):
    response = api_as("broker_agent").patch(
        f"{DELEGATIONS}{alert_a.delegation_id}/", {"expiry_date": "2027-11-30"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["days_left"], response.json()["open_alerts"]) == (372, [])
    alert_a.refresh_from_db()
    assert alert_a.resolved_at is not None


def test_switching_to_bmr_drops_the_pmr_accounts(api_as, personas):
    account = personas.importer_a.program_accounts.get()
    delegation = DelegationFactory(importer=personas.importer_a, relationship="PMR")
    delegation.program_accounts.add(account)

    response = api_as("broker_agent").patch(
        f"{DELEGATIONS}{delegation.pk}/", {"relationship": "BMR"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["program_accounts"] == response.json()["program_account_bn15s"] == []
    assert delegation.program_accounts.count() == 0


def test_an_update_keeps_the_recorder(api_as, personas, delegation_a):
    Delegation.objects.filter(pk=delegation_a.pk).update(recorded_by=personas.broker_admin)

    api_as("broker_agent").patch(
        f"{DELEGATIONS}{delegation_a.pk}/", {"notes": "checked"}, format="json"
    )

    delegation_a.refresh_from_db()
    assert delegation_a.recorded_by == personas.broker_admin
    assert delegation_a.history.first().history_user == personas.broker_agent


def test_editing_an_old_record_keeps_its_past_expiry(api_as, personas):
    old = DelegationFactory(importer=personas.importer_a, expiry_date=dt.date(2026, 1, 31))

    response = api_as("broker_agent").patch(
        f"{DELEGATIONS}{old.pk}/", {"notes": "checked"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["notes"] == "checked"


def test_changing_the_expiry_to_a_past_date_is_refused(api_as, delegation_a):
    response = api_as("broker_agent").patch(
        f"{DELEGATIONS}{delegation_a.pk}/", {"expiry_date": "2026-11-22"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"expiry_date": [PAST_EXPIRY]}
    assert Delegation.objects.get(pk=delegation_a.pk).expiry_date == TODAY + dt.timedelta(days=10)


def test_switching_to_pmr_without_accounts_is_refused(api_as, delegation_a):
    response = api_as("broker_agent").patch(
        f"{DELEGATIONS}{delegation_a.pk}/", {"relationship": "PMR"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"program_accounts": [PMR_NEEDS_ACCOUNT]}


def test_a_delegation_cannot_move_to_another_importer(api_as, personas, delegation_a):
    response = api_as("broker_admin").patch(
        f"{DELEGATIONS}{delegation_a.pk}/", {"importer": personas.importer_b.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"importer": ["A delegation cannot move to another importer."]}
    assert Delegation.objects.get(pk=delegation_a.pk).importer_id == personas.importer_a.pk


# --- Delegations: bad input is a 400 with field errors, never a 500 -------------------------


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        pytest.param(
            {"relationship": "PMR"}, {"program_accounts": [PMR_NEEDS_ACCOUNT]}, id="pmr-no-account"
        ),
        pytest.param(
            {"relationship": "PMR", "program_accounts": []},
            {"program_accounts": [PMR_NEEDS_ACCOUNT]},
            id="pmr-empty-accounts",
        ),
        pytest.param(
            {"expiry_date": "2026-11-22"}, {"expiry_date": [PAST_EXPIRY]}, id="past-expiry"
        ),
        pytest.param({"expiry_date": None}, {"expiry_date": [BLANK_EXPIRY]}, id="blank-expiry"),
        pytest.param(
            {"expiry_date": None, "blank_expiry_confirmed": False},
            {"expiry_date": [BLANK_EXPIRY]},
            id="blank-expiry-not-confirmed",
        ),
        pytest.param(
            {"approved_on": None},
            {"approved_on": ["Enter the date the importer approved the request."]},
            id="active-without-approval",
        ),
        pytest.param(
            {"requested_on": "2026-12-01", "approved_on": "2026-11-01"},
            {
                "requested_on": ["The request date cannot be in the future."],
                "approved_on": ["The approval cannot come before the request."],
            },
            id="request-in-the-future",
        ),
        pytest.param(
            {"status": "revoked"},
            {"revoked_on": ["Enter the date the access was revoked."]},
            id="revoked-without-date",
        ),
        pytest.param(
            {"importer": 987654321}, {"importer": ["No such importer."]}, id="unknown-importer"
        ),
    ],
)
def test_business_rules_are_field_errors(api_as, personas, overrides, errors):
    response = api_as("broker_agent").post(
        DELEGATIONS, payload(personas.importer_a, **overrides), format="json"
    )

    assert response.status_code == 400
    assert response.json() == errors
    assert Delegation.objects.count() == 0


def test_an_account_of_another_importer_is_a_field_error(api_as, personas):
    other = personas.importer_b.program_accounts.get()
    own = personas.importer_a.program_accounts.get()

    response = api_as("broker_agent").post(
        DELEGATIONS,
        payload(personas.importer_a, relationship="PMR", program_accounts=[own.pk, other.pk]),
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "program_accounts": [f"{other.bn15} is not a program account of this importer."]
    }
    assert Delegation.objects.count() == 0


def test_unknown_account_ids_are_a_field_error(api_as, personas):
    own = personas.importer_a.program_accounts.get()

    response = api_as("broker_agent").post(
        DELEGATIONS,
        payload(personas.importer_a, relationship="PMR", program_accounts=[own.pk, 987654321]),
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"program_accounts": ["No such program account: 987654321."]}


def test_an_importer_of_another_tenant_looks_exactly_like_an_unknown_one(api_as, personas):
    client = api_as("bam_b")

    invisible = client.post(DELEGATIONS, payload(personas.importer_a), format="json")
    unknown = client.post(DELEGATIONS, payload(personas.importer_a, importer=987654321))

    assert invisible.status_code == unknown.status_code == 400
    assert invisible.json() == unknown.json() == {"importer": ["No such importer."]}
    assert Delegation.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"expiry_date": "2027-02-30"}, ["expiry_date"]),
        ({"expiry_date": "30/11/2027"}, ["expiry_date"]),
        ({"requested_on": 20261102}, ["requested_on"]),
        ({"approved_on": ["2026-11-05"]}, ["approved_on"]),
        ({"relationship": "XMR"}, ["relationship"]),
        ({"authority": "pXAM"}, ["authority"]),
        ({"status": "approved"}, ["status"]),
        ({"status": 5}, ["status"]),
        ({"blank_expiry_confirmed": "perhaps"}, ["blank_expiry_confirmed"]),
        ({"notes": {"en": "x"}}, ["notes"]),
        ({"program_accounts": "1,2"}, ["program_accounts"]),
        ({"program_accounts": [0]}, ["program_accounts"]),
        ({"program_accounts": ["abc"]}, ["program_accounts"]),
        ({"program_accounts": [10**30]}, ["program_accounts"]),
        ({"program_accounts": list(range(1, 502))}, ["program_accounts"]),
        ({"importer": "abc"}, ["importer"]),
        ({"importer": 10**30}, ["importer"]),
        ({"importer": None}, ["importer"]),
        ({"importer": "omit"}, ["importer"]),
        ({"importer": [1]}, ["importer"]),
    ],
)
def test_wrong_types_and_values_are_field_errors(api_as, personas, overrides, fields):
    response = api_as("broker_agent").post(
        DELEGATIONS, payload(personas.importer_a, **overrides), format="json"
    )

    assert response.status_code == 400
    assert sorted(response.json()) == fields
    assert Delegation.objects.count() == 0


@pytest.mark.parametrize("body", ['{"importer": 1', "", "not json", "[1, 2]", "42"])
def test_malformed_json_is_400(api_as, body):
    response = api_as("broker_agent").post(DELEGATIONS, body, content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("url", [f"{DELEGATIONS}abc/", f"{DELEGATIONS}99999999999999999999999/"])
def test_malformed_ids_in_the_path_are_404(api_as, url):
    assert api_as("broker_admin").get(url).status_code == 404


# --- Delegations: filters --------------------------------------------------------------------


@pytest.fixture
def portfolio(personas):
    """A delegation in each interesting state, and the alerts of the morning's check.

    ``later`` belongs to a third importer: on importer A it would cover ``soon`` (a grant valid
    longer, with the same scope), and ``soon`` would raise nothing.
    """
    soon = DelegationFactory(importer=personas.importer_a, expiry_date=TODAY + dt.timedelta(days=5))
    later = DelegationFactory(expiry_date=TODAY + dt.timedelta(days=200))  # a third importer
    blank = DelegationFactory(importer=personas.importer_b, expiry_date=None)
    pending = DelegationFactory(
        importer=personas.importer_b, status="pending", approved_on=None, expiry_date=None
    )
    run_delegation_checks(today=TODAY)
    return {"soon": soon, "later": later, "blank": blank, "pending": pending}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["blank", "pending", "soon", "later"]),  # blank dates first, then soonest
        ({"importer": "a"}, ["soon"]),
        ({"status": "pending"}, ["pending"]),
        ({"expiring_within": 7}, ["soon"]),
        ({"expiring_within": 5}, ["soon"]),
        ({"expiring_within": 4}, []),
        ({"expiring_within": 0}, []),
        ({"expiring_within": 365}, ["soon", "later"]),
        ({"finding": "blank_expiry"}, ["blank"]),
        ({"finding": "expires_within"}, ["soon"]),
        ({"finding": "expired"}, []),
        ({"status": "active", "importer": "b"}, ["blank"]),
    ],
)
def test_delegation_filters(api_as, personas, portfolio, query, expected):
    importers = {"a": personas.importer_a.pk, "b": personas.importer_b.pk}
    if "importer" in query:
        query = {**query, "importer": importers[query["importer"]]}

    response = api_as("broker_agent").get(DELEGATIONS, query)

    assert ids(response) == [portfolio[name].pk for name in expected]


def test_delegation_filters_never_widen_the_scope(api_as, personas, portfolio):
    client = api_as("bam_a")

    invisible = client.get(DELEGATIONS, {"importer": personas.importer_b.pk})
    unknown = client.get(DELEGATIONS, {"importer": 987654321})

    assert (
        invisible.json()
        == unknown.json()
        == {"count": 0, "next": None, "previous": None, "results": []}
    )
    assert ids(client.get(DELEGATIONS, {"finding": "blank_expiry"})) == []
    assert ids(client.get(ALERTS, {"importer": personas.importer_b.pk})) == []


@pytest.mark.parametrize(
    "query",
    [
        {"status": "approved"},
        {"finding": "nonsense"},
        {"finding": "no_delegation"},  # an importer-level alert: never on a delegation
        {"expiring_within": "abc"},
        {"expiring_within": -1},
        {"expiring_within": 1.5},
        {"expiring_within": 10**6},
        {"importer": "abc"},
        {"importer": 10**30},  # more than a primary key holds: a 400, not a database error
        {"importer": "1e400"},
        {"importer": "NaN"},
        {"importer": 0},
    ],
)
def test_bad_delegation_filters_are_400(api_as, query):
    response = api_as("broker_agent").get(DELEGATIONS, query)

    assert response.status_code == 400
    assert list(response.json()) == list(query)


# --- Alerts ---------------------------------------------------------------------------------

ALERT_ACCESS = persona_cases(
    {
        #                 admin agent finance bam_a finance_a employee_a bam_b
        "list": (200, 200, 200, 200, 200, 200, 200),
        "retrieve": (200, 200, 200, 200, 200, 200, 404),
        "create": (405, 405, 405, 405, 405, 405, 405),
        "partial_update": (405, 405, 405, 405, 405, 405, 405),
        "update": (405, 405, 405, 405, 405, 405, 405),
        "destroy": (405, 405, 405, 405, 405, 405, 405),
    }
)


def alert_request(client: APIClient, action: str, alert: DelegationAlert):
    detail = f"{ALERTS}{alert.pk}/"
    return {
        "list": lambda: client.get(ALERTS),
        "retrieve": lambda: client.get(detail),
        "create": lambda: client.post(ALERTS, {"importer": alert.importer_id}, format="json"),
        "partial_update": lambda: client.patch(detail, {"message": "x"}, format="json"),
        "update": lambda: client.put(detail, {"message": "x"}, format="json"),
        "destroy": lambda: client.delete(detail),
    }[action]()


@pytest.mark.parametrize(("action", "persona", "expected"), ALERT_ACCESS)
def test_alert_endpoints_answer_each_persona(api_as, alert_a, action, persona, expected):
    message = alert_a.message

    response = alert_request(api_as(persona), action, alert_a)

    assert response.status_code == expected
    assert DelegationAlert.objects.get(pk=alert_a.pk).message == message
    assert DelegationAlert.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("broker_admin", {"a", "b"}),
        ("broker_finance", {"a", "b"}),
        ("finance_a", {"a"}),
        ("employee_a", {"a"}),
        ("bam_b", {"b"}),
    ],
)
def test_alert_list_holds_only_visible_importers(api_as, personas, portfolio, persona, visible):
    importers = {"a": personas.importer_a.pk, "b": personas.importer_b.pk}

    response = api_as(persona).get(ALERTS)

    expected = DelegationAlert.objects.filter(importer_id__in=[importers[name] for name in visible])
    assert sorted(ids(response)) == sorted(expected.values_list("pk", flat=True))


def test_alert_detail(api_as, personas, alert_a):
    response = api_as("employee_a").get(f"{ALERTS}{alert_a.pk}/")

    assert response.json() == {
        "id": alert_a.pk,
        "importer": personas.importer_a.pk,
        "delegation": alert_a.delegation_id,
        "kind": "expires_within_14",
        "family": "expires_within",
        "label": "Expires within 14 days",
        "severity": "warning",
        "message": alert_a.message,
        "expiry_date": "2026-12-03",
        "raised_on": "2026-11-23",
        "raised_at": response.json()["raised_at"],
        "is_open": True,
        "resolved_at": None,
        "resolution": "",
    }


@pytest.fixture
def alerts(personas, portfolio):
    """The morning's alerts, plus importer A's no_delegation alert resolved earlier."""
    by_delegation = {
        name: DelegationAlert.objects.get(delegation=d)
        for name, d in portfolio.items()
        if name in {"soon", "blank", "pending"}
    }
    resolved = DelegationAlert.objects.create(
        importer=personas.importer_a,
        kind="no_delegation",
        severity="blocking",
        message="None.",
        key="importer:no_delegation:blank",
        raised_on=TODAY - dt.timedelta(days=30),
        resolved_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    assert DelegationAlert.objects.count() == 4  # later raises nothing
    return {**by_delegation, "resolved": resolved}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["blank", "soon", "pending", "resolved"]),  # open first, blocking before warning
        ({"open": "true"}, ["blank", "soon", "pending"]),
        ({"open": "false"}, ["resolved"]),
        ({"open": "1"}, ["blank", "soon", "pending"]),
        ({"severity": "blocking"}, ["blank", "resolved"]),
        ({"severity": "warning"}, ["soon", "pending"]),
        ({"kind": "expires_within"}, ["soon"]),
        ({"kind": "pending_too_long"}, ["pending"]),
        ({"kind": "expired"}, []),
        ({"kind": "blank_expiry"}, ["blank"]),
        ({"kind": "no_delegation", "open": "false"}, ["resolved"]),
        ({"importer": "a"}, ["soon", "resolved"]),
        ({"importer": "b"}, ["blank", "pending"]),
        ({"importer": "a", "open": "true"}, ["soon"]),
        ({"delegation": "blank"}, ["blank"]),
    ],
)
def test_alert_filters(api_as, personas, portfolio, alerts, query, expected):
    if "importer" in query:
        query = {
            **query,
            "importer": {"a": personas.importer_a, "b": personas.importer_b}[query["importer"]].pk,
        }
    if "delegation" in query:
        query = {**query, "delegation": portfolio[query["delegation"]].pk}

    response = api_as("broker_finance").get(ALERTS, query)

    assert ids(response) == [alerts[name].pk for name in expected]


@pytest.mark.parametrize(
    "query",
    [
        {"severity": "urgent"},
        {"kind": "expires_within_14"},
        {"open": "perhaps"},
        {"importer": "x"},
        {"delegation": 10**30},
        {"delegation": "1.5"},
    ],
)
def test_bad_alert_filters_are_400(api_as, query):
    response = api_as("broker_agent").get(ALERTS, query)

    assert response.status_code == 400
    assert list(response.json()) == list(query)


# --- Anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["delegation", "alert"])
@pytest.mark.parametrize(
    "action", ["list", "retrieve", "create", "partial_update", "update", "destroy"]
)
def test_anonymous_requests_are_refused(api, alert_a, kind, action):
    if kind == "delegation":
        response = delegation_request(api, action, alert_a.delegation)
    else:
        response = alert_request(api, action, alert_a)

    assert response.status_code == 401
    assert list(response.json()) == ["detail"]
    assert Delegation.objects.get().notes == "first"


# --- Queries --------------------------------------------------------------------------------

# savepoint + release (ATOMIC_REQUESTS), session, user, broker groups, the two-factor
# authenticator (broker staff only: carm_portal.mfa), memberships (importer users only), the page
# count (alerts; delegations count only a full first page: ShortFirstPagePagination), the page,
# then one query each for the accounts and the open alerts of the whole page. None of it grows
# with the number of rows.
LIST_QUERIES = [
    (DELEGATIONS, "broker_agent", 9),
    (DELEGATIONS, "bam_a", 9),
    (ALERTS, "broker_agent", 8),
    (ALERTS, "bam_a", 8),
]


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize(("url", "persona", "queries"), LIST_QUERIES)
def test_lists_run_a_constant_number_of_queries(
    api_as, personas, django_assert_max_num_queries, count, url, persona, queries
):
    for _ in range(count):
        importer = ImporterFactory()
        accounts = ProgramAccountFactory.create_batch(2, importer=importer)
        delegation = DelegationFactory(
            importer=importer, relationship="PMR", authority="pPAM", expiry_date=None
        )
        delegation.program_accounts.add(*accounts)
        personas.bam_a.memberships.create(importer=importer, role=Membership.Role.EMPLOYEE)
    run_delegation_checks(today=TODAY)
    client = api_as(persona)

    with django_assert_max_num_queries(queries) as captured:
        response = client.get(url)

    assert response.status_code == 200
    assert response.json()["count"] == {DELEGATIONS: count, ALERTS: 2 * count}[url]
    assert len(captured.captured_queries) == queries
    if url == DELEGATIONS:
        rows = response.json()["results"]
        assert sum(len(row["program_account_bn15s"]) for row in rows) == 2 * count
        assert sum(len(row["open_alerts"]) for row in rows) == 2 * count


# --- Schema ---------------------------------------------------------------------------------


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/schema/", {"format": "json"}).json()


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        (DELEGATIONS, {"get", "post"}),
        (f"{DELEGATIONS}{{id}}/", {"get", "put", "patch"}),
        (ALERTS, {"get"}),
        (f"{ALERTS}{{id}}/", {"get"}),
    ],
)
def test_schema_documents_each_endpoint_and_method(schema, path, methods):
    assert set(schema["paths"][path]) - {"parameters"} == methods


def test_schema_documents_the_filters_and_names_the_choices(schema):
    def params(path: str) -> set[str]:
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    components = schema["components"]["schemas"]
    assert params(DELEGATIONS) == {"page", "importer", "status", "expiring_within", "finding"}
    assert params(ALERTS) == {"page", "importer", "delegation", "severity", "kind", "open"}
    assert components["DelegationStatusEnum"]["enum"] == [
        "requested",
        "pending",
        "active",
        "rejected",
        "revoked",
        "expired",
    ]
    assert components["DelegationRelationshipEnum"]["enum"] == ["BMR", "PMR"]
    assert components["DelegationAuthorityEnum"]["enum"] == ["pBAM", "pPAM"]
    assert components["AlertSeverityEnum"]["enum"] == ["blocking", "warning", "advice"]
