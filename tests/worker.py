"""A real Celery worker for the integration tests, and a way to wait for what it does.

Each test module gets its own queue, so parallel test processes sharing one Redis (or one
file-system broker) never take each other's tasks; tests send their tasks to that queue.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError

from carm_portal.celery import app


@pytest.fixture(scope="module")
def worker_queue() -> Iterator[str]:
    queue = f"test-{uuid.uuid4().hex[:12]}"
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        yield queue


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:  # SQLite's shared test database, locked by the worker
            pass
        time.sleep(0.2)
    return False


# A port nothing listens on: the broker "down" (connection refused at once).
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@contextlib.contextmanager
def broker_at(url: str, transport_options: dict[str, Any] | None = None) -> Iterator[None]:
    """Point the Celery app (already configured from settings) at another broker, then back.

    The app caches its connection pool and producer pool: both are dropped on the way in and out.
    """
    saved = (app.conf.broker_url, app.conf.broker_transport_options)

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    reset()
    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options or {}
    try:
        yield
    finally:
        reset()
        app.conf.broker_url, app.conf.broker_transport_options = saved


@pytest.fixture
def broker_down() -> Iterator[str]:
    """The broker cannot be reached for the duration of the test."""
    with broker_at(CLOSED_PORT_BROKER):
        yield CLOSED_PORT_BROKER
