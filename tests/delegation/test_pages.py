"""Delegation pages: access for every persona, filters, form validation, the renewal story."""

import datetime as dt

import pytest

from delegation.checks import run_delegation_checks
from delegation.models import Delegation, DelegationAlert, RenewalRequest
from tests.factories import DelegationFactory, ImporterFactory, ProgramAccountFactory
from tests.kit import PERSONAS

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def delegation_a(personas):
    return DelegationFactory(
        importer=personas.importer_a, expiry_date=TODAY + dt.timedelta(days=10)
    )


@pytest.fixture
def renewal_a(delegation_a, personas):
    return RenewalRequest.objects.create(
        delegation=delegation_a,
        requested_expiry_date=dt.date(2027, 12, 31),
        requested_by=personas.broker_agent,
    )


VIEW = dict.fromkeys(PERSONAS, 200) | {"bam_b": 404}
MANAGE = {
    "broker_admin": 200,
    "broker_agent": 200,
    "broker_finance": 403,
    "bam_a": 403,
    "finance_a": 403,
    "employee_a": 403,
    "bam_b": 404,
}
CONFIRM = MANAGE | {"bam_a": 302, "broker_admin": 302, "broker_agent": 302}
MANAGE_POST = {k: (302 if v == 200 else v) for k, v in MANAGE.items()}


def _cases():
    for persona in PERSONAS:
        yield "get", "/delegations/", persona, 200
        yield "get", "/delegations/alerts/", persona, 200
        yield "get", "/delegations/{d}/", persona, VIEW[persona]
        yield "get", "/delegations/{d}/edit/", persona, MANAGE[persona]
        yield "get", "/delegations/new/{i}/", persona, MANAGE[persona]
        yield "post", "/delegations/{d}/renewal/", persona, MANAGE_POST[persona]
        yield "post", "/delegations/renewals/{r}/confirm/", persona, CONFIRM[persona]
        yield "post", "/delegations/renewals/{r}/cancel/", persona, MANAGE_POST[persona]


@pytest.mark.parametrize(("method", "url", "persona", "expected"), list(_cases()))
def test_access(personas, client_for, renewal_a, method, url, persona, expected):
    client = client_for(personas.all()[persona])
    path = url.format(d=renewal_a.delegation_id, i=personas.importer_a.pk, r=renewal_a.pk)
    data = {"requested_expiry_date": "2028-01-31", "confirmed_expiry_date": "2027-12-31"}
    response = client.get(path) if method == "get" else client.post(path, data)
    assert response.status_code == expected


@pytest.mark.parametrize(
    "url", ["/delegations/", "/delegations/alerts/", "/delegations/1/", "/delegations/new/1/"]
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_importer_user_lists_only_their_own_delegations(personas, client_for, delegation_a):
    DelegationFactory(importer=personas.importer_b)
    response = client_for(personas.bam_b).get("/delegations/")
    assert [d.importer for d in response.context["delegations"]] == [personas.importer_b]
    run_delegation_checks(today=TODAY)
    response = client_for(personas.bam_b).get("/delegations/alerts/")
    assert {a.importer for a in response.context["alerts"]} <= {personas.importer_b}


def test_list_filters(personas, client_for):
    soon = DelegationFactory(importer=personas.importer_a, expiry_date=TODAY + dt.timedelta(days=5))
    blank = DelegationFactory(importer=personas.importer_b, expiry_date=None)
    pending = DelegationFactory(importer=personas.importer_b, status="pending", expiry_date=None)
    run_delegation_checks(today=TODAY)
    client = client_for(personas.broker_agent)

    def ids(query: str) -> list[int]:
        return [d.pk for d in client.get(f"/delegations/?{query}").context["delegations"]]

    assert ids("status=pending") == [pending.pk]
    assert ids("finding=blank_expiry") == [blank.pk]
    assert ids("finding=expires_within") == [soon.pk]
    assert ids("expiring_within=7") == [soon.pk]
    assert ids("q=Bravo&sort=importer") == sorted([blank.pk, pending.pk])
    assert ids(f"agent={personas.broker_agent.pk}") == [soon.pk]  # importer A is theirs
    assert ids("sort=expiry")[:2] == [blank.pk, pending.pk]  # blank dates first: most urgent


def test_list_runs_in_constant_queries(personas, client_for, django_assert_max_num_queries):
    client = client_for(personas.broker_agent)
    first = DelegationFactory(importer=personas.importer_a)
    with django_assert_max_num_queries(12) as one:
        response = client.get("/delegations/")
    assert response.status_code == 200
    assert [d.pk for d in response.context["delegations"]] == [first.pk]
    for _ in range(25):
        imp = ImporterFactory()
        account = ProgramAccountFactory(importer=imp)
        d = DelegationFactory(importer=imp, relationship="PMR", expiry_date=None)
        d.program_accounts.add(account)
    run_delegation_checks(today=TODAY)
    with django_assert_max_num_queries(12) as many:
        response = client.get("/delegations/")
    assert response.status_code == 200
    assert len(response.context["delegations"]) == 26
    assert first.pk in {d.pk for d in response.context["delegations"]}
    assert len(many.captured_queries) == len(one.captured_queries)


# --- Forms ------------------------------------------------------------------------------------


def form_data(**overrides):
    data = {
        "relationship": "BMR",
        "authority": "pBAM",
        "status": "active",
        "requested_on": "2026-11-02",
        "approved_on": "2026-11-05",
        "expiry_date": "2027-11-30",
        "notes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_active_delegation_resolves_the_no_delegation_alert(personas, client_for):
    importer = personas.importer_a
    importer.status = "active"
    importer.save()
    run_delegation_checks(today=TODAY)
    assert DelegationAlert.objects.get(importer=importer).kind == "no_delegation"
    response = client_for(personas.broker_agent).post(
        f"/delegations/new/{importer.pk}/", form_data()
    )
    delegation = Delegation.objects.get(importer=importer)
    assert response.status_code == 302
    assert response["Location"] == f"/delegations/{delegation.pk}/"
    assert delegation.recorded_by == personas.broker_agent
    assert DelegationAlert.objects.get(importer=importer).resolved_at is not None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"relationship": "PMR"}, "program_accounts", "choose at least one program account"),
        ({"authority": "pPAM"}, "program_accounts", "A pPAM manages only the program accounts"),
        ({"expiry_date": "2026-11-22"}, "expiry_date", "This date is in the past"),
        ({"expiry_date": ""}, "expiry_date", "If it really was left blank, tick the confirmation"),
        ({"approved_on": ""}, "approved_on", "Enter the date the importer approved"),
        ({"requested_on": "2026-12-01"}, "requested_on", "cannot be in the future"),
        ({"approved_on": "2026-11-01"}, "approved_on", "cannot come before the request"),
        ({"status": "revoked"}, "revoked_on", "Enter the date the access was revoked"),
        ({"expiry_date": "2027-02-30"}, "expiry_date", "Enter a valid date"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(personas, client_for, overrides, field, message):
    url = f"/delegations/new/{personas.importer_a.pk}/"
    response = client_for(personas.broker_agent).post(url, form_data(**overrides))
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    assert Delegation.objects.count() == 0
    if overrides.get("expiry_date"):
        assert (
            f'value="{overrides["expiry_date"]}"'.encode() in response.content
            or field == "expiry_date"
        )


def test_blank_expiry_with_confirmation_is_saved_and_flagged(personas, client_for):
    url = f"/delegations/new/{personas.importer_a.pk}/"
    data = form_data(expiry_date="", blank_expiry_confirmed="on")
    client_for(personas.broker_agent).post(url, data)
    delegation = Delegation.objects.get()
    assert (delegation.expiry_date, delegation.blank_expiry_confirmed) == (None, True)
    assert (
        DelegationAlert.objects.get(delegation=delegation, resolved_at=None).kind == "blank_expiry"
    )


def test_pmr_with_accounts_is_saved(personas, client_for):
    account = personas.importer_a.program_accounts.get()
    url = f"/delegations/new/{personas.importer_a.pk}/"
    client_for(personas.broker_agent).post(
        url, form_data(relationship="PMR", program_accounts=[account.pk])
    )
    assert list(Delegation.objects.get().program_accounts.all()) == [account]


def test_another_importers_account_cannot_be_chosen(personas, client_for):
    other = personas.importer_b.program_accounts.get()
    url = f"/delegations/new/{personas.importer_a.pk}/"
    response = client_for(personas.broker_agent).post(
        url, form_data(relationship="PMR", program_accounts=[other.pk])
    )
    assert "program_accounts" in response.context["form"].errors
    assert Delegation.objects.count() == 0


def test_editing_an_old_record_keeps_its_past_expiry(personas, client_for):
    d = DelegationFactory(
        importer=personas.importer_a, status="expired", expiry_date=dt.date(2026, 1, 31)
    )
    response = client_for(personas.broker_agent).post(
        f"/delegations/{d.pk}/edit/",
        form_data(status="expired", expiry_date="2026-01-31", notes="checked"),
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.notes == "checked"


# --- Renewal: the whole story ----------------------------------------------------------------


def test_renewal_flow_end_to_end(personas, client_for, delegation_a):
    run_delegation_checks(today=TODAY)
    assert delegation_a.alerts.get(resolved_at=None).kind == "expires_within_14"

    agent = client_for(personas.broker_agent)
    agent.post(
        f"/delegations/{delegation_a.pk}/renewal/",
        {"requested_expiry_date": "2027-12-31", "message": "Please extend for a year."},
    )
    renewal = RenewalRequest.objects.get()
    assert (renewal.status, renewal.requested_by) == ("open", personas.broker_agent)

    bam = client_for(personas.bam_a)
    home = bam.get("/")
    assert b"Please extend for a year." in home.content
    response = bam.post(
        f"/delegations/renewals/{renewal.pk}/confirm/",
        {"confirmed_expiry_date": "2027-12-31", "next": "/"},
    )
    assert response["Location"] == "/"

    delegation_a.refresh_from_db()
    renewal.refresh_from_db()
    assert delegation_a.expiry_date == dt.date(2027, 12, 31)
    assert (renewal.status, renewal.confirmed_by) == ("confirmed", personas.bam_a)
    assert delegation_a.alerts.get().resolved_at is not None

    page = client_for(personas.broker_agent).get(f"/delegations/{delegation_a.pk}/")
    subjects = [entry.subject for entry in page.context["history"]]
    assert "Delegation" in subjects
    assert "Renewal request to 2027-12-31" in subjects
    assert any(s.startswith("Alert") for s in subjects), subjects
    changes = [c for e in page.context["history"] for c in e.changes]
    assert ("expiry date", "2026-12-03", "2027-12-31") in changes


def test_second_open_renewal_is_refused(personas, client_for, renewal_a):
    response = client_for(personas.broker_agent).post(
        f"/delegations/{renewal_a.delegation_id}/renewal/",
        {"requested_expiry_date": "2028-01-31"},
        follow=True,
    )
    assert RenewalRequest.objects.count() == 1
    assert "already waiting for the importer" in response.content.decode()


def test_renewal_date_must_be_in_the_future(personas, client_for, delegation_a):
    client_for(personas.broker_agent).post(
        f"/delegations/{delegation_a.pk}/renewal/", {"requested_expiry_date": "2026-11-01"}
    )
    assert RenewalRequest.objects.count() == 0


def test_confirming_twice_is_refused(personas, client_for, renewal_a):
    bam = client_for(personas.bam_a)
    bam.post(
        f"/delegations/renewals/{renewal_a.pk}/confirm/", {"confirmed_expiry_date": "2027-12-31"}
    )
    response = bam.post(
        f"/delegations/renewals/{renewal_a.pk}/confirm/",
        {"confirmed_expiry_date": "2028-06-30"},
        follow=True,
    )
    assert "no longer open" in response.content.decode()
    assert Delegation.objects.get().expiry_date == dt.date(2027, 12, 31)


def test_importer_detail_shows_the_delegation_badge(personas, client_for, delegation_a):
    response = client_for(personas.broker_agent).get(personas.importer_a.get_absolute_url())
    assert b"Delegation to the broker" in response.content
    assert b"10 days left" in response.content


def test_history_shows_covered_accounts_changing(personas, client_for):
    importer = personas.importer_a
    first = importer.program_accounts.get()
    second = ProgramAccountFactory(importer=importer)
    d = DelegationFactory(importer=importer, relationship="PMR")
    d.program_accounts.add(first)
    d.notes = "widened"
    d.program_accounts.add(second)
    d.save()
    page = client_for(personas.broker_agent).get(f"/delegations/{d.pk}/")
    changes = [c for e in page.context["history"] for c in e.changes]
    assert any(
        label == "program accounts covered (PMR)" and new == f"{first.bn15}, {second.bn15}"
        for label, _old, new in changes
    )


def test_broker_staff_confirming_for_the_importer_record_who_and_how(
    personas, client_for, renewal_a
):
    agent = client_for(personas.broker_agent)
    url = f"/delegations/renewals/{renewal_a.pk}/confirm/"

    agent.post(url, {"confirmed_expiry_date": "2027-12-31"})
    renewal_a.refresh_from_db()
    assert renewal_a.status == "open"  # refused: the importer's word is not named

    agent.post(
        url,
        {
            "confirmed_expiry_date": "2027-12-31",
            "importer_person": "Dana Whitfield (BAM)",
            "channel": "phone",
        },
    )

    renewal_a.refresh_from_db()
    assert (
        renewal_a.status,
        renewal_a.confirmed_by,
        renewal_a.confirmed_for_importer_by,
        renewal_a.confirmation_channel,
    ) == ("confirmed", personas.broker_agent, "Dana Whitfield (BAM)", "phone")


def test_the_importers_bam_confirms_in_their_own_name(personas, client_for, renewal_a):
    client_for(personas.bam_a).post(
        f"/delegations/renewals/{renewal_a.pk}/confirm/",
        {"confirmed_expiry_date": "2027-12-31", "importer_person": "someone", "channel": "email"},
    )

    renewal_a.refresh_from_db()
    assert (
        renewal_a.status,
        renewal_a.confirmed_for_importer_by,
        renewal_a.confirmation_channel,
    ) == (
        "confirmed",
        "",
        "",
    )
