"""``manage.py reconcile --statement ID | --all-pending [--tolerance X] [--enqueue]``.

Runs the reconciliation in the foreground (the same domain functions the worker calls) and prints
one line per statement: counts by status and the balance check. ``--enqueue`` queues the runs
for the ``heavy`` workers instead. "Pending" is defined by ``reconciliation.selectors.pending_statements``:
no current run yet, or entries imported since the current run started.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carm_portal.models import User
from statements.models import ReconciliationRun, Statement
from statements.reconciliation.descriptions import describe
from statements.reconciliation.rules import clean_tolerance
from statements.reconciliation.runs import reconcile_statements, start_reconciliations
from statements.reconciliation.selectors import pending_statements


class Command(BaseCommand):
    help = "Reconcile statements of account with the broker's entries."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--statement", metavar="ID", help="The statement's id.")
        target.add_argument(
            "--all-pending",
            action="store_true",
            help="Every statement never reconciled, or with entries imported since its last run.",
        )
        parser.add_argument(
            "--tolerance",
            metavar="AMOUNT",
            help="Differences up to this amount are 'matched within tolerance' "
            "(default RECONCILIATION_TOLERANCE).",
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue the runs for the workers instead."
        )
        parser.add_argument("--by", metavar="EMAIL", help="Record the runs as made by this user.")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            tolerance = clean_tolerance(options["tolerance"])
        except ValueError as exc:
            raise CommandError(f"--tolerance {options['tolerance']}: {exc}") from None
        user = self._user(options["by"])
        if options["statement"] is not None:
            statements = Statement.objects.filter(pk=self._statement_id(options["statement"]))
        else:
            statements = pending_statements()
        count = statements.count()
        if not count:
            self.stdout.write("No statement is pending reconciliation.")
            return
        trigger = ReconciliationRun.Trigger.COMMAND
        if options["enqueue"]:
            runs = start_reconciliations(
                statements, run_by=user, trigger=trigger, tolerance=tolerance
            )
            self.stdout.write(f"Queued {len(runs)} reconciliation(s) for the workers.")
            return
        runs = reconcile_statements(statements, run_by=user, trigger=trigger, tolerance=tolerance)
        labels = dict(
            Statement.objects.filter(pk__in=[r.statement_id for r in runs])
            .select_related("program_account")
            .values_list("pk", "program_account__bn15")
        )
        failed = 0
        for run in runs:
            line = (
                f"Statement {run.statement_id} ({labels.get(run.statement_id, '?')}), "
                f"run #{run.pk}: {describe(run)}"
            )
            if run.status == ReconciliationRun.Status.SUCCEEDED:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                failed += 1
                self.stderr.write(line)
        if failed:
            raise CommandError(f"{failed} of {len(runs)} reconciliation(s) failed.")

    def _statement_id(self, value: object) -> int:
        try:
            pk = int(str(value))
        except ValueError:
            raise CommandError(f"--statement {value}: give the statement's number.") from None
        if not Statement.objects.filter(pk=pk).exists():
            raise CommandError(f"No statement with id {pk}.")
        return pk

    def _user(self, email: object) -> User | None:
        if not email:
            return None
        user = User.objects.filter(email__iexact=str(email)).first()
        if user is None:
            raise CommandError(f"No user with the email address {email}.")
        return user
