"""Celery tasks of the shared kit: the workers' heartbeat (``carm_portal/worker_health.py``)."""

from __future__ import annotations

from celery import shared_task

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
