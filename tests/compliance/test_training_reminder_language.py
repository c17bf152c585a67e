"""A refresher reminder names the course in its reader's language.

The daily check writes the reminder once, in English, with its parts (``carm_portal.stored_text``);
the course's name is one of those parts with both of its names (``stored_text.bilingual``), so a
French reader sees the French name a coordinator gave the course (a default course's name from the
catalogue when none was given) and an English reader the English name: on the compliance pages
where the reminder is shown, and in the inbox and e-mail of anyone told of it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from html import unescape

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from carm_portal import notifications
from carm_portal.celery import app
from carm_portal.notification_models import Kind as NotificationKind
from clients.models import Membership
from services.compliance.checks import run_compliance_checks
from services.compliance.training import ensure_default_courses, record_completion
from services.models import ComplianceAlert, Course
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("services.migrations.0012_training_alerts_bilingual_course")
TODAY = dt.date(2026, 11, 5)
ENGLISH = "Finance workshop: CARM statements"
FRENCH = "Atelier finances : les relevés de la GCRA"


@pytest.fixture(autouse=True)
def back_to_english():
    """The test client leaves the last request's language active in this thread: reset it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def remind(personas, course: Course) -> ComplianceAlert:
    """Fiona Finance (importer A) completed ``course`` on 2025-11-20: it lapses on 2026-11-20,
    within the reminders' 30 days of TODAY, so the check raises her refresher reminder."""
    record_completion(
        membership=Membership.objects.get(user=personas.finance_a, importer=personas.importer_a),
        course=course,
        completed_on=dt.date(2025, 11, 20),
        by=None,
        today=TODAY,
    )
    run_compliance_checks(today=TODAY)
    return ComplianceAlert.objects.get(kind=ComplianceAlert.Kind.TRAINING_REFRESH)


@pytest.fixture
def course() -> Course:
    return Course.objects.create(name=ENGLISH, name_fr=FRENCH, role="finance")


def test_the_reminder_is_stored_in_english_and_names_the_course_in_each_language(personas, course):
    alert = remind(personas, course)

    assert alert.message == (
        f"Fiona Finance's training “{ENGLISH}” lapses on 2026-11-20: plan a refresher."
    )
    with translation.override("fr"):
        assert alert.message_text == (
            f"La formation « {FRENCH} » de Fiona Finance expire le 2026-11-20 : "
            "prévoyez un rappel de formation."
        )
    with translation.override("en"):
        assert alert.message_text == alert.message


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [
        ("fr", f"La formation « {FRENCH} » de Fiona Finance expire le 2026-11-20", ENGLISH),
        ("en", f"Fiona Finance's training “{ENGLISH}” lapses on 2026-11-20", FRENCH),
    ],
    ids=["fr", "en"],
)
def test_the_compliance_pages_show_the_reminder_in_the_readers_language(
    personas, client_for, course, language, shown, not_shown
):
    remind(personas, course)
    staff = client_for(personas.broker_agent)
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    for url in (
        reverse("compliance:importer", args=[personas.importer_a.pk]),
        reverse("compliance:correction_list"),
    ):
        response = staff.get(url)
        assert response.status_code == 200
        page = text_of(response.content.decode())
        assert shown in page
        assert not_shown not in page


def test_a_default_course_without_a_french_name_reads_from_the_catalogue(personas):
    ensure_default_courses()  # as the data migration left them (a flushed database lacks them)
    default = Course.objects.get(name="CARM compliance: records, corrections and delegations")
    assert default.name_fr == ""
    alert = remind(personas, default)

    with translation.override("fr"):
        assert "« Conformité GCRA : dossiers, corrections et délégations »" in alert.message_text
    assert "“CARM compliance: records, corrections and delegations”" in alert.message_text


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def test_each_recipient_reads_the_reminder_in_their_language_in_the_inbox_and_the_email(
    personas, client_for, course, eager, django_capture_on_commit_callbacks
):
    """The reminder's stored parts, told as any notification is (``notifications.notify``):
    the inbox and the e-mail render them in each recipient's saved language."""
    alert = remind(personas, course)
    anne = UserFactory(email="anne@example.com", language="en")
    rene = UserFactory(email="rene@example.com", language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            kind=NotificationKind.READINESS_FOLLOWUP,
            recipients=[anne, rene],
            key=alert.key,
            text=alert.message_parts,
        )

    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == ["anne@example.com", "rene@example.com"]
    english, french = by_address["anne@example.com"], by_address["rene@example.com"]
    assert f"“{ENGLISH}”" in english.body and FRENCH not in english.body
    assert f"« {FRENCH} »" in french.body and ENGLISH not in french.body
    assert f"« {FRENCH} »" in unescape(french.alternatives[0][0])

    for user, shown, not_shown in (
        (anne, f"“{ENGLISH}”", FRENCH),
        (rene, f"« {FRENCH} »", ENGLISH),
    ):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = user.language
        inbox = text_of(client.get(reverse("notifications:inbox")).content.decode())
        assert shown in inbox
        assert not_shown not in inbox


def test_a_reminder_recorded_with_the_english_name_only_gets_both_names_by_the_migration(
    personas, course
):
    alert = remind(personas, course)
    parts = alert.message_parts
    parts["a"]["course"] = ENGLISH  # as the check wrote it before both names were kept
    ComplianceAlert.objects.filter(pk=alert.pk).update(message_parts=parts)
    alert.refresh_from_db()
    with translation.override("fr"):
        assert f"« {ENGLISH} »" in alert.message_text

    MIGRATION.name_both(apps, None)
    MIGRATION.name_both(apps, None)  # a second run changes nothing

    alert.refresh_from_db()
    assert alert.message_parts["a"]["course"] == {"en": ENGLISH, "fr": FRENCH}
    with translation.override("fr"):
        assert f"« {FRENCH} »" in alert.message_text
    assert alert.message_text == alert.message

    MIGRATION.name_english(apps, None)
    alert.refresh_from_db()
    assert alert.message_parts["a"]["course"] == ENGLISH
