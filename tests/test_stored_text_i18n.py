"""Alerts and checklist summaries are written once, in English, and read in the reader's language.

The daily checks store each alert's sentence untranslated (``message_parts``) next to its English
text (``message``), and the checklist does the same for step summaries; pages render the parts in
the active language (``carm_portal/stored_text.py``). Rows written before the parts existed still
show their stored text.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from carm_portal import stored_text as later
from carm_portal.money import format_money
from clients.models import Importer, OnboardingStep
from clients.onboarding import refresh_checklist, set_step_status
from delegation.checks import run_delegation_checks
from delegation.models import DelegationAlert
from delegation.rules import bam_parts
from payments.models import PaymentAlert
from payments.rules import Finding as PaymentFinding
from payments.rules import Kind as PaymentKind
from payments.rules import Severity as PaymentSeverity
from tests.factories import DelegationFactory

TODAY = dt.date(2026, 10, 27)
HOME = reverse("home")
SET_LANGUAGE = reverse("set_language")


@pytest.fixture(autouse=True)
def back_to_english():
    """The test client leaves the last request's language active in this thread: reset it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 10, 27, 15, tzinfo=dt.UTC))


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def page(client, url: str, language: str) -> str:
    client.post(SET_LANGUAGE, {"language": language, "next": url})
    response = client.get(url)
    assert response.status_code == 200
    return text_of(response.content.decode())


def in_french(parts) -> str:
    with translation.override("fr"):
        return later.render(parts)


@pytest.fixture
def expiring(personas):
    """A delegation of importer A ending in nine days, and the alert the check raises, in English."""
    delegation = DelegationFactory(
        importer=personas.importer_a,
        expiry_date=TODAY + dt.timedelta(days=9),
    )
    run_delegation_checks(today=TODAY, importer_ids=[personas.importer_a.pk])
    alert = DelegationAlert.objects.get(delegation=delegation, kind__startswith="expires_within")
    return delegation, alert


# --- Stored once, in English, with its parts -----------------------------------------------------


def test_the_check_stores_the_english_sentence_and_its_parts(expiring):
    _delegation, alert = expiring
    assert alert.message.startswith("Expires on 2026-11-05 (9 days left).")
    assert alert.message_parts["a"] == {"day": {"d": "2026-11-05", "f": "DATE_FORMAT"}, "left": 9}
    french = in_french(alert.message_parts)
    assert french != alert.message
    assert "2026-11-05" in french  # ISO 8601 in both languages (carm_portal/formats)


def test_the_english_text_is_stored_even_when_a_french_request_triggers_the_write(personas):
    personas.importer_a.status = Importer.Status.ACTIVE
    personas.importer_a.save()
    with translation.override("fr"):
        run_delegation_checks(today=TODAY, importer_ids=[personas.importer_a.pk])
        refresh_checklist(personas.importer_a)
    alert = DelegationAlert.objects.get(importer=personas.importer_a, kind="no_delegation")
    assert alert.message.startswith("No delegation to the broker is on record")
    step = OnboardingStep.objects.get(importer=personas.importer_a, step=7)
    assert step.summary == "No delegation to the broker on record yet."


# --- Shown in the reader's language --------------------------------------------------------------


def test_the_importer_home_shows_the_alert_in_french_then_in_english(
    personas, client_for, expiring
):
    _delegation, alert = expiring
    client = client_for(personas.bam_a)
    # The BAM reads the sentence addressed to her ("extend it"), built from the stored parts.
    to_bam = bam_parts(alert.kind, alert.message_parts)
    french = page(client, HOME, "fr")
    assert in_french(to_bam) in french
    assert in_french(alert.message_parts) not in french
    english = page(client, HOME, "en")
    assert alert.message_for_bam in english
    assert "Extend it in the CCP before then." in english
    assert alert.message not in english


def test_the_delegation_page_shows_the_alert_in_french_then_in_english(
    personas, client_for, expiring
):
    delegation, alert = expiring
    client = client_for(personas.broker_agent)
    url = reverse("delegation:detail", args=[delegation.pk])
    french = page(client, url, "fr")
    assert in_french(alert.message_parts) in french
    assert alert.message not in french
    assert alert.message in page(client, url, "en")


def test_the_checklist_shows_step_summaries_in_french_then_in_english(personas, client_for):
    refresh_checklist(personas.importer_a)
    step = OnboardingStep.objects.get(importer=personas.importer_a, step=7)
    assert step.summary == "No delegation to the broker on record yet."
    client = client_for(personas.broker_agent)
    url = reverse("clients:importer_detail", args=[personas.importer_a.pk])
    french = page(client, url, "fr")
    assert "Aucune délégation" in in_french(step.summary_parts)
    assert in_french(step.summary_parts) in french
    assert step.summary not in french
    assert step.summary in page(client, url, "en")


def test_a_blocked_step_shows_the_persons_note_as_written(personas):
    set_step_status(
        importer=personas.importer_a,
        step=2,
        status=OnboardingStep.Status.BLOCKED,
        by=personas.broker_agent,
        note="BAM on leave",
    )
    step = OnboardingStep.objects.get(importer=personas.importer_a, step=2)
    with translation.override("fr"):
        assert step.summary_text == "BAM on leave"


def test_amounts_and_nested_words_are_rendered_in_french():
    finding = PaymentFinding(
        kind=PaymentKind.INSUFFICIENT,
        severity=PaymentSeverity.BLOCKING,
        importer_id=1,
        key="k",
        amount=Decimal("2500.00"),
        details=("123456782RM0001", Decimal("5000.00"), Decimal("7500.00"), "surety_bond"),
    )
    with translation.override("fr"):
        french = finding.message
        assert format_money(Decimal("7500.00")) in french
        assert "cautionnement" in french
    assert "$7,500.00" in later.render_stored(finding.parts)
    assert "surety bond" in later.render_stored(finding.parts)


# --- Rows from before the parts were kept ---------------------------------------------------------


def test_old_rows_without_parts_show_their_stored_text(personas, client_for):
    alert = DelegationAlert.objects.create(
        importer=personas.importer_a,
        kind="expired",
        severity="blocking",
        message="An alert from before the parts were kept.",
        key="old:expired:blank",
        raised_on=TODAY,
    )
    payment = PaymentAlert.objects.create(
        importer=personas.importer_a,
        kind="overdue",
        severity="blocking",
        message="A payment alert from before.",
        key="old:overdue",
        raised_on=TODAY,
        raised_at=timezone.now(),
    )
    refresh_checklist(personas.importer_a)
    OnboardingStep.objects.filter(importer=personas.importer_a, step=7).update(
        summary="A summary from before.", summary_parts=None
    )
    step = OnboardingStep.objects.get(importer=personas.importer_a, step=7)
    with translation.override("fr"):
        assert alert.message_text == "An alert from before the parts were kept."
        assert payment.message_text == "A payment alert from before."
        assert step.summary_text == "A summary from before."
    french = page(client_for(personas.bam_a), HOME, "fr")
    assert "An alert from before the parts were kept." in french


# --- Idempotent: reruns add nothing --------------------------------------------------------------


def test_running_the_checks_twice_adds_no_alert_and_no_history(personas, expiring):
    importer = personas.importer_a
    refresh_checklist(importer)
    alerts = DelegationAlert.objects.filter(importer=importer)
    steps = OnboardingStep.objects.filter(importer=importer)
    before = (
        list(alerts.values_list("id", "message", "message_parts")),
        DelegationAlert.history.filter(importer_id=importer.pk).count(),
        list(steps.values_list("id", "summary", "summary_parts")),
        OnboardingStep.history.filter(importer_id=importer.pk).count(),
    )
    result = run_delegation_checks(today=TODAY, importer_ids=[importer.pk])
    refresh_checklist(importer)
    assert (result.raised, result.reopened, result.resolved) == (0, 0, 0)
    after = (
        list(alerts.values_list("id", "message", "message_parts")),
        DelegationAlert.history.filter(importer_id=importer.pk).count(),
        list(steps.values_list("id", "summary", "summary_parts")),
        OnboardingStep.history.filter(importer_id=importer.pk).count(),
    )
    assert after == before


def test_a_checklist_refresh_in_french_does_not_rewrite_the_summaries(personas):
    refresh_checklist(personas.importer_a)
    history = OnboardingStep.history.filter(importer_id=personas.importer_a.pk).count()
    with translation.override("fr"):
        refresh_checklist(personas.importer_a)
    assert OnboardingStep.history.filter(importer_id=personas.importer_a.pk).count() == history


def test_the_sweep_that_expires_a_delegation_rewrites_step_7_with_its_parts(personas):
    """The set-based path (``apply_derivations``/``update_rows``) writes the parts too."""
    DelegationFactory(importer=personas.importer_a, expiry_date=TODAY - dt.timedelta(days=1))
    refresh_checklist(personas.importer_a)
    OnboardingStep.objects.filter(importer=personas.importer_a, step=7).update(
        summary="Before the sweep.", summary_parts=None
    )
    result = run_delegation_checks(today=TODAY, importer_ids=[personas.importer_a.pk])
    assert result.marked_expired == 1
    step = OnboardingStep.objects.get(importer=personas.importer_a, step=7)
    assert step.summary == "The delegation expired; the importer must grant access again."
    assert step.summary_parts == {"t": step.summary}
    with translation.override("fr"):
        assert step.summary_text != step.summary


def test_a_payment_alert_names_the_method_in_the_readers_language(personas):
    from payments.checks import run_payment_checks
    from payments.records import record_payment

    account = personas.importer_a.program_accounts.get()
    record_payment(
        importer=personas.importer_a,
        program_account=account,
        amount=Decimal("812.40"),
        method="cheque",
        paid_on=dt.date(2026, 11, 20),
        by=None,
    )
    run_payment_checks(today=dt.date(2026, 12, 7))
    alert = PaymentAlert.objects.get(kind="not_posted")
    assert "$812.40 by cheque on 2026-11-20" in alert.message
    with translation.override("fr"):
        french = alert.message_text
        assert format_money(Decimal("812.40")) in french  # 812,40 $: formatted when shown
    assert "by cheque" not in french
    assert "chèque" in french


def test_parts_that_cannot_be_rendered_fall_back_to_the_stored_text():
    alert = DelegationAlert(message="Stored.", message_parts={"t": "%(gone)s", "a": {}})
    assert alert.message_text == "Stored."


@pytest.mark.parametrize(
    ("language", "parts", "shown"),
    [
        ("fr", later.bilingual("Finance workshop", "Atelier finances"), "Atelier finances"),
        ("fr-ca", later.bilingual("Finance workshop", "Atelier finances"), "Atelier finances"),
        ("en", later.bilingual("Finance workshop", "Atelier finances"), "Finance workshop"),
        ("fr", later.bilingual("Finance workshop"), "Finance workshop"),  # no French name
        ("fr", later.bilingual("Paid in full"), "Payé en entier"),  # a catalogue entry
    ],
)
def test_a_bilingual_name_is_shown_in_the_readers_language(language, parts, shown):
    with translation.override(language):
        assert later.render(parts) == shown
    assert later.render_stored(parts) == parts["en"]
