"""The header search finds the broker's declarations by transaction number prefix (PostgreSQL).

The unique (program_account, transaction_number, version) index cannot serve a prefix across all
accounts; a pattern-ops btree on the number alone does. Statement lines keep no such index (see
0004): the search looks transactions up among the broker's entries.
"""

from django.db import migrations

NAME = "search_brokerentry_txn_prefix"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "statements_brokerentry" '
            '("transaction_number" varchar_pattern_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("statements", "0007_reconciliationitem_balance_difference")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
