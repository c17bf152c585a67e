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
    # 06:30 daily: mark expired securities, flag RM accounts without enough security, surety
    # bonds expiring within 60 days and (20 October - 15 January) the annual-review top-ups.
    "check-security": {
        "task": "payments.tasks.check_security",
        "schedule": crontab(hour=6, minute=30),
    },
    # 06:45 daily: correction deadlines (30, 14 and 7 days left, overdue), CADs accounted late in
    # the current and previous month, and documents past retention, before the broker's day.
    "check-compliance": {
        "task": "services.compliance_tasks.check_compliance",
        "schedule": crontab(hour=6, minute=45),
    },
}
