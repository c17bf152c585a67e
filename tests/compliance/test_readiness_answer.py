"""The importer's BAM answers the readiness questions no record answers, from the importer's pages:
who may (the seven personas), what is recorded (who, when, the history), the score and the
follow-ups as a staff check with the same answers gives them, derived answers out of reach, a
refused form re-shown, the staff page naming the importer's answers, the home card, constant
queries and the French page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from services.compliance.readiness import answer_as_importer, gap_due, take_check
from services.compliance.readiness_queries import open_gaps
from services.models import ReadinessCheck, ReadinessGap, ReadinessQuestion
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 5)
TOTAL_WEIGHT = (
    17  # the default questionnaire (migration 0004), written out: see test_readiness_pages
)
# What the records answer yes for the personas' importer A: BAM named (2), SOA reconciled (2).
DERIVED_YES = 4
RELEASE = "release_documentation"  # the one default question no record answers (weight 2)


def percent(weight: int) -> Decimal:
    return (Decimal(weight) * 100 / TOTAL_WEIGHT).quantize(Decimal("0.01"))


def answer_url(importer) -> str:
    return reverse("compliance:readiness_answer", args=[importer.pk])


def open_keys(importer) -> set[str]:
    return set(
        open_gaps(ReadinessGap.objects.filter(importer=importer)).values_list(
            "question_key", flat=True
        )
    )


TABLE = [
    ("get", (403, 403, 403, 200, 403, 403, 404)),
    ("post", (403, 403, 403, 302, 403, 403, 404)),
]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("method", "persona", "expected"), persona_cases(TABLE))
def test_only_the_importers_bam_answers(personas, client_for, method, persona, expected):
    client = client_for(personas.all()[persona])
    url = answer_url(personas.importer_a)

    response = client.get(url) if method == "get" else client.post(url, {f"q_{RELEASE}": "yes"})

    assert response.status_code == expected
    if method == "post":
        assert ReadinessCheck.objects.count() == (1 if expected == 302 else 0)


@time_machine.travel(NOW, tick=False)
def test_the_bams_answer_is_recorded_with_who_and_when_and_rescored(personas, client_for):
    importer = personas.importer_a
    staff = take_check(importer, manual={RELEASE: False}, by=personas.broker_agent)
    assert staff.score == percent(DERIVED_YES) == Decimal("23.53")
    assert RELEASE in open_keys(importer)
    client = client_for(personas.bam_a)

    response = client.post(answer_url(importer), {f"q_{RELEASE}": "yes"})

    assert response.status_code == 302
    check = ReadinessCheck.objects.exclude(pk=staff.pk).get()
    assert check.score == percent(DERIVED_YES + 2) == Decimal("35.29")
    assert check.taken_by == personas.bam_a
    answer = next(a for a in check.answers if a["key"] == RELEASE)
    assert answer["yes"] is True and answer["derived"] is False
    assert answer["by_importer"] is True
    assert answer["answered_by"] == personas.bam_a.pk
    assert answer["answered_by_name"] == personas.bam_a.get_full_name()
    assert dt.datetime.fromisoformat(answer["answered_at"]) == NOW
    history = check.history.get()
    assert history.history_user == personas.bam_a
    assert history.history_change_reason == "Readiness questions answered by the importer"
    # the derived answers are the records', not the importer's
    assert all("by_importer" not in a for a in check.answers if a["key"] != RELEASE)
    # the follow-up of the "no" is closed (superseded), as a staff "yes" would close it
    assert RELEASE not in open_keys(importer)
    shown = client.get(response["Location"])
    html = shown.content.decode()
    assert "Score 35.29 % on 2026-11-05" in html
    assert "Thank you: your answers are recorded. Readiness score: 35.29 %." in html


@time_machine.travel(NOW, tick=False)
def test_the_bams_no_opens_the_follow_up_a_staff_no_opens(personas, client_for):
    importer = personas.importer_a
    staff = take_check(importer, manual={RELEASE: False}, by=personas.broker_agent)
    staff_gaps = {
        (g.question_key, g.owner_id, g.due_on) for g in ReadinessGap.objects.filter(check_run=staff)
    }
    take_check(importer, manual={RELEASE: True}, by=personas.broker_agent)
    assert RELEASE not in open_keys(importer)

    client_for(personas.bam_a).post(answer_url(importer), {f"q_{RELEASE}": "no"})

    check = ReadinessCheck.objects.order_by("-taken_at", "-id").first()
    assert check.taken_by == personas.bam_a
    assert check.score == staff.score
    gaps = {
        (g.question_key, g.owner_id, g.due_on) for g in ReadinessGap.objects.filter(check_run=check)
    }
    assert gaps == staff_gaps  # owned by A's assigned agent, due 30 days on (a business day)
    assert (RELEASE, personas.broker_agent.pk, gap_due(TODAY)) in gaps
    assert open_keys(importer) == {key for key, _owner, _due in staff_gaps}


@time_machine.travel(NOW, tick=False)
def test_derived_answers_are_not_the_bams_to_give(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.bam_a)

    page = client.get(answer_url(importer))
    assert list(page.context["form"].fields) == [f"q_{RELEASE}"]
    derived = {q["question"]: q["yes"] for q in page.context["derived"]}
    assert derived["Is financial security posted and sufficient for every RM account?"] is False

    client.post(
        answer_url(importer),
        {f"q_{RELEASE}": "yes", "q_security_posted": "yes", "q_delegations_current": "yes"},
    )

    check = ReadinessCheck.objects.get()
    answers = {a["key"]: a for a in check.answers}
    assert answers["security_posted"]["yes"] is False
    assert answers["delegations_current"]["yes"] is False
    assert answers["security_posted"]["derived"] is True
    assert check.score == percent(DERIVED_YES + 2)

    # and the domain function behind the page ignores them too, whoever calls it
    direct = answer_as_importer(
        importer, answers={RELEASE: True, "security_posted": True}, by=personas.bam_a
    )
    assert {a["key"]: a["yes"] for a in direct.answers}["security_posted"] is False
    assert direct.score == check.score


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("data", [{}, {f"q_{RELEASE}": "maybe"}, {f"q_{RELEASE}": ""}])
def test_bad_input_re_shows_the_form_and_records_nothing(personas, client_for, data):
    response = client_for(personas.bam_a).post(answer_url(personas.importer_a), data)

    assert response.status_code == 200
    assert not ReadinessCheck.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == [f"q_{RELEASE}"]
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'name="q_release_documentation"' in html


@time_machine.travel(NOW, tick=False)
def test_an_unanswered_new_question_re_shows_the_form_with_the_given_answer_kept(
    personas, client_for
):
    ReadinessQuestion.objects.create(key="broker_named", text="Is a broker named?", weight=1)

    response = client_for(personas.bam_a).post(
        answer_url(personas.importer_a), {f"q_{RELEASE}": "no"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"q_broker_named": ["Answer this question."]}
    html = response.content.decode()
    assert re.search(r'<input[^>]*name="q_release_documentation"[^>]*value="no"[^>]*checked', html)
    assert not ReadinessCheck.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_staff_page_shows_the_importers_answer_and_keeps_it_through_a_staff_check(
    personas, client_for
):
    importer = personas.importer_a
    personas.bam_a.full_name = "Bea Manager"
    personas.bam_a.save()
    client_for(personas.bam_a).post(answer_url(importer), {f"q_{RELEASE}": "yes"})
    staff = client_for(personas.broker_agent)
    url = reverse("compliance:readiness", args=[importer.pk])

    html = staff.get(url).content.decode()

    row = re.search(r"<tr><td>Is release documentation.*?</tr>", html, re.S).group(0)
    assert "Answered by the importer" in row and "Bea Manager" in row
    assert "2026-11-05" in row
    assert "Answered by staff" not in html
    assert "Answered yes by the importer (Bea Manager, 2026-11-05)" in html  # beside the field

    # a staff check leaving the answer as it was keeps it the importer's; changing it makes it staff's
    staff.post(reverse("compliance:readiness_take", args=[importer.pk]), {f"q_{RELEASE}": "yes"})
    kept = ReadinessCheck.objects.order_by("-taken_at", "-id").first()
    assert kept.taken_by == personas.broker_agent
    release = next(a for a in kept.answers if a["key"] == RELEASE)
    assert release["by_importer"] is True and release["answered_by"] == personas.bam_a.pk
    assert "Answered by the importer" in staff.get(url).content.decode()

    staff.post(reverse("compliance:readiness_take", args=[importer.pk]), {f"q_{RELEASE}": "no"})
    changed = ReadinessCheck.objects.order_by("-taken_at", "-id").first()
    release = next(a for a in changed.answers if a["key"] == RELEASE)
    assert "by_importer" not in release
    html = staff.get(url).content.decode()
    assert "Answered by the importer" not in html
    assert "Answered by staff" in html


def test_the_pdf_names_the_importers_answer(personas):
    from services.compliance import readiness_pdf

    check = answer_as_importer(personas.importer_a, answers={RELEASE: True}, by=personas.bam_a)

    html = readiness_pdf.render_html(check)

    assert "Answered by the importer" in html and personas.bam_a.get_full_name() in html


# --- The home card ------------------------------------------------------------------------------


def home_readiness(html: str, importer) -> str:
    match = re.search(
        rf'<section class="card" aria-labelledby="home-readiness-title-{importer.pk}">.*?</section>',
        html,
        re.S,
    )
    return match.group(0) if match else ""


@time_machine.travel(NOW, tick=False)
def test_the_home_card_shows_the_score_and_what_waits_on_the_bam(personas, client_for):
    importer = personas.importer_a
    take_check(importer, manual={RELEASE: False}, by=personas.broker_agent)
    client = client_for(personas.bam_a)

    card = home_readiness(client.get("/").content.decode(), importer)

    assert "Score 23.53 % on 2026-11-05" in card
    assert "1 question waits for your answer:" in card
    assert "Is release documentation (invoices, B3/CAD support, permits) kept" in card
    assert answer_url(importer) in card and "Answer the questions" in card

    client.post(answer_url(importer), {f"q_{RELEASE}": "yes"})
    card = home_readiness(client.get("/").content.decode(), importer)

    assert "Score 35.29 % on 2026-11-05" in card
    assert "waits for your answer" not in card
    assert "Review your answers" in card


def test_the_readiness_page_leads_the_bam_to_the_answers_and_not_staff(personas, client_for):
    page = reverse("compliance:readiness", args=[personas.importer_a.pk])
    url = answer_url(personas.importer_a)

    assert url in client_for(personas.bam_a).get(page).content.decode()
    assert url not in client_for(personas.broker_admin).get(page).content.decode()


@pytest.mark.parametrize("who", ["finance_a", "employee_a"])
def test_the_importers_other_people_get_no_card_and_no_form(personas, client_for, who):
    take_check(personas.importer_a, manual={RELEASE: False}, by=None)

    html = client_for(personas.all()[who]).get("/").content.decode()

    assert home_readiness(html, personas.importer_a) == ""
    assert answer_url(personas.importer_a) not in html


def test_the_bam_of_another_importer_sees_only_their_own_card(personas, client_for):
    html = client_for(personas.bam_b).get("/").content.decode()

    assert home_readiness(html, personas.importer_a) == ""
    assert answer_url(personas.importer_b) in home_readiness(html, personas.importer_b)


# --- Queries and French -------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_answer_page_runs_the_same_queries_for_one_or_many_questions_and_checks(
    personas, client_for
):
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    url = answer_url(importer)
    client.get(url)
    few = count_queries(client, url)

    for n in range(6):
        ReadinessQuestion.objects.create(key=f"extra{n}", text=f"Extra {n}?", weight=1)
    manual = {RELEASE: True, **{f"extra{n}": n % 2 == 0 for n in range(6)}}
    for _ in range(3):
        take_check(importer, manual=manual, by=personas.broker_agent)
    client.post(url, {f"q_{key}": "yes" if yes else "no" for key, yes in manual.items()})
    many = count_queries(client, url)

    assert many == few
    assert len(client.get(url).context["asked"]) == 7


def test_the_home_runs_the_same_queries_with_or_without_checks(personas, client_for):
    client = client_for(personas.bam_a)
    client.get("/")
    before = count_queries(client, "/")

    for n in range(5):
        ReadinessQuestion.objects.create(key=f"extra{n}", text=f"Extra {n}?", weight=1)
        take_check(
            personas.importer_a,
            manual={RELEASE: True, **{f"extra{m}": False for m in range(n + 1)}},
            by=None,
        )
    after = count_queries(client, "/")

    assert after == before


@time_machine.travel(NOW, tick=False)
def test_the_answer_page_and_card_read_in_french(personas, client_for):
    take_check(personas.importer_a, manual={RELEASE: False}, by=personas.broker_agent)
    client = client_for(personas.bam_a)
    with translation.override("fr"):
        page = client.get(answer_url(personas.importer_a), HTTP_ACCEPT_LANGUAGE="fr")
        home = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    card = home_readiness(home.content.decode(), personas.importer_a)

    assert "Répondre aux questions de préparation" in html
    assert "Enregistrer mes réponses" in html
    assert "Record my answers" not in html
    assert "Note de 23,53 % le 2026-11-05" in html
    assert "Préparation" in card
    with translation.override("fr"):
        client.post(
            answer_url(personas.importer_a), {f"q_{RELEASE}": "yes"}, HTTP_ACCEPT_LANGUAGE="fr"
        )
        done = client.get(answer_url(personas.importer_a), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Merci : vos réponses sont enregistrées. Note de préparation : 35,29 %." in (
        done.content.decode()
    )
    assert "1 question attend votre réponse :" in card
    assert "Répondre aux questions" in card


@time_machine.travel(NOW, tick=False)
def test_the_importers_agent_hears_of_the_answers_once_in_their_language(
    personas, django_capture_on_commit_callbacks, monkeypatch
):
    from django.core import mail

    from carm_portal import stored_text
    from carm_portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the e-mail task runs here
    from carm_portal.notification_models import Kind, Notification

    importer = personas.importer_a  # assigned to the broker agent
    with django_capture_on_commit_callbacks(execute=True):
        answer_as_importer(importer, answers={RELEASE: True}, by=personas.bam_a)

    told = Notification.objects.get(kind=Kind.READINESS_ANSWERED)
    assert told.recipient == personas.broker_agent
    assert told.url == reverse("compliance:readiness", args=[importer.pk])
    who = personas.bam_a.get_full_name()
    english = f"{importer.legal_name}: {who} answered the readiness questions; the score is now "
    assert stored_text.render(told.text) == english + "35.29 %."
    with translation.override("fr"):
        assert "35,29 %" in stored_text.render(told.text)
    assert [m.to for m in mail.outbox] == [[personas.broker_agent.email]]
    # Nobody else on the broker's side, and not the BAM who answered.
    assert Notification.objects.filter(kind=Kind.READINESS_ANSWERED).count() == 1
