"""manage.py check_security [--today YYYY-MM-DD] [--no-email] [--enqueue]"""

from payments.checks import run_security_checks
from payments.management.commands._daily import DailyCheckCommand


class Command(DailyCheckCommand):
    help = (
        "Mark expired securities and record missing or insufficient security, bonds expiring "
        "within 60 days and annual-review top-ups (idempotent); then email the new alerts."
    )
    task_name = "check_security"

    def run(self, *, today):
        return run_security_checks(today=today)
