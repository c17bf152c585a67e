"""manage.py import_entries FILE [--by EMAIL]: the broker's own CAD entries (docs/formats.md)."""

from statements.management.commands._import import ImportCommand
from statements.models import ImportBatch


class Command(ImportCommand):
    help = (
        "Import a CSV file of broker entries (one row per CAD version). All or nothing: any bad "
        "row refuses the whole file and lists the problems. Importing the same file again changes "
        "nothing; entries identical to ones already imported are skipped."
    )
    kind = ImportBatch.Kind.ENTRIES
