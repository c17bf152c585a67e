"""The onboarding wizard's pages: who may open them, saving at every step, resuming after a logout,
revisiting, keeping what was typed, the live checks, finishing, and French.

The forms' rules and what each step does to the records are in ``test_wizard_steps.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from carm_portal.calendar import cbsa_today
from carm_portal.onboarding_wizard.steps import SLUGS
from clients import onboarding
from clients.models import Importer, OnboardingStep, OnboardingWizard, PortalUser
from delegation.models import Delegation
from tests.factories import ImporterFactory, PortalUserFactory, bn9_for
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db


# url name, method, expected status per persona (in the order of tests.kit.PERSONAS). ONBOARD
# belongs to the importer's BAM and the broker's admins and agents; another importer's BAM gets a
# 404. The uploaded statement is finance data (VIEW_FINANCE): a 404 here for those who may see it,
# as none was uploaded.
TABLE = [
    ("onboarding:wizard", "get", (302, 302, 403, 302, 403, 403, 404)),
    ("onboarding:step", "get", (200, 200, 403, 200, 403, 403, 404)),
    ("onboarding:step", "post", (200, 200, 403, 200, 403, 403, 404)),
    ("onboarding:done", "get", (200, 200, 403, 200, 403, 403, 404)),
    ("onboarding:done", "post", (302, 302, 403, 302, 403, 403, 404)),
    ("onboarding:validate", "post", (400, 400, 403, 400, 403, 403, 404)),
    ("onboarding:statement", "get", (404, 404, 404, 404, 404, 403, 404)),
]


def _url(name: str, importer) -> str:
    if name == "onboarding:step":
        return reverse(name, args=[importer.pk, "business"])
    return reverse(name, args=[importer.pk])


@pytest.mark.parametrize(
    ("name", "method", "persona", "expected"),
    persona_cases(TABLE),
)
def test_each_persona_gets_the_expected_status(
    personas, client_for, name, method, persona, expected
):
    client = client_for(getattr(personas, persona))
    response = getattr(client, method)(_url(name, personas.importer_a))
    assert response.status_code == expected


def test_importer_b_bam_cannot_reach_a_wizard_by_guessing(personas, client_for):
    client = client_for(personas.bam_b)
    a = personas.importer_a.pk
    for url in [
        reverse("onboarding:wizard", args=[a]),
        *(reverse("onboarding:step", args=[a, slug]) for slug in SLUGS),
        reverse("onboarding:done", args=[a]),
        reverse("onboarding:statement", args=[a]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("onboarding:step", args=[a, "bams"]), {}).status_code == 404
    assert not OnboardingWizard.objects.filter(importer=personas.importer_a).exists()


def test_anonymous_is_sent_to_sign_in(client, personas):
    response = client.get(reverse("onboarding:wizard", args=[personas.importer_a.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_an_unknown_step_is_404(personas, client_for):
    client = client_for(personas.bam_a)
    url = reverse("onboarding:step", args=[personas.importer_a.pk, "nope"])
    assert client.get(url).status_code == 404


# --- The pages ------------------------------------------------------------------------------------


def step_url(importer, slug: str) -> str:
    return reverse("onboarding:step", args=[importer.pk, slug])


def test_a_step_page_explains_and_marks_the_current_step(personas, client_for):
    client = client_for(personas.bam_a)
    response = client.get(step_url(personas.importer_a, "security"))
    html = response.content.decode()
    assert "release prior to payment" in html  # the plain-language explanation
    assert "$5,000.00" in html  # the required amount, minimum for a new importer
    assert re.search(r'<a href="[^"]+/security/" aria-current="step"', html)
    assert html.count('aria-current="step"') == 1
    assert "<legend>" in html
    assert "Save and finish later" in html


def test_the_wizard_resumes_at_the_first_step(personas, client_for):
    client = client_for(personas.bam_a)
    response = client.get(reverse("onboarding:wizard", args=[personas.importer_a.pk]))
    assert response["Location"] == step_url(personas.importer_a, "security")


def business_post(importer, **overrides):
    data = {
        "legal_name": "Alpha Imports Inc.",
        "operating_name": "Alpha",
        "bn9": importer.bn9,
        "accounts": importer.program_accounts.get().bn15,
        "address_line1": "1 Bay Street",
        "address_line2": "",
        "city": "Toronto",
        "province": "ON",
        "postal_code": "M5J 2T3",
        "broker_retrieves": "on",
    }
    data.update(overrides)
    return data


def test_errors_keep_what_was_typed_and_the_draft_is_saved(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    response = client.post(
        step_url(importer, "business"),
        business_post(importer, postal_code="H2X 1Y4", legal_name="Alpha Imports, Inc."),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_postal_code"' in html  # the summary links to the field
    assert 'value="H2X 1Y4"' in html
    assert 'value="Alpha Imports, Inc."' in html
    assert 'aria-invalid="true"' in html
    wizard = OnboardingWizard.objects.get(importer=importer)
    assert wizard.data["business"]["complete"] is False
    assert wizard.data["business"]["post"]["postal_code"] == ["H2X 1Y4"]
    assert "business" not in wizard.completed_steps
    importer.refresh_from_db()
    assert importer.legal_name == "Alpha Imports Inc."  # nothing applied


def test_resume_after_logout_lands_on_the_saved_step_with_the_answers(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    client.post(
        step_url(importer, "business"),
        {**business_post(importer, city="Mississauga"), "save_later": "1"},
    )
    client.post(reverse("account_logout"))
    assert client.get(step_url(importer, "business")).status_code == 302  # signed out

    client.force_login(personas.bam_a)  # another day, another device: a new session
    response = client.get(reverse("onboarding:wizard", args=[importer.pk]))
    assert response["Location"] == step_url(importer, "business")
    html = client.get(response["Location"]).content.decode()
    assert 'value="Mississauga"' in html
    assert 'aria-current="step"' in html


def test_save_and_finish_later_keeps_a_draft_with_errors(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    response = client.post(
        step_url(importer, "broker-access"),
        {"relationship": "PMR", "authority": "pBAM", "approved_on": "", "save_later": "1"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "still has something to correct" in response.content.decode()
    wizard = OnboardingWizard.objects.get(importer=importer)
    assert wizard.current_step == "broker-access"
    html = client.get(step_url(importer, "broker-access")).content.decode()
    assert re.search(r'value="PMR"[^>]*checked', html)  # the draft, without errors shown
    assert "needs your attention" in html
    assert 'class="error-summary"' not in html


def test_the_blank_expiry_date_is_explained_on_the_page(personas, client_for):
    client = client_for(personas.bam_a)
    response = client.post(
        step_url(personas.importer_a, "broker-access"),
        {"relationship": "BMR", "authority": "pBAM", "approved_on": "2026-11-02"},
    )
    html = response.content.decode()
    # The short error once, at the field (the summary links there without repeating it); the
    # reason a blank date is dangerous stays in the page's explanation.
    assert html.count("Enter the expiry date you chose in the CCP; it cannot be left blank.") == 1
    assert 'href="#id_expiry_date"' in html
    assert "we would lose access without warning" in html
    assert not Delegation.objects.filter(importer=personas.importer_a).exists()


def test_a_refused_statement_shows_its_error_and_keeps_the_other_answers(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    response = client.post(
        step_url(importer, "business"),
        {
            **business_post(importer, broker_retrieves="", city="Oakville"),
            "statement": SimpleUploadedFile("soa.pdf", b"not a pdf"),
        },
    )
    html = response.content.decode()
    assert "is not a readable PDF file" in html
    assert 'value="Oakville"' in html
    assert importer.program_accounts.get().bn15 in html


def test_a_statement_upload_is_kept_and_the_broker_may_download_it(
    personas, client_for, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    response = client.post(
        step_url(importer, "business"),
        {
            **business_post(importer, broker_retrieves=""),
            "statement": SimpleUploadedFile("soa.pdf", b"%PDF-1.4 soa"),
        },
    )
    assert response.status_code == 302
    html = client.get(step_url(importer, "business")).content.decode()
    assert "We have your file" in html
    # Saved again without a new file: the kept one still counts.
    assert client.post(
        step_url(importer, "business"), business_post(importer, broker_retrieves="")
    )["Location"]
    agent = client_for(personas.broker_agent)
    download = agent.get(reverse("onboarding:statement", args=[importer.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 soa"
    assert (
        client_for(personas.employee_a)
        .get(reverse("onboarding:statement", args=[importer.pk]))
        .status_code
        == 403
    )


def test_a_broker_agent_may_fill_in_the_wizard(personas, client_for):
    client = client_for(personas.broker_agent)
    response = client.post(
        step_url(personas.importer_a, "registration"),
        {"registered": "on", "registered_on": "2026-11-02"},
    )
    assert response.status_code == 302
    row = OnboardingStep.objects.get(importer=personas.importer_a, step=5)
    assert (row.status, row.confirmed_by) == ("done", personas.broker_agent)
    # "Save and finish later" takes the agent back to the importer's page, not to a home page.
    later = client.post(step_url(personas.importer_a, "registration"), {"save_later": "1"})
    assert later["Location"] == personas.importer_a.get_absolute_url()


# --- Live validation ------------------------------------------------------------------------------


def test_live_validation_of_the_business_number_and_accounts(personas, client_for):
    importer = personas.importer_a
    recorded = importer.bn9
    unrecord_bn9(importer)
    client = client_for(personas.bam_a)
    url = reverse("onboarding:validate", args=[importer.pk])
    htmx = {"HTTP_HX_REQUEST": "true"}
    ok = client.post(url, {"field": "bn9", "bn9": bn9_for(9001)}, **htmx)
    assert ok.status_code == 200
    assert "This Business Number is valid" in ok.content.decode()
    bad = client.post(url, {"field": "bn9", "bn9": "123456780"}, **htmx)
    assert "last digit does not match" in bad.content.decode()
    accounts = client.post(
        url, {"field": "accounts", "bn9": bn9_for(9001), "accounts": "123456782RM0001"}, **htmx
    )
    assert "belongs to Business Number" in accounts.content.decode()
    # Without HTMX: JSON, 400 with the field's errors.
    plain = client.post(url, {"field": "accounts", "bn9": bn9_for(9001), "accounts": "xyz"})
    assert plain.status_code == 400
    assert "accounts" in plain.json()
    Importer.objects.filter(pk=importer.pk).update(bn9=recorded)  # recorded: checked against it
    importer.bn9 = recorded
    good = client.post(
        url,
        {
            "field": "accounts",
            "bn9": importer.bn9,
            "accounts": importer.program_accounts.get().bn15,
        },
    )
    assert good.json() == {"ok": True}
    assert client.get(url).status_code == 405


def test_the_business_step_wires_the_live_checks(personas, client_for):
    client = client_for(personas.bam_a)
    html = client.get(step_url(personas.importer_a, "business")).content.decode()
    validate = reverse("onboarding:validate", args=[personas.importer_a.pk])
    assert f'hx-post="{validate}"' in html
    assert 'id="bn9-live"' in html
    assert "htmx-2.min.js" in html
    assert "to the punctuation" in html


# --- The whole walk and finishing -----------------------------------------------------------------


def walk(client, importer, *, today: dt.date) -> None:
    """Answer the seven steps as a BAM would, checking each lands on the next."""
    account = importer.program_accounts.get()

    def post(slug, data, expected_next):
        response = client.post(step_url(importer, slug), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        assert response["Location"] == expected_next

    post(
        "security",
        {
            "method": "surety_bond",
            "state": "in_force",
            "program_account": account.pk,
            "surety_company": "Trisura",
            "bond_number": "TB-1",
            "amount": "5000",
            "effective_date": (today - dt.timedelta(days=10)).isoformat(),
        },
        step_url(importer, "bams"),
    )
    post(
        "bams",
        {
            "bam1_name": "Dana Whitfield",
            "bam1_email": "bam@alpha.example.com",
            "bam1_responsibility": "payments",
            "bam2_name": "",
            "bam2_email": "",
            "bam2_responsibility": "customs",
        },
        step_url(importer, "profiles"),
    )
    dana = PortalUser.objects.get(importer=importer)
    post(
        "profiles",
        {f"p{dana.pk}_sign_in": "gckey", f"p{dana.pk}_profile": "on", "new_role": "READER"},
        # Step 4 is already done on the checklist (the broker holds the address and the
        # account): "continue" goes to the first step still open.
        step_url(importer, "registration"),
    )
    post("business", business_post(importer), step_url(importer, "registration"))
    post(
        "registration",
        {"registered": "on", "registered_on": (today - dt.timedelta(days=3)).isoformat()},
        step_url(importer, "employee-access"),
    )
    post(
        "employee-access",
        {f"p{dana.pk}_role": "BAM", f"p{dana.pk}_approved": "on"},
        step_url(importer, "broker-access"),
    )
    post(
        "broker-access",
        {
            "relationship": "BMR",
            "authority": "pBAM",
            "approved_on": today.isoformat(),
            "expiry_date": (today + dt.timedelta(days=730)).isoformat(),
        },
        reverse("onboarding:done", args=[importer.pk]),
    )


def test_walking_the_wizard_and_finishing_updates_the_checklist_and_tells_the_agent_once(
    personas, client_for, django_capture_on_commit_callbacks
):
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    done_url = reverse("onboarding:done", args=[importer.pk])
    before = client.get(done_url).content.decode()
    assert "Some steps are not answered yet" in before

    walk(client, importer, today=cbsa_today())
    review = client.get(done_url).content.decode()
    assert "Every step is answered" in review
    # The checklist's count, as on the home page: step 2 (one BAM) is not done.
    assert "6 of 7 steps done" in review

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(done_url, follow=True)
    assert "Onboarding finished" in response.content.decode()
    statuses = dict(OnboardingStep.objects.filter(importer=importer).values_list("step", "status"))
    assert statuses[1] == statuses[4] == statuses[5] == statuses[6] == statuses[7] == "done"
    assert statuses[2] == "in_progress"  # one BAM: the recommendation stands
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [personas.broker_agent.email]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(done_url)
    assert len(mail.outbox) == 1  # finishing twice does not send twice
    # After finishing, "Continue onboarding" opens the summary.
    resumed = client.get(reverse("onboarding:wizard", args=[importer.pk]))
    assert resumed["Location"] == done_url


def test_the_one_bam_warning_is_shown_after_saving(personas, client_for):
    client = client_for(personas.bam_a)
    response = client.post(
        step_url(personas.importer_a, "bams"),
        {
            "bam1_name": "Dana Whitfield",
            "bam1_email": "bam@alpha.example.com",
            "bam1_responsibility": "both",
            "bam2_responsibility": "customs",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == step_url(personas.importer_a, "profiles")
    assert "we recommend two" in response.content.decode()


def test_revisiting_a_step_shows_the_saved_answers(personas, client_for):
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    client.post(
        step_url(importer, "security"),
        {"method": "pad"},
    )
    html = client.get(step_url(importer, "security")).content.decode()
    assert re.search(r'value="pad"[^>]*checked', html)
    assert "wizard-steps__item--done" in html


def test_finishing_needs_every_step(personas, client_for):
    client = client_for(personas.bam_a)
    response = client.post(reverse("onboarding:done", args=[personas.importer_a.pk]), follow=True)
    assert "Answer every step before finishing" in response.content.decode()
    assert OnboardingWizard.objects.get(importer=personas.importer_a).finished_at is None


def test_the_broker_sees_a_link_on_the_importer_page(personas, client_for):
    url = reverse("clients:importer_detail", args=[personas.importer_a.pk])
    wizard = reverse("onboarding:wizard", args=[personas.importer_a.pk])
    assert wizard in client_for(personas.broker_agent).get(url).content.decode()


# --- French ---------------------------------------------------------------------------------------


@pytest.fixture
def back_to_english():
    """The test client leaves the last request's language active in this thread: reset it, or
    every test after this one would run in French."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_a_wizard_page_in_french(personas, client_for, back_to_english):
    client = client_for(personas.bam_a)
    response = client.get(step_url(personas.importer_a, "bams"), HTTP_ACCEPT_LANGUAGE="fr-CA")
    html = response.content.decode()
    assert '<html lang="fr' in html
    assert "Enregistrer et continuer" in html
    assert "Préparez-vous à la GCRA" in html
    assert "Accès du courtier" in html  # the step bar
    assert "Nous recommandons <strong>deux GCE</strong>" in html  # the explanation
    response = client.post(
        step_url(personas.importer_a, "broker-access"),
        {"relationship": "BMR", "authority": "pBAM", "approved_on": "2026-11-02"},
        HTTP_ACCEPT_LANGUAGE="fr-CA",
    )
    assert "elle ne peut pas rester vide" in response.content.decode()


def test_a_good_statement_is_kept_when_other_answers_are_refused(
    personas, client_for, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    importer = personas.importer_a
    client = client_for(personas.bam_a)
    response = client.post(
        step_url(importer, "business"),
        {
            **business_post(importer, broker_retrieves="", postal_code="H2X 1Y4"),
            "statement": SimpleUploadedFile("soa.csv", b"account_number,amount\n"),
        },
    )
    html = response.content.decode()
    assert "is not in ON" in html
    assert "We have your file" in html  # no need to choose it again
    assert OnboardingWizard.objects.get(importer=importer).data["business"]["statement_file"]
    response = client.post(
        step_url(importer, "business"), business_post(importer, broker_retrieves="")
    )
    assert response.status_code == 302


def test_a_finance_member_may_not_onboard(personas, client_for):
    client = client_for(personas.finance_a)
    for url in [
        reverse("onboarding:wizard", args=[personas.importer_a.pk]),
        step_url(personas.importer_a, "security"),
        reverse("onboarding:done", args=[personas.importer_a.pk]),
    ]:
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("slug", ["profiles", "employee-access"])
def test_the_people_steps_run_in_constant_queries(
    personas, client_for, django_assert_max_num_queries, slug
):
    importer = personas.importer_a
    for n in range(15):
        PortalUserFactory(
            importer=importer,
            ccp_role="READER",
            email=f"p{n}@alpha.example.com",
            full_name=f"Person {n:02d}",
        )
    client = client_for(personas.bam_a)
    client.get(step_url(importer, slug))  # creates the wizard row
    with django_assert_max_num_queries(16):  # 13-14 today, whatever the people
        response = client.get(step_url(importer, slug))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<fieldset") >= 15
    assert [n for n in range(15) if f"Person {n:02d}" in body] == list(range(15))


def test_the_committed_french_catalogue_is_compiled(tmp_path):
    """django.mo is kept in the repository (a fresh clone, CI and the image need no gettext):
    it must say what django.po says. Refresh both with `make messages`."""
    import gettext
    import shutil
    import subprocess

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (gettext) is not installed")
    locale = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "-o", str(fresh), str(locale / "django.po")], check=True)  # noqa: S603
    with (locale / "django.mo").open("rb") as kept, fresh.open("rb") as built:
        assert gettext.GNUTranslations(kept)._catalog == gettext.GNUTranslations(built)._catalog


# --- The checklist is the wizard's record ---------------------------------------------------------


def test_the_wizard_opens_on_the_checklist_the_home_page_counts(personas, client_for):
    """Home said "2 of 7 done" while the wizard said "0 of 7 answered", all "not started"."""
    from carm_portal.importer_home.cards import importer_homes

    importer = personas.importer_a
    OnboardingStep.objects.filter(importer=importer).delete()
    for step in (1, 2):
        OnboardingStep.objects.create(importer=importer, step=step, status="done")
    OnboardingStep.objects.create(importer=importer, step=3, status="in_progress")
    OnboardingWizard.objects.filter(importer=importer).delete()
    (home,) = importer_homes(user=personas.bam_a, today=cbsa_today())
    assert home.steps_done == 2

    client = client_for(personas.bam_a)
    resumed = client.get(reverse("onboarding:wizard", args=[importer.pk]))
    assert resumed["Location"] == step_url(importer, "profiles")  # the first step not done
    html = client.get(resumed["Location"]).content.decode()
    assert "2 of 7 steps done" in html
    bar = re.findall(r"wizard-steps__item--(\w+)", html)
    assert bar == ["done", "done", "progress", "todo", "todo", "todo", "todo"]
    assert "(done)" in html and "(in progress)" in html


# --- The Business Number: the broker's record, and no oracle ------------------------------------


def unrecord_bn9(importer) -> None:
    """An importer whose BN9 the broker has not recorded yet (a blank the model's save refuses)."""
    Importer.objects.filter(pk=importer.pk).update(bn9="")
    importer.bn9 = ""


def test_a_recorded_bn9_is_read_only_and_the_wizard_never_changes_it(personas, client_for):
    importer = personas.importer_a
    recorded = importer.bn9
    client = client_for(personas.bam_a)
    html = client.get(step_url(importer, "business")).content.decode()
    assert re.search(rf'<input[^>]*name="bn9"[^>]*value="{recorded}"[^>]*disabled', html)
    assert "contact your broker to change it" in html
    validate = reverse("onboarding:validate", args=[importer.pk])
    assert 'hx-vals="{&quot;field&quot;: &quot;bn9&quot;}"' not in html  # no live check
    assert f'hx-post="{validate}"' in html  # the accounts keep theirs

    other = ImporterFactory(legal_name="Bravo Secret Holdings")
    response = client.post(step_url(importer, "business"), business_post(importer, bn9=other.bn9))
    assert response.status_code == 302  # the posted number is ignored, not an error
    importer.refresh_from_db()
    assert importer.bn9 == recorded
    live = client.post(validate, {"field": "bn9", "bn9": other.bn9}, HTTP_HX_REQUEST="true")
    assert other.bn9 not in live.content.decode()
    assert "another business" not in live.content.decode()


def test_another_importers_bn9_is_refused_without_saying_so(personas, client_for):
    importer = personas.importer_a
    unrecord_bn9(importer)
    other = ImporterFactory(legal_name="Bravo Secret Holdings")
    client = client_for(personas.bam_a)
    url = step_url(importer, "business")

    taken = client.post(url, business_post(importer, bn9=other.bn9)).content.decode()
    unknown = client.post(url, business_post(importer, bn9="12345")).content.decode()
    assert "Check the Business Number, or contact your broker." in taken
    assert "already recorded" not in taken and "another business" not in taken
    assert "Bravo Secret Holdings" not in taken
    assert "has 9 digits" in unknown  # a malformed number still gets its own reason
    live = client.post(
        reverse("onboarding:validate", args=[importer.pk]),
        {"field": "bn9", "bn9": other.bn9},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Check the Business Number, or contact your broker." in live
    assert "another business" not in live

    # Flagged for the broker's staff on the wizard's pages; the BAM's page does not show it.
    assert (
        OnboardingWizard.objects.get(importer=importer).data["business"]["bn9_taken"]["bn9"]
        == other.bn9
    )
    agent = client_for(personas.broker_agent).get(url).content.decode()
    assert 'id="bn9-taken"' in agent and other.bn9 in agent
    bam_page = client_for(personas.bam_a).get(url).content.decode()
    assert 'id="bn9-taken"' not in bam_page


def test_the_step_count_agrees_in_french(personas, client_for):
    """French agrees with the number done: "1 étape sur 7 terminée", "3 étapes sur 7 terminées"."""
    client = client_for(personas.bam_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    done, total = onboarding.progress(OnboardingStep.objects.filter(importer=personas.importer_a))
    plural = "s" if done > 1 else ""

    html = client.get(step_url(personas.importer_a, "security")).content.decode()

    assert f"{done} étape{plural} sur {total} terminée{plural}" in html
