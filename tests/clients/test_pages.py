"""The clients pages: list filters, dashboard, forms (valid and invalid), checklist steps, history."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.access import BrokerRole
from clients.models import Importer, OnboardingStep, PortalUser, ProgramAccount
from clients.validators import normalize_bn9, normalize_bn15
from delegation.models import DelegationAlert
from tests.factories import (
    ClientGroupFactory,
    DelegationFactory,
    ImporterFactory,
    PortalUserFactory,
    ProgramAccountFactory,
    UserFactory,
    bn9_for,
)

LIST = reverse("clients:importer_list")
HOME = reverse("home")
DASHBOARD = reverse("clients:dashboard")  # the onboarding dashboard, linked from Today
Step = OnboardingStep.Step
Status = OnboardingStep.Status


# --- Reading the HTML the way a person (or a screen reader) would -----------------------------


class _Fields(HTMLParser):
    """Collects input/select/textarea values by id, and the error list shown for each field."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.errors: dict[str, list[str]] = {}
        self._errors_of: str | None = None
        self._in_li = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("id"):
            if a.get("type") == "checkbox":
                self.values[a["id"]] = "on" if "checked" in a else ""
            else:
                self.values[a["id"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a.get("id")
            self.values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a.get("id")
            self.values[self._textarea] = ""
        elif tag == "ul" and (a.get("id") or "").endswith("_errors"):
            self._errors_of = a["id"].removesuffix("_errors")
            self.errors[self._errors_of] = []
        elif tag == "li" and self._errors_of:
            self._in_li = True
            self.errors[self._errors_of].append("")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "ul":
            self._errors_of = None
        elif tag == "li":
            self._in_li = False

    def handle_data(self, data):
        if self._in_li and self._errors_of:
            self.errors[self._errors_of][-1] += data
        elif self._textarea:
            self.values[self._textarea] += (
                data.lstrip("\n") if not self.values[self._textarea] else data
            )


def parse(response) -> _Fields:
    parser = _Fields()
    parser.feed(response.content.decode())
    return parser


def validator_messages(normalize, value: str) -> list[str]:
    """The messages ``clients.validators`` gives for ``value`` (the form must show exactly these)."""
    with pytest.raises(ValidationError) as caught:
        normalize(value)
    return caught.value.messages


def names(response) -> list[str]:
    return [importer.legal_name for importer in response.context["importers"]]


def importer_data(**overrides) -> dict[str, str]:
    data = {
        "legal_name": "Northern Lights Trading Inc.",
        "operating_name": "Northern Lights",
        "bn9": bn9_for(4242),
        "status": "onboarding",
        "address_line1": "100 Bay Street, Suite 400",
        "city": "Toronto",
        "province": "ON",
        "postal_code": "M5J 2N8",
        "mailing_same_as_legal": "on",
        "phone": "",
        "email": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def spaced(bn9: str) -> str:
    return f"{bn9[:3]} {bn9[3:6]} {bn9[6:]}"


def mark_done(importer: Importer, *steps: int) -> None:
    OnboardingStep.objects.filter(importer=importer, step__in=steps).update(status=Status.DONE)


# --- Importer list: search, filters, sort, scope ----------------------------------------------


@pytest.fixture
def portfolio(personas):
    """Importers A and B plus three more with distinct names, statuses, agents and progress."""
    other_agent = UserFactory(email="other.agent@broker.example.com", roles=[BrokerRole.AGENT])
    group = ClientGroupFactory(name="Quebec team")
    group.agents.add(personas.broker_agent)
    charlie = ImporterFactory(
        legal_name="Charlie Foods Corp.",
        operating_name="Maple Snacks",
        status=Importer.Status.ACTIVE,
        assigned_agent=other_agent,
    )
    delta = ImporterFactory(
        legal_name="Delta Parts Ltd.", status=Importer.Status.PROSPECT, client_group=group
    )
    echo = ImporterFactory(legal_name="Echo Textiles Inc.", status=Importer.Status.INACTIVE)
    ProgramAccountFactory(importer=echo, bn15=f"{echo.bn9}RM0002")
    mark_done(charlie, 1, 2, 3, 4, 5)
    mark_done(delta, 1)
    mark_done(personas.importer_a, 1, 2, 3)
    OnboardingStep.objects.filter(importer=echo, step=Step.BROKER_DELEGATION).update(
        status=Status.BLOCKED
    )
    return {"charlie": charlie, "delta": delta, "echo": echo, "other_agent": other_agent}


def test_the_list_shows_every_importer_by_name(personas, portfolio, client_for):
    response = client_for(personas.broker_agent).get(LIST)

    assert response.status_code == 200
    assert names(response) == [
        "Alpha Imports Inc.",
        "Bravo Trading Ltd.",
        "Charlie Foods Corp.",
        "Delta Parts Ltd.",
        "Echo Textiles Inc.",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("charlie", ["Charlie Foods Corp."]),
        ("maple snacks", ["Charlie Foods Corp."]),
        ("Ltd.", ["Bravo Trading Ltd.", "Delta Parts Ltd."]),
    ],
)
def test_search_matches_legal_and_operating_names(personas, portfolio, client_for, query, expected):
    response = client_for(personas.broker_agent).get(LIST, {"q": query})

    assert names(response) == expected


def test_search_matches_a_bn9_typed_with_spaces(personas, portfolio, client_for):
    bn9 = portfolio["delta"].bn9

    response = client_for(personas.broker_agent).get(LIST, {"q": spaced(bn9)})

    assert names(response) == ["Delta Parts Ltd."]


def test_search_matches_the_bn15_of_a_program_account(personas, portfolio, client_for):
    bn15 = f"{portfolio['echo'].bn9}rm0002"

    response = client_for(personas.broker_agent).get(LIST, {"q": bn15})

    assert names(response) == ["Echo Textiles Inc."]


def test_the_status_filter_keeps_that_status(personas, portfolio, client_for):
    response = client_for(personas.broker_agent).get(LIST, {"status": "prospect"})

    assert names(response) == ["Delta Parts Ltd."]


def test_the_agent_filter_keeps_that_agents_importers(personas, portfolio, client_for):
    agent = portfolio["other_agent"]

    response = client_for(personas.broker_admin).get(LIST, {"agent": agent.pk})

    assert names(response) == ["Charlie Foods Corp."]


def test_mine_keeps_importers_assigned_directly_or_through_a_client_group(
    personas, portfolio, client_for
):
    response = client_for(personas.broker_agent).get(LIST, {"mine": "on"})

    assert names(response) == ["Alpha Imports Inc.", "Delta Parts Ltd."]


def test_step_and_step_status_filter_on_the_stored_checklist(personas, portfolio, client_for):
    client = client_for(personas.broker_agent)

    done_5 = client.get(LIST, {"step": "5", "step_status": "done"})
    not_started_5 = client.get(LIST, {"step": "5", "step_status": "not_started"})
    any_blocked = client.get(LIST, {"step_status": "blocked"})

    assert names(done_5) == ["Charlie Foods Corp."]
    assert names(not_started_5) == [
        "Alpha Imports Inc.",
        "Bravo Trading Ltd.",
        "Delta Parts Ltd.",
        "Echo Textiles Inc.",
    ]
    assert names(any_blocked) == ["Echo Textiles Inc."]


def test_sort_by_progress_puts_the_least_advanced_first(personas, portfolio, client_for):
    client = client_for(personas.broker_agent)

    least = client.get(LIST, {"sort": "progress"})
    most = client.get(LIST, {"sort": "-progress"})

    progress = [(i.legal_name, i.steps_done) for i in least.context["importers"]]
    assert progress == sorted(progress, key=lambda p: (p[1], p[0]))
    assert [i.legal_name for i in most.context["importers"]][:2] == [
        "Charlie Foods Corp.",
        "Alpha Imports Inc.",
    ]
    assert dict(progress)["Charlie Foods Corp."] == 5


def test_the_filter_form_shows_what_was_chosen(personas, portfolio, client_for):
    response = client_for(personas.broker_agent).get(
        LIST,
        {"q": "Delta", "status": "prospect", "mine": "on", "step": "1", "step_status": "done"},
    )

    fields = parse(response)
    assert names(response) == ["Delta Parts Ltd."]
    assert fields.values["id_q"] == "Delta"
    assert fields.values["id_status"] == "prospect"
    assert fields.values["id_mine"] == "on"
    assert fields.values["id_step"] == "1"
    assert fields.values["id_step_status"] == "done"


def test_the_list_shows_bn9_status_agent_and_progress(personas, client_for):
    mark_done(personas.importer_a, 1, 2, 3)  # step 4 is done from its data (address + RM account)

    html = client_for(personas.broker_admin).get(LIST, {"q": "Alpha"}).content.decode()

    assert personas.importer_a.bn9 in html
    assert '<span class="badge badge--onboarding">Onboarding</span>' in html
    assert personas.broker_agent.get_full_name() in html
    assert 'aria-label="4 of 7 steps done"' in html


def test_an_importer_user_lists_only_their_own_importer(personas, portfolio, client_for):
    response = client_for(personas.bam_b).get(LIST)

    fields = parse(response)
    assert names(response) == ["Bravo Trading Ltd."]
    assert "id_agent" not in fields.values
    assert "id_mine" not in fields.values


def test_the_list_paginates_by_fifty(personas, client_for):
    ImporterFactory.create_batch(50)

    first = client_for(personas.broker_agent).get(LIST)
    second = client_for(personas.broker_agent).get(LIST, {"page": 2})

    assert len(first.context["importers"]) == 50
    assert len(second.context["importers"]) == 2


def _portfolio_of(n: int, agent) -> None:
    for i in range(n):
        importer = ImporterFactory(assigned_agent=agent if i % 2 else None)
        ProgramAccountFactory(importer=importer)
        PortalUserFactory(importer=importer)
        mark_done(importer, 1 + i % 7)


# session, user, groups, the two-factor authenticator (carm_portal.mfa), count, page, checklist
# prefetch, agents and client groups for the filters + savepoints
LIST_QUERY_CAP = 11


@pytest.mark.parametrize("count", [1, 30])
def test_the_list_runs_in_a_constant_number_of_queries(
    personas, client_for, django_assert_max_num_queries, count
):
    _portfolio_of(count, personas.broker_agent)
    client = client_for(personas.broker_agent)

    with django_assert_max_num_queries(LIST_QUERY_CAP):
        response = client.get(LIST, {"sort": "progress"})

    assert response.status_code == 200
    assert len(response.context["importers"]) == count + 2


def test_the_list_counts_importers_without_reading_their_checklists(
    personas, client_for, django_assert_max_num_queries
):
    """The paginator's COUNT and the page read the checklist only for the rows shown: grouping
    every importer's checklist rows made /clients/ take ~0.5 s at 10,000 importers."""
    _portfolio_of(3, personas.broker_agent)
    client = client_for(personas.broker_agent)

    with django_assert_max_num_queries(LIST_QUERY_CAP) as queries:
        response = client.get(LIST)

    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    assert counts, "the paginator counts the importers"
    assert all("onboardingstep" not in sql.lower() for sql in counts), counts
    outer_group = 'GROUP BY "clients_importer"."id"'
    grouped = [q["sql"] for q in queries.captured_queries if outer_group in q["sql"]]
    assert not grouped, grouped


# 13 for the onboarding panels, 2 for the delegation summary, 1 for the two-factor authenticator,
# 1 for the workers' heartbeat
DASHBOARD_QUERY_CAP = 17


@pytest.mark.parametrize("count", [1, 30])
def test_the_dashboard_runs_in_a_constant_number_of_queries(
    personas, client_for, django_assert_max_num_queries, count
):
    _portfolio_of(count, personas.broker_agent)
    client = client_for(personas.broker_agent)

    with django_assert_max_num_queries(DASHBOARD_QUERY_CAP):
        response = client.get(DASHBOARD)

    assert response.status_code == 200
    assert response.context["total"] == count + 2


# --- Home pages ---------------------------------------------------------------------------------


def test_the_dashboard_counts_importers_by_status_and_steps_done(personas, portfolio, client_for):
    response = client_for(personas.broker_agent).get(DASHBOARD)

    statuses = {value: n for value, _label, n in response.context["statuses"]}
    done = {bar.step: bar.done for bar in response.context["step_bars"]}
    assert response.context["total"] == 5
    assert statuses == {"prospect": 1, "onboarding": 2, "active": 1, "inactive": 1}
    assert done == {1: 3, 2: 2, 3: 2, 4: 4, 5: 1, 6: 0, 7: 0}  # 4: from address + RM account
    assert response.context["blocked_importers"] == 1


def test_the_dashboard_lists_my_clients_least_advanced_first(personas, portfolio, client_for):
    response = client_for(personas.broker_agent).get(DASHBOARD)

    assert [i.legal_name for i in response.context["my_clients"]] == [
        "Delta Parts Ltd.",
        "Alpha Imports Inc.",
    ]
    assert response.context["my_count"] == 2
    assert [i.legal_name for i in response.context["least_advanced"]] == [
        "Bravo Trading Ltd.",
        "Delta Parts Ltd.",
        "Alpha Imports Inc.",
        "Charlie Foods Corp.",
    ]  # Echo is inactive


def test_an_importer_user_sees_their_importers_home(personas, client_for):
    PortalUserFactory(importer=personas.importer_a, full_name="Ada Lovelace")

    response = client_for(personas.employee_a).get(HOME)

    html = response.content.decode()
    assert response.status_code == 200
    assert [card["importer"] for card in response.context["cards"]] == [personas.importer_a]
    assert "Ada Lovelace" in html
    assert personas.importer_a.program_accounts.get().bn15 in html
    assert "CARM onboarding checklist" in html
    assert "Bravo Trading Ltd." not in html


def test_a_user_with_no_role_sees_the_no_access_page(db, client_for):
    response = client_for(UserFactory(email="nobody@example.com")).get(HOME)

    assert response.status_code == 200
    assert "Your account has no access yet" in response.content.decode()


def test_the_navigation_marks_the_current_page(personas, client_for):
    client = client_for(personas.broker_agent)

    home_html = client.get(HOME).content.decode()
    list_html = client.get(LIST).content.decode()

    assert f'<a href="{HOME}" aria-current="page">Today</a>' in home_html
    assert f'<a href="{LIST}" aria-current="page">Clients</a>' in list_html
    assert f'<a href="{LIST}">Clients</a>' in home_html


# --- Importer create and edit -------------------------------------------------------------------


def test_creating_an_importer_saves_it_with_a_normalised_bn9(personas, client_for):
    bn9 = bn9_for(4242)
    data = importer_data(
        bn9=spaced(bn9),
        postal_code="m5j2n8",
        phone="(416) 555-0123",
        assigned_agent=str(personas.broker_agent.pk),
    )

    response = client_for(personas.broker_agent).post(reverse("clients:importer_create"), data)

    importer = Importer.objects.get(legal_name="Northern Lights Trading Inc.")
    assert response.status_code == 302
    assert response["Location"] == importer.get_absolute_url()
    assert importer.bn9 == bn9
    assert importer.postal_code == "M5J 2N8"
    assert importer.phone == "+1 416-555-0123"
    assert importer.assigned_agent == personas.broker_agent
    assert importer.onboarding_steps.count() == 7


def test_an_invalid_bn9_is_shown_next_to_the_field_and_nothing_is_saved(personas, client_for):
    data = importer_data(bn9="123 456 780")
    before = Importer.objects.count()

    response = client_for(personas.broker_agent).post(reverse("clients:importer_create"), data)

    fields = parse(response)
    assert response.status_code == 200
    assert fields.errors["id_bn9"] == validator_messages(normalize_bn9, "123 456 780")
    assert fields.values["id_bn9"] == "123 456 780"
    assert fields.values["id_legal_name"] == "Northern Lights Trading Inc."
    assert Importer.objects.count() == before


def test_a_postal_code_of_another_province_is_refused(personas, client_for):
    data = importer_data(province="BC", postal_code="M5J 2N8")

    response = client_for(personas.broker_agent).post(reverse("clients:importer_create"), data)

    assert parse(response).errors["id_postal_code"] == [
        "Postal code M5J 2N8 is not in BC; check the province or the code."
    ]
    assert not Importer.objects.filter(legal_name="Northern Lights Trading Inc.").exists()


def test_a_separate_mailing_address_is_required_when_not_the_legal_one(personas, client_for):
    data = importer_data(mailing_same_as_legal=None, mailing_city="Montréal")

    response = client_for(personas.broker_agent).post(reverse("clients:importer_create"), data)

    errors = parse(response).errors
    assert errors["id_mailing_line1"] == [
        "Enter the mailing address, or tick “mailing address is the legal address”."
    ]
    assert errors["id_mailing_province"] == ["Choose the mailing province or territory."]
    assert errors["id_mailing_postal_code"] == ["Enter the mailing postal code."]
    assert "id_mailing_city" not in errors
    assert parse(response).values["id_mailing_city"] == "Montréal"


def test_only_broker_agents_and_admins_can_be_assigned(personas, client_for):
    data = importer_data(assigned_agent=str(personas.broker_finance.pk))

    response = client_for(personas.broker_admin).post(reverse("clients:importer_create"), data)

    assert parse(response).errors["id_assigned_agent"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert set(response.context["form"].fields["assigned_agent"].queryset) == {
        personas.broker_admin,
        personas.broker_agent,
    }


def test_a_duplicate_bn9_is_refused(personas, client_for):
    data = importer_data(bn9=personas.importer_b.bn9)

    response = client_for(personas.broker_admin).post(reverse("clients:importer_create"), data)

    assert parse(response).errors["id_bn9"] == [
        "An importer with this Business Number is already recorded."
    ]


def test_editing_an_importer_saves_the_change(personas, client_for):
    importer = personas.importer_a
    data = importer_data(
        legal_name="Alpha Imports Incorporated",
        bn9=importer.bn9,
        status="active",
        mailing_same_as_legal=None,
        mailing_line1="PO Box 12",
        mailing_city="Gatineau",
        mailing_province="QC",
        mailing_postal_code="j8x 3x7",
    )

    response = client_for(personas.broker_agent).post(
        reverse("clients:importer_edit", args=[importer.pk]), data
    )

    importer.refresh_from_db()
    assert response.status_code == 302
    assert importer.legal_name == "Alpha Imports Incorporated"
    assert importer.status == Importer.Status.ACTIVE
    assert importer.mailing_postal_code == "J8X 3X7"


def test_the_bn9_cannot_change_under_existing_program_accounts(personas, client_for):
    importer = personas.importer_a
    data = importer_data(legal_name=importer.legal_name, bn9=bn9_for(777))

    response = client_for(personas.broker_agent).post(
        reverse("clients:importer_edit", args=[importer.pk]), data
    )

    importer.refresh_from_db()
    assert parse(response).errors["id_bn9"] == [
        f"This importer's program accounts belong to Business Number {importer.bn9}; "
        "remove or correct them before changing the Business Number."
    ]
    assert importer.bn9 != bn9_for(777)


# --- Program accounts ---------------------------------------------------------------------------


def test_adding_a_program_account_normalises_the_bn15(personas, client_for):
    importer = personas.importer_a
    typed = f"{spaced(importer.bn9)} rm 0007"

    response = client_for(personas.broker_agent).post(
        reverse("clients:account_create", args=[importer.pk]),
        {"bn15": typed, "name": "Quebec division", "status": "active", "opened_on": "2024-05-01"},
    )

    account = ProgramAccount.objects.get(bn15=f"{importer.bn9}RM0007")
    assert response.status_code == 302
    assert account.importer == importer
    assert account.opened_on == date(2024, 5, 1)


def test_a_bn15_of_another_business_number_is_refused(personas, client_for):
    importer = personas.importer_a
    other = f"{bn9_for(31337)}RM0001"

    response = client_for(personas.broker_agent).post(
        reverse("clients:account_create", args=[importer.pk]),
        {"bn15": other, "name": "", "status": "active"},
    )

    fields = parse(response)
    assert response.status_code == 200
    assert fields.errors["id_bn15"] == [
        f"{other} belongs to Business Number {other[:9]}, not to this importer's {importer.bn9}. "
        "An RM account starts with its importer's Business Number."
    ]
    assert fields.values["id_bn15"] == other
    assert not ProgramAccount.objects.filter(bn15=other).exists()


def test_an_rt_account_is_refused(personas, client_for):
    importer = personas.importer_a
    rt = f"{importer.bn9}RT0001"

    response = client_for(personas.broker_agent).post(
        reverse("clients:account_create", args=[importer.pk]),
        {"bn15": rt, "status": "active"},
    )

    assert parse(response).errors["id_bn15"] == validator_messages(normalize_bn15, rt)


def test_editing_a_program_account_saves_it(personas, client_for):
    account = personas.importer_a.program_accounts.get()

    response = client_for(personas.broker_admin).post(
        reverse("clients:account_edit", args=[personas.importer_a.pk, account.pk]),
        {"bn15": account.bn15, "name": "Closed branch", "status": "closed"},
    )

    account.refresh_from_db()
    assert response.status_code == 302
    assert (account.name, account.status) == ("Closed branch", "closed")


# --- Portal users -------------------------------------------------------------------------------


def person_data(**overrides) -> dict[str, str]:
    data = {
        "full_name": "Grace Hopper",
        "email": "Grace.Hopper@Alpha.example.com",
        "ccp_role": "BAM",
        "sign_in_method": "gckey",
        "responsibility": "payments",
        "profile_created": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_importers_bam_adds_a_portal_user(personas, client_for):
    importer = personas.importer_a

    response = client_for(personas.bam_a).post(
        reverse("clients:person_create", args=[importer.pk]), person_data()
    )

    person = importer.portal_users.get()
    assert response.status_code == 302
    assert person.email == "grace.hopper@alpha.example.com"
    assert (person.ccp_role, person.profile_created, person.access_approved) == ("BAM", True, False)


def test_a_pam_needs_a_program_account_of_the_same_importer(personas, client_for):
    importer = personas.importer_a
    other_account = personas.importer_b.program_accounts.get()
    url = reverse("clients:person_create", args=[importer.pk])
    client = client_for(personas.broker_agent)

    missing = client.post(url, person_data(ccp_role="PAM"))
    foreign = client.post(url, person_data(ccp_role="PAM", program_account=str(other_account.pk)))

    assert parse(missing).errors["id_program_account"] == [
        "A Program Account Manager needs the program account they manage."
    ]
    assert parse(foreign).errors["id_program_account"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not importer.portal_users.exists()


def test_a_pam_is_saved_with_their_account(personas, client_for):
    importer = personas.importer_a
    account = importer.program_accounts.get()

    client_for(personas.broker_agent).post(
        reverse("clients:person_create", args=[importer.pk]),
        person_data(ccp_role="PAM", program_account=str(account.pk)),
    )

    assert importer.portal_users.get().program_account == account


def test_the_same_person_cannot_be_recorded_twice(personas, client_for):
    importer = personas.importer_a
    PortalUserFactory(importer=importer, email="grace.hopper@alpha.example.com")

    response = client_for(personas.bam_a).post(
        reverse("clients:person_create", args=[importer.pk]), person_data()
    )

    assert parse(response).errors["id_email"] == [
        "grace.hopper@alpha.example.com is already one of this importer's portal users."
    ]


def test_editing_a_portal_user_updates_the_derived_checklist(personas, client_for):
    importer = personas.importer_a
    person = PortalUserFactory(importer=importer, access_approved=False)

    client_for(personas.bam_a).post(
        reverse("clients:person_edit", args=[importer.pk, person.pk]),
        person_data(email=person.email, full_name=person.full_name, access_approved="on"),
    )

    step = importer.onboarding_steps.get(step=Step.EMPLOYEE_ACCESS)
    assert step.status == Status.DONE


# --- Checklist steps ----------------------------------------------------------------------------


def test_confirming_a_manual_step_updates_the_checklist(personas, client_for):
    importer = personas.importer_a
    url = reverse("clients:step_update", args=[importer.pk, Step.REGISTRATION])

    response = client_for(personas.broker_agent).post(
        url, {"status": "done", "completed_on": "2025-01-15", "note": "Registered by the BAM."}
    )

    step = importer.onboarding_steps.get(step=Step.REGISTRATION)
    assert response.status_code == 302
    assert response["Location"] == f"{importer.get_absolute_url()}#step-5"
    assert (step.status, step.completed_on, step.note) == (
        Status.DONE,
        date(2025, 1, 15),
        "Registered by the BAM.",
    )
    assert step.confirmed_by == personas.broker_agent


def test_done_without_a_date_is_completed_today(personas, client_for):
    importer = personas.importer_a

    client_for(personas.broker_agent).post(
        reverse("clients:step_update", args=[importer.pk, Step.REGISTRATION]), {"status": "done"}
    )

    step = importer.onboarding_steps.get(step=Step.REGISTRATION)
    assert (step.status, step.completed_on) == (Status.DONE, timezone.localdate())


def test_a_derived_step_refuses_done_with_a_message(personas, client_for):
    importer = personas.importer_a

    response = client_for(personas.broker_agent).post(
        reverse("clients:step_update", args=[importer.pk, Step.BAMS]), {"status": "done"}
    )

    step = importer.onboarding_steps.get(step=Step.BAMS)
    assert response.status_code == 200
    assert parse(response).errors["id_step2_status"] == [
        "Step 2 follows the importer's records; update them instead of marking it “Done”."
    ]
    assert "Step 2 was not changed" in response.content.decode()
    assert step.status == Status.NOT_STARTED


def test_a_derived_step_can_be_blocked_and_unblocked(personas, client_for):
    importer = personas.importer_a
    url = reverse("clients:step_update", args=[importer.pk, Step.BAMS])
    client = client_for(personas.broker_agent)

    client.post(url, {"status": "blocked", "note": "Waiting for the second BAM's GCKey."})
    blocked = importer.onboarding_steps.get(step=Step.BAMS)
    client.post(url, {"status": "", "note": ""})
    cleared = importer.onboarding_steps.get(step=Step.BAMS)

    assert (blocked.status, blocked.summary) == (
        Status.BLOCKED,
        "Waiting for the second BAM's GCKey.",
    )
    assert (cleared.status, cleared.derived) == (Status.NOT_STARTED, True)


def test_blocking_a_step_needs_a_note(personas, client_for):
    importer = personas.importer_a

    response = client_for(personas.broker_agent).post(
        reverse("clients:step_update", args=[importer.pk, Step.REGISTRATION]),
        {"status": "blocked", "note": " "},
    )

    assert parse(response).errors["id_step5_note"] == ["Say what the step is waiting for."]
    assert importer.onboarding_steps.get(step=Step.REGISTRATION).status == Status.NOT_STARTED


# --- Detail page --------------------------------------------------------------------------------


def test_the_detail_page_shows_accounts_people_and_the_checklist(personas, client_for):
    importer = personas.importer_a
    PortalUserFactory(importer=importer, full_name="Ada Lovelace", ccp_role="PAM")

    response = client_for(personas.broker_agent).get(importer.get_absolute_url())

    html = response.content.decode()
    assert [s["row"].step for s in response.context["steps"]] == [1, 2, 3, 4, 5, 6, 7]
    assert importer.program_accounts.get().bn15 in html
    assert "Ada Lovelace" in html
    assert html.count('action="/clients/') == 7  # one step form per step for a manager


def test_the_detail_page_reads_the_accounts_and_the_delegation_alerts_once(personas, client_for):
    """The panels take the accounts the page prefetched, and the delegation panel reads the
    alerts of the delegations and of the importer in one query (each query is about a
    millisecond of the web process's CPU: the page's cost is mostly its queries' count)."""
    importer = personas.importer_a
    delegation = DelegationFactory(importer=importer)
    for key, on, kind in (
        ("on-the-delegation", delegation, "blank_expiry"),
        ("on-the-importer", None, "no_delegation"),
    ):
        DelegationAlert.objects.create(
            importer=importer,
            delegation=on,
            kind=kind,
            severity="warning",
            message=f"Alert {key}.",
            key=key,
            raised_on=date(2026, 11, 23),
        )
    client = client_for(personas.broker_admin)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(importer.get_absolute_url())

    html = response.content.decode()
    assert '<span class="badge badge--warning">Blank expiry date</span>' in html  # in its row
    assert "Alert on-the-importer." in html
    read = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "clients_programaccount"' in sql for sql in read) == 1
    assert sum('FROM "delegation_delegationalert"' in sql for sql in read) == 1


def test_an_employee_sees_the_checklist_without_the_step_forms(personas, client_for):
    importer = personas.importer_a

    response = client_for(personas.employee_a).get(importer.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "CARM onboarding checklist" in html
    assert "Save step" not in html
    assert reverse("clients:importer_edit", args=[importer.pk]) not in html


def test_the_history_lists_who_changed_what(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.broker_agent)
    data = importer_data(legal_name=importer.legal_name, bn9=importer.bn9, status="active")
    client.post(reverse("clients:importer_edit", args=[importer.pk]), data)

    history = client.get(importer.get_absolute_url()).context["history"]

    changed = next(e for e in history if e.subject == "Importer" and e.action == "changed")
    assert changed.who == personas.broker_agent
    assert ("status", "Onboarding", "Active") in changed.changes
    assert len(history) <= 20


def test_the_history_names_the_assigned_agent_not_its_id(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.broker_admin)
    data = importer_data(
        legal_name=importer.legal_name,
        bn9=importer.bn9,
        assigned_agent=str(personas.broker_admin.pk),
    )
    client.post(reverse("clients:importer_edit", args=[importer.pk]), data)

    history = client.get(importer.get_absolute_url()).context["history"]

    changed = next(e for e in history if e.subject == "Importer" and e.action == "changed")
    assert (
        "assigned agent",
        personas.broker_agent.get_full_name(),
        personas.broker_admin.get_full_name(),
    ) in changed.changes


def test_portal_user_roles_are_shown_with_badges(personas, client_for):
    importer = personas.importer_a
    PortalUserFactory(importer=importer, ccp_role=PortalUser.CcpRole.EDITOR, access_approved=False)

    html = client_for(personas.bam_a).get(importer.get_absolute_url()).content.decode()

    assert '<span class="badge badge--role">Editor</span>' in html
    assert '<span class="badge badge--no">Pending</span>' in html


def test_a_program_account_already_recorded_is_refused(personas, client_for):
    importer = personas.importer_a
    existing = importer.program_accounts.get()

    response = client_for(personas.broker_agent).post(
        reverse("clients:account_create", args=[importer.pk]),
        {"bn15": existing.bn15, "status": "active"},
    )

    assert parse(response).errors["id_bn15"] == ["This program account is already recorded."]
    assert importer.program_accounts.count() == 1


def test_a_step_confirmation_is_one_history_entry(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.broker_agent)
    client.post(
        reverse("clients:step_update", args=[importer.pk, Step.REGISTRATION]),
        {"status": "done", "completed_on": "2025-01-15", "note": "Registered."},
    )

    history = client.get(importer.get_absolute_url()).context["history"]

    entries = [e for e in history if e.subject == "Step 5, Business registered in the CCP"]
    assert len(entries) == 1
    assert entries[0].who == personas.broker_agent
    assert ("status", "Not started", "Done") in entries[0].changes
    assert ("completed on", "—", "2025-01-15") in entries[0].changes


# --- Sign-in pages (allauth, in our layout) -----------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "heading"),
    [
        ("account_login", "<h1>Sign in</h1>"),
        ("account_reset_password", "<h1>Reset your password</h1>"),
        ("account_reset_password_done", "<h1>Check your email</h1>"),
        ("account_email_verification_sent", "<h1>Verify your email address</h1>"),
    ],
)
def test_the_sign_in_pages_use_our_layout(db, client, url_name, heading):
    response = client.get(reverse(url_name))

    html = response.content.decode()
    assert response.status_code == 200
    assert heading in html
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in html
    assert '<main id="main" class="page" tabindex="-1">' in html


@pytest.mark.parametrize("url_name", ["account_logout", "account_email", "account_change_password"])
def test_the_account_pages_of_a_signed_in_user_use_our_layout(personas, client_for, url_name):
    response = client_for(personas.broker_agent).get(reverse(url_name))

    assert response.status_code == 200
    assert '<main id="main" class="page" tabindex="-1">' in response.content.decode()


def test_a_wrong_password_is_reported_on_the_login_form(personas, client):
    response = client.post(
        reverse("account_login"), {"login": personas.broker_agent.email, "password": "nope"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in html
    assert f'value="{personas.broker_agent.email}"' in html
