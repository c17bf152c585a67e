"""Celery tasks of the shared kit: the workers' heartbeat (``carm_portal/worker_health.py``) and
the notifications' e-mails (thin wrappers of ``carm_portal.notifications``)."""

from __future__ import annotations

from celery import shared_task

from carm_portal import notifications
from carm_portal.worker_health import record_heartbeat


@shared_task(bind=True, ignore_result=True)
def heartbeat(self) -> str:
    """Record that a worker took this message from its queue (beat sends one to each queue).

    The queue is the one the message arrived on, so a worker that consumes only ``default`` never
    vouches for ``heavy``."""
    delivery = self.request.delivery_info or {}
    queue = delivery.get("routing_key") or delivery.get("exchange") or "default"
    record_heartbeat(queue=queue, hostname=self.request.hostname or "")
    return queue


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=900, max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    """One immediate e-mail; a retry after a failure, or a second delivery, sends nothing twice."""
    return notifications.send_email(notification_id)


@shared_task
def send_notification_digests() -> int:
    """The morning's digests of the notifications people asked to receive once a day."""
    return notifications.send_daily_digests()
