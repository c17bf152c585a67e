"""The notifications' Celery tasks: thin wrappers of ``carm_portal.notifications``."""

from __future__ import annotations

from celery import shared_task

from carm_portal import notifications


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=900, max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    """One immediate e-mail; a retry after a failure, or a second delivery, sends nothing twice."""
    return notifications.send_email(notification_id)


@shared_task
def send_notification_digests() -> int:
    """The morning's digests of the notifications people asked to receive once a day."""
    return notifications.send_daily_digests()
