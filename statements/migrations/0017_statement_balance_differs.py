"""``Statement.balance_differs`` (the model says why), set for the statements already on record
with the rule of ``statements.balance.differing``: the stated closing balance against the computed
one, and the opening balance against the previous statement's closing (its stated one, else its
computed one), compared in cents."""

from django.db import migrations, models

FLAG_DIFFERING = """
UPDATE statements_statement SET balance_differs = TRUE WHERE id IN (
    SELECT id FROM (
        SELECT id, opening_balance, closing_balance, stated_closing_balance,
               LAG(COALESCE(stated_closing_balance, closing_balance)) OVER (
                   PARTITION BY program_account_id ORDER BY statement_date
               ) AS previous_closing
        FROM statements_statement
    ) checked
    WHERE (stated_closing_balance IS NOT NULL
           AND ROUND(stated_closing_balance * 100) <> ROUND(closing_balance * 100))
       OR (previous_closing IS NOT NULL
           AND ROUND(opening_balance * 100) <> ROUND(previous_closing * 100))
)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0012_onboardingstep_done_index'),
        ('statements', '0016_reconciliationitem_superseded'),
    ]

    operations = [
        migrations.AddField(
            model_name='statement',
            name='balance_differs',
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name='balance differs'),
        ),
        migrations.RunSQL(FLAG_DIFFERING, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name='statement',
            index=models.Index(condition=models.Q(('balance_differs', True)), fields=['statement_date', 'id'], name='statement_balance_differs_idx'),
        ),
    ]
