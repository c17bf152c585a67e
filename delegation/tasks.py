"""Celery tasks of the delegation app: thin wrappers over checks.py and notify.py."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import transaction

from carm_portal.calendar import cbsa_today
from delegation.checks import run_delegation_checks
from delegation.notify import build_digests, send_digest


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def check_delegations(today: str | None = None) -> str:
    """Daily at 06:00 Eastern: the sweep, then (after commit) the digests."""
    day = dt.date.fromisoformat(today) if today else cbsa_today()
    result = run_delegation_checks(today=day)
    transaction.on_commit(lambda: send_delegation_digests.delay(today=day.isoformat()))
    return result.summary()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_delegation_digests(today: str | None = None) -> int:
    """Build the day's digests and send each in its own task, so one bad address fails alone."""
    day = dt.date.fromisoformat(today) if today else cbsa_today()
    digest_ids = build_digests(today=day)
    for digest_id in digest_ids:
        send_delegation_digest.delay(digest_id=digest_id)
    return len(digest_ids)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_delegation_digest(digest_id: int) -> bool:
    return send_digest(digest_id)
