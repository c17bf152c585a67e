"""The demo seeds training records at each status, so the crawl opens every training page."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from carm_portal.calendar import cbsa_today
from services.compliance.training import status_of
from services.models import (
    Course,
    ReadinessCheck,
    ReadinessQuestion,
    TrainingCompletion,
    TrainingSession,
)

pytestmark = pytest.mark.django_db


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_the_demo_has_current_expiring_and_expired_training_and_two_sessions(tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: nothing doubles

    today = cbsa_today()
    statuses = sorted(status_of(c, today=today) for c in TrainingCompletion.objects.all())
    assert statuses == ["current", "current", "current", "expired", "expiring"]
    assert TrainingSession.objects.filter(webinar__isnull=False).count() == 1
    assert TrainingSession.objects.filter(booking__isnull=False).count() == 1


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_the_demo_fills_readiness_and_training_on_a_database_that_lost_its_defaults(
    tmp_path, settings
):
    """A flushed test database (after a transactional test) has lost what the data migration
    seeded: the demo puts the questionnaire and the courses back rather than failing."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    ReadinessQuestion.objects.all().delete()
    Course.objects.all().delete()

    call_command("seed_demo", stdout=StringIO())

    assert set(ReadinessQuestion.objects.values_list("key", flat=True)) == {
        "records_kept",
        "release_documentation",
        "security_posted",
        "delegations_current",
        "people_trained",
        "soa_reconciled",
        "bam_named",
        "payment_method",
    }
    assert sorted(Course.objects.values_list("role", flat=True)) == [
        "compliance",
        "finance",
        "operations",
    ]
    assert ReadinessCheck.objects.count() == 3  # Rideau twice, Bluenose once
    assert TrainingCompletion.objects.count() == 5
