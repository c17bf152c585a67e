"""The training pages: who gets what (the seven personas), recording completions in bulk (twice:
nothing doubles), the refresh list against dates worked out by hand, the importer page's panel and
the person's own list, the certificate read back, and French."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from html import unescape

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from clients.models import Membership
from services.compliance.training import (
    record_completion,
    record_completions,
    refresh_findings,
)
from services.models import Course, TrainingCompletion, TrainingSession
from services.training_certificate import render_certificate, render_html
from tests.factories import MembershipFactory, UserFactory
from tests.kit import persona_cases
from tests.statements.test_pdf_safety import pdf_text

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)  # 10:00 in Ottawa, 5 November 2026
TODAY = dt.date(2026, 11, 5)


@pytest.fixture(autouse=True)
def back_to_english():
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def course() -> Course:
    return Course.objects.create(name="CARM for finance teams", role="finance", refresh_months=12)


def membership(user, importer) -> Membership:
    return Membership.objects.get(user=user, importer=importer)


@pytest.fixture
def completion(personas, course) -> TrainingCompletion:
    """Importer A's finance member completed the finance course on 1 October 2026."""
    return record_completion(
        membership=membership(personas.finance_a, personas.importer_a),
        course=course,
        completed_on=dt.date(2026, 10, 1),
        by=personas.broker_agent,
        today=TODAY,
    )


# --- Who gets what ----------------------------------------------------------------------------

TABLE = [
    ("courses", "get", (200, 200, 200, 403, 403, 403, 403)),
    ("course", "get", (200, 200, 200, 403, 403, 403, 403)),
    ("due", "get", (200, 200, 200, 403, 403, 403, 403)),
    ("session_create", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("session_create", "post", (302, 302, 403, 403, 403, 403, 403)),
    ("pick", "get", (302, 302, 403, 403, 403, 403, 403)),
    ("importer", "get", (200, 200, 200, 200, 403, 403, 404)),
    ("record", "get", (200, 200, 403, 403, 403, 403, 404)),
    ("record", "post", (302, 302, 403, 403, 403, 403, 404)),
    # finance_a's own certificate: staff, A's BAM and finance_a themself; not A's employee
    ("certificate", "get", (200, 200, 200, 200, 200, 403, 404)),
]


def _url(name: str, completion: TrainingCompletion) -> str:
    importer = completion.importer_id
    return {
        "courses": reverse("compliance:training_courses"),
        "course": reverse("compliance:training_course", args=[completion.course_id]),
        "due": reverse("compliance:training_due"),
        "session_create": reverse(
            "compliance:training_session_create", args=[completion.course_id]
        ),
        "pick": reverse("compliance:training_pick")
        + f"?importer={importer}&course={completion.course_id}",
        "importer": reverse("compliance:training_importer", args=[importer]),
        "record": reverse("compliance:training_record", args=[importer]),
        "certificate": reverse("compliance:training_certificate", args=[completion.pk]),
    }[name]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, completion, name, method, persona, expected
):
    client = client_for(personas.all()[persona])
    url = _url(name, completion)
    employee = membership(personas.employee_a, personas.importer_a)
    if method == "get":
        response = client.get(url)
    elif name == "session_create":
        response = client.post(url, {"held_on": "2026-10-01", "trainer": "Ada Agent"})
    else:
        response = client.post(
            url,
            {"course": completion.course_id, "people": [employee.pk], "completed_on": "2026-11-02"},
        )
    assert response.status_code == expected
    if name == "certificate" and expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    if name == "record" and method == "post":
        recorded = TrainingCompletion.objects.filter(membership=employee).exists()
        assert recorded == (expected == 302)
    if name == "session_create" and method == "post":
        assert TrainingSession.objects.exists() == (expected == 302)


@time_machine.travel(NOW, tick=False)
def test_another_importers_bam_gets_404_for_every_training_url_of_importer_a(
    personas, client_for, completion
):
    client = client_for(personas.bam_b)
    for url in (
        reverse("compliance:training_importer", args=[personas.importer_a.pk]),
        reverse("compliance:training_record", args=[personas.importer_a.pk]),
        reverse("compliance:training_certificate", args=[completion.pk]),
        reverse("compliance:training_certificate", args=[999999]),
    ):
        assert client.get(url).status_code == 404, url


# --- Recording ----------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_recording_the_same_completion_twice_records_it_once(personas, client_for, course):
    people = [
        membership(personas.bam_a, personas.importer_a).pk,
        membership(personas.employee_a, personas.importer_a).pk,
    ]
    url = reverse("compliance:training_record", args=[personas.importer_a.pk])
    data = {"course": course.pk, "people": people, "completed_on": "2026-10-15"}
    client = client_for(personas.broker_agent)

    first = client.post(url, data, follow=True)
    second = client.post(url, data, follow=True)

    rows = TrainingCompletion.objects.filter(course=course)
    assert rows.count() == 2
    # 15 October 2026 + 12 months = 15 October 2027 (worked out by hand)
    assert set(rows.values_list("lapses_on", flat=True)) == {dt.date(2027, 10, 15)}
    assert set(rows.values_list("recorded_by", flat=True)) == {personas.broker_agent.pk}
    assert "2 completions recorded." in first.content.decode()
    assert "2 were already recorded (not recorded twice)." in second.content.decode()
    # the audit history has one "created" entry per completion, by the agent
    history = TrainingCompletion.history.filter(course_id=course.pk)
    assert [h.history_type for h in history] == ["+", "+"]
    assert {h.history_user_id for h in history} == {personas.broker_agent.pk}


@time_machine.travel(NOW, tick=False)
def test_record_completions_counts_who_was_already_recorded(personas, course):
    bam = membership(personas.bam_a, personas.importer_a)
    employee = membership(personas.employee_a, personas.importer_a)
    day = dt.date(2026, 10, 15)
    record_completions(memberships=[bam], course=course, completed_on=day, by=None, today=TODAY)

    result = record_completions(
        memberships=[bam, employee], course=course, completed_on=day, by=None, today=TODAY
    )

    assert [c.membership_id for c in result.created] == [employee.pk]
    assert result.already == [bam]
    assert TrainingCompletion.objects.count() == 2


@time_machine.travel(NOW, tick=False)
def test_bad_input_is_refused_and_the_form_shows_it_again(personas, client_for, course):
    url = reverse("compliance:training_record", args=[personas.importer_a.pk])
    client = client_for(personas.broker_agent)
    bam_b = membership(personas.bam_b, personas.importer_b)  # another importer's person
    other_course = Course.objects.create(name="Operations", role="operations")
    session = TrainingSession.objects.create(
        course=other_course, held_on=dt.date(2026, 10, 1), trainer="Ada"
    )

    future = client.post(url, {"course": course.pk, "people": [], "completed_on": "2026-12-01"})
    foreign = client.post(url, {"course": course.pk, "people": [bam_b.pk], "completed_on": "x"})
    wrong_session = client.post(
        url,
        {
            "course": course.pk,
            "people": [membership(personas.bam_a, personas.importer_a).pk],
            "completed_on": "2026-10-01",
            "session": session.pk,
        },
    )
    in_future = client.post(
        url,
        {
            "course": course.pk,
            "people": [membership(personas.bam_a, personas.importer_a).pk],
            "completed_on": "2026-12-01",
        },
    )

    assert future.status_code == foreign.status_code == wrong_session.status_code == 200
    assert "That session was of another course." in wrong_session.content.decode()
    assert "A training cannot be completed in the future." in in_future.content.decode()
    assert 'value="2026-12-01"' in in_future.content.decode()  # the input is shown again
    assert TrainingCompletion.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_webinar_session_ticks_the_people_who_attended_it(personas, client_for, course):
    from services.models import Registration, WebinarSession

    webinar = WebinarSession.objects.create(
        title="Prepare for CARM", starts_at=NOW - dt.timedelta(days=20)
    )
    Registration.objects.create(
        session=webinar,
        name="Fiona",
        email=personas.finance_a.email,
        status="confirmed",
        attended=True,
    )
    Registration.objects.create(
        session=webinar, name="Em", email=personas.employee_a.email, status="confirmed",
        attended=False,
    )  # fmt: skip
    session = TrainingSession.objects.create(
        course=course, held_on=dt.date(2026, 10, 16), trainer="Ada", webinar=webinar
    )

    response = client_for(personas.broker_agent).get(
        reverse("compliance:training_record", args=[personas.importer_a.pk]),
        {"session": session.pk},
    )

    form = response.context["form"]
    assert form.initial["people"] == [membership(personas.finance_a, personas.importer_a).pk]
    assert form.initial["completed_on"] == dt.date(2026, 10, 16)
    assert form.initial["course"] == course.pk


@time_machine.travel(NOW, tick=False)
def test_a_webinar_row_links_to_recording_its_attendees_per_importer(personas, client_for, course):
    from services.models import Registration, WebinarSession

    webinar = WebinarSession.objects.create(
        title="Prepare for CARM", starts_at=NOW - dt.timedelta(days=20)
    )
    Registration.objects.create(
        session=webinar, name="Fiona", email=personas.finance_a.email, status="confirmed",
        attended=True,
    )  # fmt: skip
    Registration.objects.create(
        session=webinar, name="Bea", email="other@example.com", user=personas.bam_b,
        status="confirmed", attended=True,
    )  # fmt: skip
    Registration.objects.create(
        session=webinar, name="Em", email=personas.employee_a.email, status="confirmed",
        attended=False,
    )  # fmt: skip
    session = TrainingSession.objects.create(
        course=course, held_on=dt.date(2026, 10, 16), trainer="Ada", webinar=webinar
    )
    page = reverse("compliance:training_course", args=[course.pk])
    record_a = reverse("compliance:training_record", args=[personas.importer_a.pk])
    record_b = reverse("compliance:training_record", args=[personas.importer_b.pk])

    html = unescape(client_for(personas.broker_agent).get(page).content.decode())
    links = re.findall(r'<a href="([^"]+)">Record completions: ([^<]+)</a>', html)
    assert links == [
        (f"{record_a}?session={session.pk}", "Alpha Imports Inc."),
        (f"{record_b}?session={session.pk}", "Bravo Trading Ltd."),
    ]
    # Broker finance sees the course but may not record: no link.
    finance_page = client_for(personas.broker_finance).get(page).content.decode()
    assert f"?session={session.pk}" not in finance_page

    form = client_for(personas.broker_agent).get(links[0][0]).context["form"]
    assert form.initial["people"] == [membership(personas.finance_a, personas.importer_a).pk]
    assert form.initial["session"] == session.pk
    assert form.initial["completed_on"] == dt.date(2026, 10, 16)


# --- The refresh list ----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_refresh_list_shows_who_lapses_within_30_days_or_has_lapsed(
    personas, client_for, course
):
    monthly = Course.objects.create(name="Monthly check", role="compliance", refresh_months=1)

    def done(user, importer, day, on=course):
        return record_completion(
            membership=membership(user, importer), course=on, completed_on=day, by=None,
            today=TODAY,
        )  # fmt: skip

    # Dates worked out by hand against 5 November 2026 (30 days later: 5 December 2026):
    expired_today = done(personas.bam_a, personas.importer_a, dt.date(2025, 11, 5))  # lapses 11-05
    edge = done(personas.finance_a, personas.importer_a, dt.date(2025, 12, 5))  # lapses 12-05
    done(personas.employee_a, personas.importer_a, dt.date(2025, 12, 6))  # lapses 12-06: not due
    done(personas.bam_b, personas.importer_b, dt.date(2025, 10, 1))  # lapsed 2026-10-01 ...
    done(personas.bam_b, personas.importer_b, dt.date(2026, 10, 1))  # ... but refreshed
    month_end = done(  # 31 October + 1 month = 30 November (the month is shorter)
        personas.bam_b, personas.importer_b, dt.date(2026, 10, 31), on=monthly
    )
    gone = UserFactory(email="left@alpha.example.com", is_active=False)
    MembershipFactory(user=gone, importer=personas.importer_a, role=Membership.Role.EMPLOYEE)
    done(gone, personas.importer_a, dt.date(2025, 1, 1))  # lapsed, but they left

    client = client_for(personas.broker_agent)
    everything = client.get(reverse("compliance:training_due"))
    expired = client.get(reverse("compliance:training_due"), {"state": "expired"})
    mine = client.get(reverse("compliance:training_due"), {"mine": "on"})

    assert month_end.lapses_on == dt.date(2026, 11, 30)
    assert [c.pk for c in everything.context["completions"]] == [
        expired_today.pk,
        month_end.pk,
        edge.pk,
    ]
    assert [c.status for c in everything.context["completions"]] == [
        "expired",
        "expiring",
        "expiring",
    ]
    assert [c.pk for c in expired.context["completions"]] == [expired_today.pk]
    # the daily reminders flag the same people, courses and lapse dates as the list
    reminded = {key for _i, key, _s, _p, _d in refresh_findings(today=TODAY)}
    assert reminded == {
        f"training:{c.membership_id}:{c.course_id}:{c.lapses_on:%Y-%m-%d}"
        for c in (expired_today, month_end, edge)
    }
    # importer A is the agent's; importer B is nobody's
    assert [c.pk for c in mine.context["completions"]] == [expired_today.pk, edge.pk]
    # A retired course asks for no refresher: off the list and out of the reminders.
    Course.objects.filter(pk__in=[course.pk, monthly.pk]).update(active=False)
    assert not client.get(reverse("compliance:training_due")).context["completions"]
    assert refresh_findings(today=TODAY) == []


@time_machine.travel(NOW, tick=False)
def test_the_refresh_list_filters_by_client_group(personas, client_for, course):
    from clients.models import ClientGroup

    group = ClientGroup.objects.create(name="Ottawa")
    personas.importer_b.client_group = group
    personas.importer_b.save()
    expired_a = record_completion(
        membership=membership(personas.bam_a, personas.importer_a),
        course=course, completed_on=dt.date(2025, 1, 5), by=None, today=TODAY,
    )  # fmt: skip
    expired_b = record_completion(
        membership=membership(personas.bam_b, personas.importer_b),
        course=course, completed_on=dt.date(2025, 1, 5), by=None, today=TODAY,
    )  # fmt: skip

    client = client_for(personas.broker_finance)
    response = client.get(reverse("compliance:training_due"), {"group": group.pk})
    garbage = client.get(reverse("compliance:training_due"), {"group": "x", "state": "<b>"})

    assert [c.pk for c in response.context["completions"]] == [expired_b.pk]
    assert garbage.status_code == 200
    assert {c.pk for c in garbage.context["completions"]} == {expired_a.pk, expired_b.pk}


# --- The importer page, the home, the certificate -----------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@time_machine.travel(NOW, tick=False)
def test_the_importer_page_shows_who_is_trained_in_a_constant_number_of_queries(
    personas, client_for, course, completion
):
    client = client_for(personas.broker_agent)
    url = personas.importer_a.get_absolute_url()
    client.get(url)
    one = _queries(client, url)
    for n in range(8):
        person = UserFactory(email=f"p{n}@alpha.example.com", full_name=f"Person {n}")
        MembershipFactory(user=person, importer=personas.importer_a, role="employee")
        record_completion(
            membership=membership(person, personas.importer_a), course=course,
            completed_on=dt.date(2025, 11, 1 + n), by=None, today=TODAY,
        )  # fmt: skip
    many = _queries(client, url)
    page = unescape(client.get(url).content.decode())

    assert many == one
    assert "Fiona Finance" in page
    assert "valid until 2027-09-30" in page  # lapses 1 October 2027: valid to the day before
    # lapses 1-5 November 2026 (lapsed on or before today), 6-8 November within 30 days
    assert "5 trainings expired · 3 expiring within 30 days" in page
    assert reverse("compliance:training_record", args=[personas.importer_a.pk]) in page


@time_machine.travel(NOW, tick=False)
def test_each_person_sees_their_own_training_on_their_home(personas, client_for, completion):
    own = client_for(personas.finance_a).get(reverse("home")).content.decode()
    colleague = client_for(personas.employee_a).get(reverse("home")).content.decode()
    certificate = reverse("compliance:training_certificate", args=[completion.pk])

    assert "CARM for finance teams" in own and certificate in own
    assert "CARM for finance teams" not in colleague and certificate not in colleague


@time_machine.travel(NOW, tick=False)
def test_the_bam_sees_the_importers_training_read_only(personas, client_for, completion):
    response = client_for(personas.bam_a).get(
        reverse("compliance:training_importer", args=[personas.importer_a.pk])
    )
    page = response.content.decode()

    assert "Fiona Finance" in page
    assert reverse("compliance:training_record", args=[personas.importer_a.pk]) not in page
    assert [r.pk for r in response.context["rows"]] == [completion.pk]


def _reference(completion: TrainingCompletion) -> str:
    """The verification reference worked out from Django's documented salted HMAC."""
    key = hashlib.sha256(("carm-training-certificate" + settings.SECRET_KEY).encode()).digest()
    facts = (
        f"{completion.pk}:{completion.membership_id}:{completion.course_id}:2026-10-01:2027-10-01"
    )
    digest = hmac.new(key, facts.encode(), hashlib.sha256).hexdigest()
    return f"TRN-{completion.pk:06d}-{digest[:10].upper()}"


@time_machine.travel(NOW, tick=False)
def test_the_certificate_reads_back_with_the_person_importer_course_and_dates(
    personas, client_for, completion
):
    response = client_for(personas.finance_a).get(
        reverse("compliance:training_certificate", args=[completion.pk])
    )
    text = pdf_text(response.content)

    for expected in (
        "Certificateofcompletion",
        "FionaFinance",
        "AlphaImportsInc.",
        "CARMforfinanceteams",
        "Completedon2026-10-01",
        "Validuntil2027-09-30",
        _reference(completion),
    ):
        assert expected in text, expected
    assert "attachment" in response["Content-Disposition"]
    assert _reference(completion) in response["Content-Disposition"]


@time_machine.travel(NOW, tick=False)
def test_a_hostile_name_is_printed_as_text_on_the_certificate(personas, course):
    hostile = UserFactory(
        email="x@alpha.example.com",
        full_name='<b>Bold</b> "Q" & {color:red} url(http://127.0.0.1:9/x)',
    )
    MembershipFactory(user=hostile, importer=personas.importer_a, role="employee")
    completion = record_completion(
        membership=membership(hostile, personas.importer_a), course=course,
        completed_on=dt.date(2026, 10, 1), by=None, today=TODAY,
    )  # fmt: skip

    html = render_html(completion)
    text = pdf_text(render_certificate(completion))

    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html
    assert re.sub(r"\s+", "", '<b>Bold</b> "Q" & {color:red} url(http://127.0.0.1:9/x)') in text


@time_machine.travel(NOW, tick=False)
def test_the_certificate_and_the_pages_are_in_french(personas, client_for, completion):
    client = client_for(personas.bam_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    pdf = client.get(reverse("compliance:training_certificate", args=[completion.pk]))
    page = client.get(reverse("compliance:training_importer", args=[personas.importer_a.pk]))
    staff = client_for(personas.broker_agent)
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    due = staff.get(reverse("compliance:training_due"))
    courses = staff.get(reverse("compliance:training_courses"))

    text = pdf_text(pdf.content)
    assert "Certificatderéussite" in text and "Validejusqu’au2027-09-30" in text
    plain = " ".join(unescape(re.sub(r"<[^>]+>", " ", page.content.decode())).split())
    assert "Qui est formé" in plain and "Who is trained" not in plain
    assert "Formation à renouveler" in due.content.decode()
    assert "Cours de formation" in courses.content.decode()


# --- The API (read only) --------------------------------------------------------------------------

API_TABLE = [
    # finance_a's completion: staff, A's BAM and finance_a themself; not A's employee nor B's BAM
    ("list", (1, 1, 1, 1, 1, 0, 0)),
    ("detail", (200, 200, 200, 200, 200, 403, 404)),
]


@pytest.mark.parametrize(("name", "persona", "expected"), persona_cases(API_TABLE))
def test_the_api_lists_training_completions_to_who_may_see_them(
    api_as, personas, completion, name, persona, expected
):
    client = api_as(persona)
    if name == "list":
        response = client.get("/api/v1/training-completions/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert len(rows) == expected
        if rows:
            assert rows[0]["completed_on"] == "2026-10-01"
            assert rows[0]["lapses_on"] == "2027-10-01"
            assert rows[0]["person"] == "finance@alpha.example.com"
    else:
        response = client.get(f"/api/v1/training-completions/{completion.pk}/")
        assert response.status_code == expected


def test_the_api_shows_a_person_their_own_completions_and_no_one_elses(
    personas, completion, course
):
    from rest_framework.test import APIClient

    """finance_a (no ``view_training``) sees their own completion only; importer B's finance
    member sees theirs, and neither sees the other's (another importer's: 404)."""
    finance_b = UserFactory(email="finance@bravo.example.com")
    MembershipFactory(user=finance_b, importer=personas.importer_b, role=Membership.Role.FINANCE)
    theirs = record_completion(
        membership=membership(finance_b, personas.importer_b),
        course=course,
        completed_on=dt.date(2026, 9, 15),
        by=personas.broker_agent,
        today=TODAY,
    )
    employee = record_completion(
        membership=membership(personas.employee_a, personas.importer_a),
        course=course,
        completed_on=dt.date(2026, 8, 3),
        by=personas.broker_agent,
        today=TODAY,
    )

    def api(user):
        client = APIClient()
        client.force_login(user)
        return client

    def seen(user):
        rows = api(user).get("/api/v1/training-completions/").json()["results"]
        return [row["id"] for row in rows]

    def detail(user, row):
        return api(user).get(f"/api/v1/training-completions/{row.pk}/").status_code

    assert seen(personas.finance_a) == [completion.pk]
    assert detail(personas.finance_a, completion) == 200
    assert detail(personas.finance_a, employee) == 403  # same importer, someone else's
    assert detail(personas.finance_a, theirs) == 404  # another importer's person

    assert seen(finance_b) == [theirs.pk]
    assert detail(finance_b, theirs) == 200
    assert detail(finance_b, completion) == 404

    assert seen(personas.employee_a) == [employee.pk]
    assert seen(personas.bam_a) == [completion.pk, employee.pk]  # A's, latest first
    assert seen(personas.bam_b) == [theirs.pk]
    assert detail(personas.bam_b, completion) == 404
    assert seen(personas.broker_agent) == [completion.pk, theirs.pk, employee.pk]


def test_the_api_gives_the_course_name_in_english_and_in_french(api_as, personas, course):
    """Both names, whatever the client's language: the French name a coordinator gave, else (a
    default course) the catalogue's, as the pages show it; both documented in the schema."""
    from services.compliance.training import ensure_default_courses

    ensure_default_courses()
    default = Course.objects.get(name="CARM compliance: records, corrections and delegations")
    course.name_fr = "La GCRA pour les équipes des finances"
    course.save()
    member = membership(personas.finance_a, personas.importer_a)
    for each in (course, default):
        record_completion(
            membership=member, course=each, completed_on=dt.date(2026, 10, 1), by=None, today=TODAY
        )
    client = api_as("broker_agent")

    rows = client.get("/api/v1/training-completions/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    names = {(row["course_name"], row["course_name_fr"]) for row in rows}
    assert names == {
        ("CARM for finance teams", "La GCRA pour les équipes des finances"),
        (
            "CARM compliance: records, corrections and delegations",
            "Conformité GCRA : dossiers, corrections et délégations",
        ),
    }
    french = client.get("/api/v1/training-completions/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert {(row["course_name"], row["course_name_fr"]) for row in french["results"]} == names

    schema = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en").json()
    fields = schema["components"]["schemas"]["TrainingCompletion"]["properties"]
    assert fields["course_name"]["description"] == "The course's name in English."
    assert fields["course_name_fr"]["description"].startswith("The course's name in French")
    assert fields["course_name_fr"]["type"] == "string"


def test_a_default_course_is_named_in_french_and_an_admins_own_name_as_typed(personas, client_for):
    """The seeded courses' names are stored in English; a French reader sees them translated
    (page, form choices), while a course an admin named shows exactly as typed."""
    from services.compliance.training import ensure_default_courses

    ensure_default_courses()  # as the data migration left them (a flushed database lacks them)
    default = Course.objects.get(name="CARM compliance: records, corrections and delegations")
    own = Course.objects.create(name="Atelier maison: CARM and you", role="finance")
    staff = client_for(personas.broker_agent)
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    page = staff.get(reverse("compliance:training_course", args=[default.pk])).content.decode()
    form = staff.get(
        reverse("compliance:training_record", args=[personas.importer_a.pk])
    ).content.decode()
    listing = staff.get(reverse("compliance:training_courses")).content.decode()

    assert "Conformité GCRA : dossiers, corrections et délégations" in unescape(page)
    assert "records, corrections and delegations" not in page
    assert "Conformité GCRA : dossiers, corrections et délégations" in unescape(form)
    assert "Atelier maison: CARM and you" in unescape(listing)
    assert own.pk
