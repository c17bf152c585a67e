"""When new entries of each program account were last accepted (see ``EntriesReceived``)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max


def backfill(apps, schema_editor):
    entry = apps.get_model("statements", "BrokerEntry")
    received = apps.get_model("statements", "EntriesReceived")
    latest = (
        entry.objects.filter(source_batch__kind="entries", source_batch__status="accepted")
        .values("program_account_id")
        .annotate(at=Max("source_batch__finished_at"))
        .values_list("program_account_id", "at")
        .order_by()
    )
    received.objects.bulk_create(
        [received(program_account_id=pk, at=at) for pk, at in latest if at is not None],
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0012_onboardingstep_done_index"),
        ("statements", "0012_merge_search_and_kept_files"),
    ]

    operations = [
        migrations.CreateModel(
            name="EntriesReceived",
            fields=[
                (
                    "program_account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="entries_received",
                        serialize=False,
                        to="clients.programaccount",
                        verbose_name="program account",
                    ),
                ),
                ("at", models.DateTimeField(verbose_name="last new entries accepted at")),
            ],
            options={
                "verbose_name": "entries received",
                "verbose_name_plural": "entries received",
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
