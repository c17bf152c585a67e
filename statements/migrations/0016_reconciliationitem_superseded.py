"""Exceptions of replaced runs marked ``superseded`` (``ReconciliationItem`` says why), so the open
exceptions' partial indexes hold the current runs' only."""

from django.conf import settings
from django.db import migrations, models


def mark_replaced_runs_exceptions(apps, schema_editor):
    Item = apps.get_model("statements", "ReconciliationItem")
    Run = apps.get_model("statements", "ReconciliationRun")
    replaced = Run.objects.filter(is_current=False).values("pk")
    Item.objects.filter(is_exception=True, run_id__in=replaced).update(superseded=True)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0012_onboardingstep_done_index"),
        ("statements", "0015_importbatch_filing"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="reconciliationitem",
            name="reconitem_open_exc_idx",
        ),
        migrations.RemoveIndex(
            model_name="reconciliationitem",
            name="reconitem_open_age_idx",
        ),
        migrations.AddField(
            model_name="historicalreconciliationitem",
            name="superseded",
            field=models.BooleanField(db_default=False, default=False, verbose_name="superseded"),
        ),
        migrations.AddField(
            model_name="reconciliationitem",
            name="superseded",
            field=models.BooleanField(db_default=False, default=False, verbose_name="superseded"),
        ),
        migrations.RunPython(mark_replaced_runs_exceptions, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="reconciliationitem",
            index=models.Index(
                condition=models.Q(
                    ("is_exception", True), ("resolution", ""), ("superseded", False)
                ),
                fields=["importer", "first_seen_at"],
                name="reconitem_open_exc_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="reconciliationitem",
            index=models.Index(
                condition=models.Q(
                    ("is_exception", True), ("resolution", ""), ("superseded", False)
                ),
                fields=["first_seen_at", "id"],
                name="reconitem_open_age_idx",
            ),
        ),
    ]
