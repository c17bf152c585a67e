"""The delegation list's orders, indexed: expiry then id (the page's default) everywhere, and
blank expiry first then id (the API's order, the page's "expiry" sort) on PostgreSQL, the only
database here that can index NULLS FIRST."""

from django.db import migrations, models

BLANK_FIRST = "delegation_expiry_blank_first"


def create_blank_first(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {BLANK_FIRST} ON delegation_delegation "
            "(expiry_date ASC NULLS FIRST, id)"
        )


def drop_blank_first(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {BLANK_FIRST}")


class Migration(migrations.Migration):
    dependencies = [
        ("delegation", "0005_merge_api"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="delegation",
            index=models.Index(fields=["expiry_date", "id"], name="delegation_expiry_order"),
        ),
        migrations.RunPython(create_blank_first, drop_blank_first),
    ]
