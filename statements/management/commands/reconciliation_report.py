"""manage.py reconciliation_report --statement ID [--run ID] --format pdf|csv --output FILE.

Writes the report of a statement's current reconciliation run (or of ``--run``) in the
foreground, with the same functions the pages use (``statements/reports.py``).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from statements import balance as balances
from statements import reports
from statements.models import ReconciliationRun, Statement
from statements.reconciliation.selectors import current_run


class Command(BaseCommand):
    help = (
        "Write the reconciliation report of a statement as PDF or CSV (columns and status codes "
        "in docs/formats.md). The statement's current run unless --run names another."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--statement", required=True, type=int, metavar="ID")
        parser.add_argument(
            "--run", type=int, metavar="ID", help="A run of that statement (default: the current)."
        )
        parser.add_argument("--format", required=True, choices=["pdf", "csv"], dest="fmt")
        parser.add_argument("--output", required=True, metavar="FILE")

    def handle(
        self, *args: object, statement: int, run: int | None, fmt: str, output: str, **options
    ) -> None:
        try:
            soa = Statement.objects.select_related("program_account__importer").get(pk=statement)
        except Statement.DoesNotExist:
            raise CommandError(f"No statement with id {statement}.") from None
        runs = ReconciliationRun.objects.filter(statement=soa).select_related("run_by")
        if run is None:
            chosen = current_run(soa)
            if chosen is None:
                raise CommandError(
                    f"Statement {statement} has not been reconciled yet: "
                    f"run `manage.py reconcile --statement {statement}` first."
                )
        else:
            chosen = runs.filter(pk=run).first()
            if chosen is None:
                raise CommandError(f"Statement {statement} has no run with id {run}.")
            if chosen.status != ReconciliationRun.Status.SUCCEEDED:
                raise CommandError(
                    f"Run {run} did not succeed ({chosen.status}): it has no report."
                )
        chosen.statement = soa
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"No such directory: {path.parent}")
        if path.is_dir():
            raise CommandError(f"{output} is a directory; give a file name.")
        check = balances.check(soa)  # the stated closing and the previous statement's closing
        try:
            if fmt == "csv":
                with path.open("w", encoding="utf-8", newline="") as file:
                    count = reports.write_csv(chosen, file)
                size = path.stat().st_size
                what = f"{count} items"
            else:
                started = timezone.now()
                data = reports.render_pdf(chosen)
                path.write_bytes(data)
                reports.keep_pdf(chosen, data, rendered_at=started)  # filed, as the page's is
                size = len(data)
                what = f"{chosen.item_count} items"
        except PermissionError:
            raise CommandError(f"Cannot write {output}: permission denied.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{fmt.upper()} of run #{chosen.pk} ({soa.program_account.bn15}, statement of "
                f"{soa.statement_date.isoformat()}): {what}, {chosen.exception_count} exceptions, "
                f"balance {_balance_text(chosen, check)}"
                f" -> {output} ({size:,} bytes)"
            )
        )


def _balance_text(run: ReconciliationRun, check: balances.StatementBalance) -> str:
    """``ok``, or what is off: the lines (the run's sums) and each difference of the check."""
    off = [f"lines off by {run.balance_difference}"] if run.balance_difference else []
    if not run.balance_ok and not off and not check.differences:
        off = ["not checked out"]  # (an opening-balance line that disagrees with the statement)
    off += [f"{finding.code} {finding.difference}" for finding in check.differences]
    return ", ".join(off) if off else "ok"
