"""Celery tasks of the clients app: thin wrappers over ``clients.onboarding``."""

from celery import shared_task

from clients.onboarding import refresh_checklists


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def refresh_all_checklists() -> int:
    """Nightly: re-derive every checklist (idempotent; writes only what changed)."""
    return refresh_checklists()
