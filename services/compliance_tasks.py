"""Celery tasks of the compliance work: thin wrappers over ``services/compliance/checks.py``."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from carm_portal.calendar import cbsa_today
from services.compliance.checks import run_compliance_checks


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def check_compliance(today: str | None = None) -> str:
    """Daily at 06:45 Eastern: correction deadlines, late accounting, documents past retention."""
    day = dt.date.fromisoformat(today) if today else cbsa_today()
    return run_compliance_checks(today=day).summary()
