"""The workers' heartbeat and what staff see when none has been seen (carm_portal/worker_health.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carm_portal.models import WorkerHeartbeat
from carm_portal.tasks import heartbeat
from carm_portal.worker_health import record_heartbeat, worker_health

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC)


def test_no_heartbeat_ever_is_a_warning_on_every_queue(settings):
    settings.WORKER_QUEUES = ("default", "heavy")

    health = worker_health(now=NOW)

    assert not health.ok
    assert [q.queue for q in health.silent] == ["default", "heavy"]
    assert health.last_seen is None


def test_recent_heartbeats_on_every_queue_are_healthy(settings):
    settings.WORKER_HEARTBEAT_WARN_MINUTES = 5
    record_heartbeat(queue="default", hostname="w1", now=NOW - dt.timedelta(minutes=1))
    record_heartbeat(queue="heavy", hostname="w2", now=NOW - dt.timedelta(minutes=5))

    health = worker_health(now=NOW)

    assert health.ok
    assert health.last_seen == NOW - dt.timedelta(minutes=1)


def test_a_queue_silent_past_the_limit_is_named(settings):
    settings.WORKER_HEARTBEAT_WARN_MINUTES = 5
    record_heartbeat(queue="default", hostname="w1", now=NOW)
    record_heartbeat(queue="heavy", hostname="w2", now=NOW - dt.timedelta(minutes=5, seconds=1))

    health = worker_health(now=NOW)

    assert not health.ok
    assert [(q.queue, q.hostname) for q in health.silent] == [("heavy", "w2")]


def test_a_heartbeat_overwrites_its_queue_row():
    record_heartbeat(queue="default", hostname="w1", now=NOW - dt.timedelta(minutes=9))
    record_heartbeat(queue="default", hostname="w2", now=NOW)

    assert list(WorkerHeartbeat.objects.values_list("queue", "hostname", "seen_at")) == [
        ("default", "w2", NOW)
    ]


def test_health_is_one_query(django_assert_num_queries):
    record_heartbeat(queue="default", hostname="w1")

    with django_assert_num_queries(1):
        worker_health()


def test_the_task_records_the_queue_it_came_from():
    heartbeat.push_request(delivery_info={"routing_key": "heavy"}, hostname="celery@w9")
    try:
        assert heartbeat.run() == "heavy"
    finally:
        heartbeat.pop_request()

    row = WorkerHeartbeat.objects.get()
    assert (row.queue, row.hostname) == ("heavy", "celery@w9")
    assert timezone.now() - row.seen_at < dt.timedelta(seconds=5)
