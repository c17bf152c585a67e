"""Sending a recorded job to the broker, without ever failing the request that recorded it.

Every background job of carm-portal is a database row first (an import batch, a reconciliation
run, a PDF request, all ``queued``); the Celery message only says "go and look at row N". So the
message is sent once the row is committed (``transaction.on_commit``), a broker that does not
answer costs a few quick retries and a log line, never an error page, and a job whose message was
lost stays queued in the database, where the re-dispatch job (``statements/redispatch.py``, run by
beat) finds it and sends it again. The tasks claim their row with a conditional update, so a
message sent twice runs the job once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)

# A few quick attempts (about a second and a half in all): a request must not hang on a broker that
# is down; the job is not lost, the re-dispatch job sends it later.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0}

# What a broker that cannot be reached raises: kombu wraps the transport's connection errors in
# its OperationalError; a refused or reset socket may also surface as the OS error itself.
UNREACHABLE = (BrokerError, ConnectionError, TimeoutError, OSError)


class Sendable(Protocol):
    """A Celery task, or a handle on one by name (``statements.enqueue.TaskHandle``)."""

    name: str

    def apply_async(self, *args: Any, **options: Any) -> Any: ...


def send(
    task: Sendable,
    *,
    kwargs: Mapping[str, Any],
    task_id: str | None = None,
    on_sent: Callable[[], object] | None = None,
) -> bool:
    """Send ``task`` now; return whether the broker took it. ``on_sent`` runs only if it did
    (to note on the job's row when it was sent)."""
    try:
        task.apply_async(
            kwargs=dict(kwargs), task_id=task_id, retry=True, retry_policy=RETRY_POLICY
        )
    except UNREACHABLE as exc:
        log.warning(
            "Broker unreachable; %s(%s) stays queued for the re-dispatch job: %s",
            task.name,
            dict(kwargs),
            exc,
        )
        return False
    if on_sent is not None:
        on_sent()
    return True


def send_on_commit(
    task: Sendable,
    *,
    kwargs: Mapping[str, Any],
    task_id: str | None = None,
    on_sent: Callable[[], object] | None = None,
) -> None:
    """Send ``task`` once the current transaction commits (at once outside one). ``robust``: any
    other error in sending is logged too, never raised into the request that committed the job."""
    transaction.on_commit(
        partial(send, task, kwargs=kwargs, task_id=task_id, on_sent=on_sent), robust=True
    )
