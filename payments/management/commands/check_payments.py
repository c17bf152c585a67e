"""manage.py check_payments [--today YYYY-MM-DD] [--no-email] [--enqueue]"""

from payments.checks import run_payment_checks
from payments.management.commands._daily import DailyCheckCommand


class Command(DailyCheckCommand):
    help = (
        "Match payments found on statements, refresh balances, and record due, overdue and "
        "arrears alerts (idempotent); then email the new ones."
    )
    task_name = "check_payments"

    def run(self, *, today):
        return run_payment_checks(today=today)
