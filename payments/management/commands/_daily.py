"""What check_payments and check_security share: options, the foreground run, the summary."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from carm_portal.calendar import cbsa_today
from delegation.management.commands.check_delegations import parse_day
from payments.checks import CheckResult
from payments.notify import notify_all


class DailyCheckCommand(BaseCommand):
    task_name = ""  # payments.tasks.<name>

    def run(self, *, today) -> CheckResult:  # pragma: no cover - overridden
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Evaluate as of this date (YYYY-MM-DD, Eastern).")
        parser.add_argument("--no-email", action="store_true", help="Record alerts only.")
        parser.add_argument(
            "--enqueue", action="store_true", help="Hand the work to the Celery worker instead."
        )

    def handle(self, *args, today=None, no_email=False, enqueue=False, **options):
        day = parse_day(today) if today else cbsa_today()
        if enqueue:
            from payments import tasks

            task: Any = getattr(tasks, self.task_name)  # a Celery task (Celery is untyped)
            task.delay(today=day.isoformat())
            self.stdout.write(
                f"Queued the {self.task_name.replace('_', ' ')} for {day.isoformat()}."
            )
            return
        result = self.run(today=day)
        self.stdout.write(result.summary())
        for kind, count in sorted(result.by_kind.items()):
            self.stdout.write(f"  {kind:<28} {count:>7}")
        if not no_email:
            self.stdout.write(f"{notify_all()} alert(s) emailed.")
