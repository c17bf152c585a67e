"""Sending a recorded job (carm_portal/dispatch.py): a broker that cannot be reached never raises
into the caller, and the job's row is told only when the broker took the message."""

from __future__ import annotations

import time

import pytest

from carm_portal.celery import app
from carm_portal.dispatch import send, send_on_commit
from carm_portal.models import WorkerHeartbeat
from carm_portal.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_an_unreachable_broker_is_reported_not_raised(broker_down, caplog):
    noted = []
    started = time.monotonic()

    taken = send(heartbeat, kwargs={}, on_sent=lambda: noted.append(True))

    assert taken is False
    assert noted == []
    assert time.monotonic() - started < 10  # a few quick retries, not a hung request
    assert "stays queued for the re-dispatch job" in caplog.text


def test_a_message_the_broker_takes_is_noted(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the task runs as it is sent
    noted = []

    taken = send(heartbeat, kwargs={}, on_sent=lambda: noted.append(True))

    assert taken is True
    assert noted == [True]
    assert WorkerHeartbeat.objects.filter(queue="default").exists()


def test_nothing_is_sent_before_the_transaction_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(app.conf, "task_always_eager", True)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_on_commit(heartbeat, kwargs={})
    assert not WorkerHeartbeat.objects.exists()

    for callback in callbacks:
        callback()
    assert WorkerHeartbeat.objects.count() == 1


def test_after_commit_an_unreachable_broker_does_not_raise(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_on_commit(heartbeat, kwargs={})

    assert [callback() for callback in callbacks] == [False]
