"""manage.py check_delegations [--today YYYY-MM-DD] [--no-email] [--enqueue]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from carm_portal.calendar import cbsa_today
from delegation.checks import run_delegation_checks
from delegation.notify import send_digests


def parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Check every delegation, record alerts (idempotent) and send the day's email digests."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Evaluate as of this date (YYYY-MM-DD, Eastern).")
        parser.add_argument("--no-email", action="store_true", help="Record alerts only.")
        parser.add_argument(
            "--enqueue", action="store_true", help="Hand the work to the Celery worker instead."
        )

    def handle(self, *args, today=None, no_email=False, enqueue=False, **options):
        day = parse_day(today) if today else cbsa_today()
        if enqueue:
            from delegation.tasks import check_delegations

            check_delegations.delay(today=day.isoformat())
            self.stdout.write(f"Queued the delegation check for {day.isoformat()}.")
            return
        result = run_delegation_checks(today=day)
        self.stdout.write(result.summary())
        for kind, count in sorted(result.by_kind.items()):
            self.stdout.write(f"  {kind:<28} {count:>7}")
        if not no_email:
            sent = send_digests(today=day)
            self.stdout.write(f"{sent} email digest(s) sent.")
