"""The header search finds payments by reference (``icontains``): a GIN trigram index on
``UPPER(reference)`` serves it on PostgreSQL (pg_trgm is created by clients 0006; without it, the index is skipped and the search scans)."""

from django.db import migrations

from carm_portal import trigram

NAME = "search_payment_reference_trgm"


def create(apps, schema_editor):
    if trigram.installed(schema_editor.connection):
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "payments_payment" '
            'USING gin ((UPPER("reference"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_bankaccountreveal"),
        ("clients", "0006_search_trigram_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
