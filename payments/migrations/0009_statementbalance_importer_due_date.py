"""Copy each statement's importer and due date onto its balance (see ``StatementBalance``)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_from_statements(apps, schema_editor):
    balance = apps.get_model("payments", "StatementBalance")
    statement = apps.get_model("statements", "Statement")
    of_it = statement.objects.filter(pk=OuterRef("statement_id"))
    balance.objects.update(
        importer_id=Subquery(of_it.values("program_account__importer_id")[:1]),
        due_date=Subquery(of_it.values("due_date")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0012_onboardingstep_done_index"),
        ("payments", "0008_paymentalert_open_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="statementbalance",
            name="importer",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="clients.importer",
            ),
        ),
        migrations.AddField(
            model_name="statementbalance",
            name="due_date",
            field=models.DateField(null=True, verbose_name="due date"),
        ),
        migrations.RunPython(copy_from_statements, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="statementbalance",
            name="importer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="clients.importer",
            ),
        ),
        migrations.AlterField(
            model_name="statementbalance",
            name="due_date",
            field=models.DateField(verbose_name="due date"),
        ),
        migrations.AddIndex(
            model_name="statementbalance",
            index=models.Index(
                condition=models.Q(("outstanding__gt", 0)),
                fields=["importer", "due_date"],
                include=("outstanding",),
                name="stmtbal_owing_importer_idx",
            ),
        ),
    ]
