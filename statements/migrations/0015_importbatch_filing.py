"""Filing an accepted statement file became a job of its own (``received.file_batch``): the batch
records when it was sent and when it was done. Every batch accepted before this was filed inside
its import, so it counts as filed then (the re-dispatch job must not file it again)."""

from django.db import migrations, models
from django.db.models import F


def filed_when_accepted(apps, schema_editor):
    ImportBatch = apps.get_model("statements", "ImportBatch")
    ImportBatch.objects.filter(kind="statement", status="accepted").update(
        filed_at=F("finished_at"), filing_sent_at=F("finished_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0014_worklist_and_current_run_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="filed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="filed at"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="filing_sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="filing sent at"),
        ),
        migrations.RunPython(filed_when_accepted, migrations.RunPython.noop),
    ]
