"""The Celery app and the one beat schedule of carm-portal.

Tasks are thin (ids in, one domain function called); heavy work (imports, reconciliation, PDFs)
is routed to the ``heavy`` queue so a big statement never delays an expiry alert.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")

app = Celery("carm_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, in one place. Times are Eastern (CELERY_TIMEZONE = TIME_ZONE), like CBSA's.
app.conf.beat_schedule = {
    # 02:30 nightly: re-derive every importer's onboarding checklist, so a change made outside the
    # app's own forms (admin bulk edits, data fixes) still shows up by morning.
    "refresh-onboarding-checklists": {
        "task": "clients.tasks.refresh_all_checklists",
        "schedule": crontab(hour=2, minute=30),
    },
    # 06:00 daily: flag blank, soon-expiring and expired delegations before the broker's day
    # starts, mark the expired ones, and email the day's digests (after the sweep commits).
    "check-delegations": {
        "task": "delegation.tasks.check_delegations",
        "schedule": crontab(hour=6, minute=0),
    },
    # 06:15 daily: match the payments CBSA shows on newly imported statements, refresh what each
    # statement still owes, raise the due-in-5-weekdays, due-today, overdue and 30-day arrears
    # alerts (idempotent), then email the new ones before the day's payments are made.
    "check-payments": {
        "task": "payments.tasks.check_payments",
        "schedule": crontab(hour=6, minute=15),
    },
    # Every minute: send again the queued imports and reconciliation runs whose message never
    # reached a worker (the broker was down when they were queued), was lost, or was taken by a
    # worker that died (statements/redispatch.py). Idempotent: a job runs once however often sent.
    "redispatch-queued-jobs": {
        "task": "statements.tasks.redispatch_queued_jobs",
        "schedule": crontab(),
    },
    # Every minute, once on each queue: the worker that takes it records a heartbeat, so staff
    # are warned when no worker has been seen (carm_portal/worker_health.py). Expires before the
    # next one is sent, so a queue without a worker does not pile them up.
    "worker-heartbeat": {
        "task": "carm_portal.tasks.heartbeat",
        "schedule": crontab(),
        "options": {"queue": "default", "expires": 55},
    },
    "worker-heartbeat-heavy": {
        "task": "carm_portal.tasks.heartbeat",
        "schedule": crontab(),
        "options": {"queue": "heavy", "expires": 55},
    },
    # 06:30 daily: mark expired securities, flag RM accounts without enough security, surety
    # bonds expiring within 60 days and (20 October - 15 January) the annual-review top-ups, and
    # store each account's forecast at the next review (the snapshot /payments/forecast/ reads).
    "check-security": {
        "task": "payments.tasks.check_security",
        "schedule": crontab(hour=6, minute=30),
    },
    # 07:00 daily: e-mail each person who chose "daily digest" for a kind of notification the
    # day's events they were told of (idempotent: each row is e-mailed once).
    "send-notification-digests": {
        "task": "carm_portal.tasks.send_notification_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Every 10 minutes: webinar reminders 24 hours and 1 hour before each session. Each is
    # claimed by its marker before it is sent, so overlapping runs never send one twice.
    "send-webinar-reminders": {
        "task": "services.tasks.send_webinar_reminders",
        "schedule": crontab(minute="*/10"),
    },
    # 06:45 daily: correction deadlines (30, 14 and 7 days left, overdue), CADs accounted late in
    # the current and previous month, and documents past retention, before the broker's day.
    "check-compliance": {
        "task": "services.compliance_tasks.check_compliance",
        "schedule": crontab(hour=6, minute=45),
    },
}
