"""A real Celery worker for the integration tests, and a way to wait for what it does.

Each test module gets its own queue, so parallel test processes sharing one Redis (or one
file-system broker) never take each other's tasks; tests send their tasks to that queue.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

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
