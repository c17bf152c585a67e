"""manage.py check_compliance [--today YYYY-MM-DD]"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from carm_portal.calendar import cbsa_today
from services.compliance.checks import run_compliance_checks


def parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "The daily compliance check: correction deadlines, late accounting, documents past "
        "retention, training refreshers and readiness follow-ups due within 7 days or overdue "
        "(their owners notified), recorded as alerts (a second run on the same day records "
        "nothing new)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Evaluate as of this date (YYYY-MM-DD, Eastern).")

    def handle(self, *args, today=None, **options):
        day = parse_day(today) if today else cbsa_today()
        result = run_compliance_checks(today=day)
        self.stdout.write(result.summary())
        for kind, count in sorted(result.by_kind.items()):
            self.stdout.write(f"  {kind:<28} {count:>7}")
