"""A real Celery worker (in-process thread) consuming from the configured broker.

Against Redis in CI (REDIS_URL), kombu's file-system broker on a bare machine. Each run uses its
own queue so parallel test processes sharing one Redis never take each other's tasks.
"""

import time

import pytest

from carm_portal.celery import app
from clients.models import OnboardingStep
from clients.tasks import refresh_all_checklists
from tests.factories import ImporterFactory, PortalUserFactory
from tests.worker import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_rederives_checklists_sent_through_the_broker(worker_queue, settings):
    importer = ImporterFactory()
    PortalUserFactory.create_batch(2, importer=importer)
    OnboardingStep.objects.filter(importer=importer).delete()

    refresh_all_checklists.apply_async(queue=worker_queue)

    assert wait_for(lambda: OnboardingStep.objects.filter(importer=importer).count() == 7)
    assert importer.onboarding_steps.get(step=OnboardingStep.Step.BAMS).status == "done"


def test_task_sent_twice_leaves_the_same_checklist(worker_queue):
    importer = ImporterFactory()
    OnboardingStep.objects.filter(importer=importer).delete()

    refresh_all_checklists.apply_async(queue=worker_queue)
    refresh_all_checklists.apply_async(queue=worker_queue)

    assert wait_for(lambda: OnboardingStep.objects.filter(importer=importer).count() == 7)
    time.sleep(1)  # let the second delivery finish too
    assert OnboardingStep.objects.filter(importer=importer).count() == 7


def test_daily_delegation_task_sends_digests_through_the_worker(worker_queue, settings):
    import datetime as dt

    from django.core import mail

    from clients.models import Importer
    from delegation.models import AlertDigest
    from delegation.tasks import check_delegations

    settings.CELERY_TASK_DEFAULT_QUEUE = worker_queue
    app.conf.task_default_queue = worker_queue
    importer = ImporterFactory(status=Importer.Status.ACTIVE)
    PortalUserFactory(importer=importer, email="bam@importer.example.com")
    try:
        check_delegations.apply_async(kwargs={"today": "2026-11-23"}, queue=worker_queue)
        assert wait_for(lambda: AlertDigest.objects.filter(sent_at__isnull=False).count() == 1)
    finally:
        app.conf.task_default_queue = "default"
    assert [m.to for m in mail.outbox] == [["bam@importer.example.com"]]
    assert AlertDigest.objects.get().digest_date == dt.date(2026, 11, 23)
