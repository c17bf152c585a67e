"""manage.py import_statement FILE [--by EMAIL]: statement-of-account lines (docs/formats.md)."""

from statements.management.commands._import import ImportCommand
from statements.models import ImportBatch


class Command(ImportCommand):
    help = (
        "Import a CSV file of statement-of-account lines. All or nothing: any bad row refuses the "
        "whole file and lists the problems. Importing the same file again changes nothing."
    )
    kind = ImportBatch.Kind.STATEMENT
