"""Celery tasks of the payments app: thin wrappers over checks.py and notify.py."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import transaction

from carm_portal.calendar import cbsa_today
from payments.checks import run_payment_checks, run_security_checks
from payments.notify import importers_to_notify, notify_importer


def _day(today: str | None) -> dt.date:
    return dt.date.fromisoformat(today) if today else cbsa_today()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def check_payments(today: str | None = None) -> str:
    """Daily: payments found on new statements, balances, due/overdue alerts; then the emails."""
    result = run_payment_checks(today=_day(today))
    transaction.on_commit(send_payment_alerts.delay)
    return result.summary()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def check_security(today: str | None = None) -> str:
    """Daily: expired securities, missing or insufficient security, bonds expiring, top-ups."""
    result = run_security_checks(today=_day(today))
    transaction.on_commit(send_payment_alerts.delay)
    return result.summary()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_payment_alerts() -> int:
    """One task per importer, so one bad address fails alone."""
    importer_ids = importers_to_notify()
    for importer_id in importer_ids:
        send_importer_alerts.delay(importer_id=importer_id)
    return len(importer_ids)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_importer_alerts(importer_id: int) -> int:
    return notify_importer(importer_id)
