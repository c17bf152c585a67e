"""The Celery tasks are thin: the daily check, then (after commit) one email task per importer."""

import datetime as dt

import pytest
from django.core import mail

from carm_portal.celery import app
from payments.models import PaymentAlert
from payments.tasks import check_payments, check_security
from tests.payments.conftest import make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_daily_payment_task_checks_then_emails(
    personas, eager, django_capture_on_commit_callbacks
):
    make_statement(personas.importer_a.program_accounts.get(), dt.date(2026, 10, 25), "100.00")

    with django_capture_on_commit_callbacks(execute=True):
        summary = check_payments.apply(kwargs={"today": "2026-12-03"}).get()

    assert summary.startswith("2026-12-03: payments: 1 checked; 2 findings, 2 new alerts")
    assert len(mail.outbox) == 1
    assert PaymentAlert.objects.filter(notified_at=None).count() == 0


def test_the_daily_security_task(personas, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = check_security.apply(kwargs={"today": "2026-12-03"}).get()

    assert summary.startswith("2026-12-03: financial security: 2 checked; 0 findings")
    assert mail.outbox == []


def test_both_checks_are_in_the_beat_schedule():
    schedule = app.conf.beat_schedule

    assert schedule["check-payments"]["task"] == "payments.tasks.check_payments"
    assert schedule["check-security"]["task"] == "payments.tasks.check_security"
