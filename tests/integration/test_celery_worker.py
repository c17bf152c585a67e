"""A real Celery worker (in-process thread) consuming from the configured broker.

Against Redis in CI (REDIS_URL), kombu's file-system broker on a bare machine. Each run uses its
own queue so parallel test processes sharing one Redis never take each other's tasks.
"""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError

from carm_portal.celery import app
from clients.models import OnboardingStep
from clients.tasks import refresh_all_checklists
from tests.factories import ImporterFactory, PortalUserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker_queue():
    queue = f"test-{uuid.uuid4().hex[:12]}"
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        yield queue


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (
            OperationalError
        ):  # SQLite's shared in-memory test database: table locked by the worker
            pass
        time.sleep(0.2)
    return False


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
