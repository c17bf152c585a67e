"""The services app's Celery tasks: thin, idempotent, each calling one domain function."""

from __future__ import annotations

from celery import shared_task

from services.reminders import send_due_reminders


@shared_task(acks_late=True)
def send_webinar_reminders() -> int:
    """Beat, every 10 minutes: the 24-hour and 1-hour reminders (each sent once, by marker)."""
    return send_due_reminders()
