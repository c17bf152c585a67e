"""carm_portal.alerts: new alert rows are named records whose fields are the table's columns."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carm_portal.alerts import COMMON_COLUMNS, record_alerts
from delegation.checks import DelegationAlertRow
from delegation.models import DelegationAlert
from payments.checks import PaymentAlertRow
from payments.models import PaymentAlert


@pytest.mark.parametrize(
    ("model", "row_type"),
    [(DelegationAlert, DelegationAlertRow), (PaymentAlert, PaymentAlertRow)],
)
def test_a_row_names_every_column_of_its_table_once(model, row_type):
    columns = [*COMMON_COLUMNS, *row_type._fields]
    table = {f.column for f in model._meta.concrete_fields} - {"id"}

    assert sorted(columns) == sorted(table)


def test_a_bare_tuple_is_refused(personas):
    today = dt.date(2026, 11, 23)

    with pytest.raises(TypeError, match="DelegationAlertRow"):
        record_alerts(
            model=DelegationAlert,
            existing=DelegationAlert.objects.all(),
            wanted={(personas.importer_a.pk, "k"): None},
            row_type=DelegationAlertRow,
            row=lambda f: (None, "limited", "advice", "text", None, None),
            today=today,
            now=timezone.now(),
        )
