"""The training coordinator's course pages: add, edit, retire, offer again, delete.

Broker staff with ``manage_training`` (admin, agent) only; a retired course leaves the choices
where completions are recorded, while its completions and certificates stay.
"""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from clients.models import Membership
from services.compliance.training import ensure_default_courses, record_completion
from services.models import Course, TrainingCompletion, TrainingSession
from tests.kit import persona_cases
from tests.statements.test_pdf_safety import pdf_text

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)  # 10:00 in Ottawa, 5 November 2026
TODAY = dt.date(2026, 11, 5)

GOOD = {
    "name": "CARM for customs brokers' clients",
    "name_fr": "La GCRA pour les clients du courtier",
    "role": "operations",
    "refresh_months": "24",
}


@pytest.fixture(autouse=True)
def back_to_english():
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def course() -> Course:
    return Course.objects.create(
        name="Finance workshop: CARM statements",
        name_fr="Atelier finances : les relevés de la GCRA",
        role="finance",
        refresh_months=12,
    )


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


def edit_url(course: Course) -> str:
    return reverse("compliance:training_course_edit", args=[course.pk])


def record_url(personas) -> str:
    return reverse("compliance:training_record", args=[personas.importer_a.pk])


# --- Who gets what ----------------------------------------------------------------------------

ALLOWED = ("broker_admin", "broker_agent")  # the roles holding manage_training
TABLE = [
    ("create", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("create", "post", (302, 302, 403, 403, 403, 403, 403)),
    ("edit", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("edit", "post", (302, 302, 403, 403, 403, 403, 403)),
    ("retire", "post", (302, 302, 403, 403, 403, 403, 403)),
    ("offer", "post", (302, 302, 403, 403, 403, 403, 403)),
    ("delete", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("delete", "post", (302, 302, 403, 403, 403, 403, 403)),
    ("edit_missing", "get", (404, 404, 403, 403, 403, 403, 403)),
]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, course, name, method, persona, expected
):
    client = client_for(personas.all()[persona])
    if name == "offer":
        course.active = False
        course.save()
    url = {
        "create": reverse("compliance:training_course_create"),
        "edit": edit_url(course),
        "retire": reverse("compliance:training_course_retire", args=[course.pk]),
        "offer": reverse("compliance:training_course_offer", args=[course.pk]),
        "delete": reverse("compliance:training_course_delete", args=[course.pk]),
        "edit_missing": reverse("compliance:training_course_edit", args=[999999]),
    }[name]
    data = {**GOOD, "name": "Renamed"} if name == "edit" else GOOD

    response = client.get(url) if method == "get" else client.post(url, data)

    assert response.status_code == expected
    allowed = expected in (200, 302)
    course.refresh_from_db() if name != "delete" else None
    if name == "create" and method == "post":
        assert Course.objects.filter(name=GOOD["name"]).exists() == allowed
    if name == "edit" and method == "post":
        assert (course.name == "Renamed") == allowed
    if name == "retire":
        assert course.active == (not allowed)
    if name == "offer":
        assert course.active == allowed
    if name == "delete" and method == "post":
        assert Course.objects.filter(pk=course.pk).exists() == (not allowed)


def test_only_the_coordinators_see_the_links(personas, client_for, course):
    for persona, sees in (("broker_agent", True), ("broker_finance", False)):
        client = client_for(personas.all()[persona])
        listing = client.get(reverse("compliance:training_courses")).content.decode()
        page = client.get(reverse("compliance:training_course", args=[course.pk])).content.decode()
        assert (reverse("compliance:training_course_create") in listing) == sees, persona
        assert (edit_url(course) in listing) == sees, persona
        assert (edit_url(course) in page) == sees, persona


# --- Adding and editing -------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_course_added_reads_in_each_language_and_is_offered(personas, client_for):
    client = client_for(personas.broker_agent)

    response = client.post(reverse("compliance:training_course_create"), GOOD)

    course = Course.objects.get(name=GOOD["name"])
    assert response.status_code == 302
    assert response["Location"] == reverse("compliance:training_course", args=[course.pk])
    assert (course.name, course.name_fr, course.role, course.refresh_months, course.active) == (
        GOOD["name"],
        GOOD["name_fr"],
        "operations",
        24,
        True,
    )
    english = unescape(client.get(record_url(personas)).content.decode())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = unescape(client.get(record_url(personas)).content.decode())
    page = unescape(
        client.get(reverse("compliance:training_course", args=[course.pk])).content.decode()
    )
    assert GOOD["name"] in english and GOOD["name_fr"] not in english
    assert GOOD["name_fr"] in french and GOOD["name"] not in french
    assert f"<h1>{GOOD['name_fr']}" in page


BAD = [
    ({"name": "", "name_fr": ""}, ["name", "name_fr"]),
    ({"name": "   "}, ["name"]),
    ({"role": ""}, ["role"]),
    ({"role": "pilots"}, ["role"]),
    ({"refresh_months": "0"}, ["refresh_months"]),
    ({"refresh_months": "121"}, ["refresh_months"]),
    ({"refresh_months": "twelve"}, ["refresh_months"]),
    ({"refresh_months": "-3"}, ["refresh_months"]),
    ({"name": "x" * 201}, ["name"]),
    (
        {"name": "  finance WORKSHOP:  carm statements "},
        ["name"],
    ),  # the same name, offered for the role
]


@pytest.mark.parametrize(("change", "fields"), BAD)
def test_bad_input_is_a_form_error_showing_what_was_typed(
    personas, client_for, course, change, fields
):
    data = {**GOOD, "role": "finance", **change}
    before = Course.objects.count()

    response = client_for(personas.broker_agent).post(
        reverse("compliance:training_course_create"), data
    )

    assert response.status_code == 200
    assert sorted(response.context["form"].errors) == sorted(fields)
    html = response.content.decode()
    for name in ("name", "name_fr", "refresh_months"):
        typed = data[name]
        if typed.strip() and len(typed) <= 200:
            assert f'value="{typed}"' in unescape(html), name  # what was typed is shown again
    assert Course.objects.count() == before


def test_the_same_name_may_serve_another_role_or_replace_a_retired_course(
    personas, client_for, course
):
    client = client_for(personas.broker_agent)
    url = reverse("compliance:training_course_create")
    same = {**GOOD, "name": course.name}

    assert client.post(url, {**same, "role": "operations"}).status_code == 302
    course.active = False
    course.save()
    assert client.post(url, {**same, "role": "finance"}).status_code == 302
    assert Course.objects.filter(name=course.name).count() == 3


@time_machine.travel(NOW, tick=False)
def test_editing_keeps_what_was_recorded_and_a_refused_edit_keeps_the_page(
    personas, client_for, course, completion
):
    client = client_for(personas.broker_agent)

    refused = client.post(edit_url(course), {**GOOD, "refresh_months": "0"})
    saved = client.post(edit_url(course), {**GOOD, "role": "finance", "refresh_months": "6"})

    assert refused.status_code == 200
    html = unescape(refused.content.decode())
    # the page still names the course as saved, the form shows what was typed
    assert "<title>Edit the course · Finance workshop: CARM statements" in html
    assert f'value="{GOOD["name"]}"' in html and 'value="0"' in html
    assert saved.status_code == 302
    course.refresh_from_db()
    completion.refresh_from_db()
    assert (course.name, course.refresh_months) == (GOOD["name"], 6)
    # A new period applies from now on: the completion recorded keeps its lapse date.
    assert completion.lapses_on == dt.date(2027, 10, 1)
    later = record_completion(
        membership=membership(personas.bam_a, personas.importer_a),
        course=course,
        completed_on=dt.date(2026, 11, 2),
        by=personas.broker_agent,
        today=TODAY,
    )
    assert later.lapses_on == dt.date(2027, 5, 2)


def test_a_default_course_offers_its_catalogued_french_name_to_confirm(personas, client_for):
    ensure_default_courses()
    default = Course.objects.get(name="CARM compliance: records, corrections and delegations")

    form = client_for(personas.broker_agent).get(edit_url(default)).context["form"]

    assert form.initial["name_fr"] == "Conformité GCRA : dossiers, corrections et délégations"


# --- Retiring -----------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_retired_course_is_no_longer_picked_but_its_records_stay(
    personas, client_for, course, completion
):
    staff = client_for(personas.broker_agent)
    employee = membership(personas.employee_a, personas.importer_a)
    assert f'<option value="{course.pk}"' in staff.get(record_url(personas)).content.decode()

    retired = staff.post(reverse("compliance:training_course_retire", args=[course.pk]))

    course.refresh_from_db()
    assert retired.status_code == 302 and not course.active
    # Not offered where completions are recorded, even with its id in the link or the post.
    form = staff.get(record_url(personas) + f"?course={course.pk}").content.decode()
    assert f'<option value="{course.pk}"' not in form and course.name not in form
    posted = staff.post(
        record_url(personas),
        {"course": course.pk, "people": [employee.pk], "completed_on": "2026-11-02"},
    )
    assert posted.status_code == 200 and "course" in posted.context["form"].errors
    assert not TrainingCompletion.objects.filter(membership=employee).exists()
    # What was recorded stays: the importer's page, the person's home, the certificate.
    importer_page = staff.get(
        reverse("compliance:training_importer", args=[personas.importer_a.pk])
    )
    assert [r.pk for r in importer_page.context["rows"]] == [completion.pk]
    own = client_for(personas.finance_a)
    certificate = reverse("compliance:training_certificate", args=[completion.pk])
    assert certificate in own.get(reverse("home")).content.decode()
    pdf = own.get(certificate)
    assert pdf.status_code == 200 and "Financeworkshop:CARMstatements" in pdf_text(pdf.content)
    # The course list and its page still show it, as no longer offered.
    staff = client_for(personas.broker_agent)  # the one test client, signed in again
    listing = staff.get(reverse("compliance:training_courses")).content.decode()
    assert course.name in listing and "No longer offered" in listing

    staff.post(reverse("compliance:training_course_offer", args=[course.pk]))
    assert f'<option value="{course.pk}"' in staff.get(record_url(personas)).content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_course_with_records_is_not_deleted(personas, client_for, course, completion):
    client = client_for(personas.broker_agent)
    url = reverse("compliance:training_course_delete", args=[course.pk])

    asked = client.get(url)
    refused = client.post(url)

    assert asked.status_code == 200 and "cannot be deleted" in asked.content.decode()
    assert refused.status_code == 409 and "Retire it instead" in refused.content.decode()
    assert Course.objects.filter(pk=course.pk).exists()
    assert TrainingCompletion.objects.filter(pk=completion.pk).exists()
    assert url not in client.get(edit_url(course)).content.decode()  # no link offered


def test_a_course_with_only_a_session_is_not_deleted(personas, client_for, course):
    TrainingSession.objects.create(course=course, held_on=dt.date(2026, 10, 1), trainer="Ada")

    response = client_for(personas.broker_agent).post(
        reverse("compliance:training_course_delete", args=[course.pk])
    )

    assert response.status_code == 409
    assert Course.objects.filter(pk=course.pk).exists()


def test_a_course_nothing_names_is_deleted_after_asking(personas, client_for, course):
    client = client_for(personas.broker_agent)
    url = reverse("compliance:training_course_delete", args=[course.pk])
    assert url in client.get(edit_url(course)).content.decode()

    asked = client.get(url)
    deleted = client.post(url)

    assert asked.status_code == 200 and "cannot be undone" in asked.content.decode()
    assert deleted.status_code == 302
    assert deleted["Location"] == reverse("compliance:training_courses")
    assert not Course.objects.filter(pk=course.pk).exists()


def test_the_course_pages_read_in_french(personas, client_for, course):
    client = client_for(personas.broker_agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    create = unescape(client.get(reverse("compliance:training_course_create")).content.decode())
    edit = unescape(client.get(edit_url(course)).content.decode())

    assert "Ajouter un cours" in create and "Nom en français" in create
    assert "Retirer le cours" in edit and "Atelier finances : les relevés de la GCRA" in edit
