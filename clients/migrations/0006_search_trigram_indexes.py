"""The header search on PostgreSQL: pg_trgm, and indexes that serve its matches.

``clients.search.contains_text`` filters with ``icontains``, which Django sends to PostgreSQL as
``UPPER(col::text) LIKE UPPER('%q%')``: a GIN trigram index on ``UPPER(col)`` answers it without
reading the table. Business numbers match by prefix (``LIKE 'q%'``), served by a pattern-ops
btree whatever the database's collation. SQLite (development) needs none of it.

A role that may not create pg_trgm does not stop the migration: ``carm_portal.trigram`` says so
and the trigram indexes are skipped (the prefix indexes are still made); the search works without
them, and migrating again after an administrator creates the extension does not add them (run
this migration's ``create`` again, or ``migrate clients 0005`` then ``migrate``).
"""

from django.db import migrations

from carm_portal import trigram

TRIGRAM = [
    ("clients_importer", "legal_name"),
    ("clients_importer", "operating_name"),
    ("clients_portaluser", "full_name"),
    ("clients_portaluser", "email"),
    ("carm_portal_user", "full_name"),
    ("carm_portal_user", "email"),
]
PREFIX = [("clients_importer", "bn9"), ("clients_programaccount", "bn15")]


def _trgm(table, column):
    return f"search_{table}_{column}_trgm"


def _prefix(table, column):
    return f"search_{table}_{column}_prefix"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in TRIGRAM if trigram.create_extension(schema_editor) else []:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{_trgm(table, column)}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )
    for table, column in PREFIX:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{_prefix(table, column)}" ON "{table}" '
            f'("{column}" varchar_pattern_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in TRIGRAM:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_trgm(table, column)}"')
    for table, column in PREFIX:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_prefix(table, column)}"')


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0005_invitation_bam_confirmation"),
        ("carm_portal", "0003_inbox_preferences_calendar_feed"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
