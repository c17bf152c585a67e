"""What ``import_statement`` and ``import_entries`` share: run one file, say what happened."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carm_portal.models import User
from statements.importing.batches import import_path
from statements.models import ImportBatch

SHOWN_ERRORS = 25


class ImportCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file (UTF-8; see docs/formats.md).")
        parser.add_argument(
            "--by", metavar="EMAIL", help="Record the import as made by this user (default: none)."
        )

    def handle(self, *args: object, file: str, by: str | None = None, **options: object) -> None:
        path = Path(file)
        if not path.exists():
            raise CommandError(f"No such file: {file}")
        if not path.is_file():
            raise CommandError(f"Not a file: {file}")
        user = None
        if by:
            user = User.objects.filter(email__iexact=by).first()
            if user is None:
                raise CommandError(f"No user with the email address {by}.")
        try:
            result = import_path(kind=self.kind, path=path, user=user)
        except PermissionError:
            raise CommandError(f"Cannot read {file}: permission denied.") from None
        batch = result.batch
        if result.already_imported:
            self.stdout.write(self.style.WARNING(result.message))
            return
        for warning in batch.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        if batch.status == ImportBatch.Status.ACCEPTED:
            self.stdout.write(
                self.style.SUCCESS(f"{path.name} (batch #{batch.pk}): {batch.message}")
            )
            return
        self._report_refusal(batch)

    def _report_refusal(self, batch: ImportBatch) -> None:
        write = self.stderr.write
        shown = batch.errors[:SHOWN_ERRORS]
        for error in shown:
            where = f"row {error['row']}" if error["row"] else "file"
            column = f", {error['column']}" if error["column"] else ""
            value = f" ({error['value']!r})" if error["value"] else ""
            write(f"  {where}{column}{value}: {error['reason']}")
        rest = batch.error_count - len(shown)
        if rest > 0:
            write(f"  … and {rest} more (every listed one is on the batch page).")
        raise CommandError(f"{batch.file_name} (batch #{batch.pk}): {batch.message}")
