"""The header search finds CBSA's statement lines by transaction number prefix (PostgreSQL).

0004 dropped the lines' transaction-number index because it slowed every import. The search
needs one, so this is a partial pattern-ops btree over the lines that carry a number only
(``WHERE transaction_number <> ''``: opening balances, interest and payments carry none), which
the search names in its query so the planner may use it. SQLite (development) needs none.
"""

from django.db import migrations

NAME = "search_statementline_txn_prefix"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "statements_statementline" '
            "(\"transaction_number\" varchar_pattern_ops) WHERE \"transaction_number\" <> ''"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("statements", "0010_merge_api")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
