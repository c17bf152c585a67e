"""manage.py check_compliance: correction alerts at 30, 14, 7 days and overdue, once each."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from services.compliance.checks import run_compliance_checks, stage
from services.compliance.corrections import open_correction
from services.models import ComplianceAlert, Correction
from tests.factories import BrokerEntryFactory, ImporterFactory, ProgramAccountFactory

pytestmark = pytest.mark.django_db

TXN = "12345000000017"


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (31, None),
        (30, "30"),
        (15, "30"),
        (14, "14"),
        (8, "14"),
        (7, "7"),
        (0, "7"),
        (-1, "overdue"),
    ],
)
def test_stages(left, expected):
    assert stage(left) == expected


@pytest.fixture
def correction():
    account = ProgramAccountFactory(importer=ImporterFactory())
    BrokerEntryFactory(
        program_account=account, transaction_number=TXN, accounted_on=dt.date(2026, 9, 1)
    )
    return open_correction(
        importer=account.importer,
        program_account=account,
        transaction_number=TXN,
        reason=Correction.Reason.ORIGIN,
        reason_to_believe_on=dt.date(2026, 10, 1),
        by=None,
        today=dt.date(2026, 10, 1),
    )  # deadline 30 December 2026


def _open_keys():
    return sorted(ComplianceAlert.objects.filter(resolved_at=None).values_list("key", flat=True))


def test_each_stage_alerts_once_under_reruns(correction):
    assert correction.deadline == dt.date(2026, 12, 30)
    key = f"correction:{correction.pk}"

    assert run_compliance_checks(today=dt.date(2026, 11, 29)).raised == 0  # 31 days left
    first = run_compliance_checks(today=dt.date(2026, 11, 30))
    again = run_compliance_checks(today=dt.date(2026, 11, 30))
    assert (first.raised, again.raised, again.reopened, again.resolved) == (1, 0, 0, 0)
    assert _open_keys() == [f"{key}:30"]

    run_compliance_checks(today=dt.date(2026, 12, 16))
    assert _open_keys() == [f"{key}:14"]
    run_compliance_checks(today=dt.date(2026, 12, 23))
    run_compliance_checks(today=dt.date(2026, 12, 23))
    assert _open_keys() == [f"{key}:7"]
    run_compliance_checks(today=dt.date(2026, 12, 31))
    assert _open_keys() == [f"{key}:overdue"]
    alert = ComplianceAlert.objects.get(key=f"{key}:overdue")
    assert (alert.kind, alert.severity, alert.correction) == (
        "correction_overdue",
        "blocking",
        correction,
    )
    assert alert.message == f"The correction of CAD {TXN} was due on 2026-12-30."
    assert ComplianceAlert.objects.count() == 4


def test_a_filed_correction_resolves_its_alert(correction):
    run_compliance_checks(today=dt.date(2026, 12, 23))
    Correction.objects.filter(pk=correction.pk).update(status="filed")

    result = run_compliance_checks(today=dt.date(2026, 12, 24))

    assert (result.raised, result.resolved) == (0, 1)
    assert _open_keys() == []


def test_late_accounting_is_one_alert_per_importer_and_month():
    account = ProgramAccountFactory(importer=ImporterFactory())
    for accounted in (dt.date(2026, 11, 10), dt.date(2026, 11, 11), dt.date(2026, 11, 5)):
        BrokerEntryFactory(
            program_account=account, release_date=dt.date(2026, 11, 2), accounted_on=accounted
        )

    first = run_compliance_checks(today=dt.date(2026, 11, 20))
    second = run_compliance_checks(today=dt.date(2026, 11, 20))

    alert = ComplianceAlert.objects.get()
    assert (alert.key, alert.kind, alert.entry_count) == ("late:2026-11", "late_accounting", 2)
    assert alert.message == "2 CADs accounted in 2026-11 were accounted after their due date."
    assert (first.raised, second.raised) == (1, 0)


def test_the_command_runs_the_check_and_refuses_a_malformed_date(correction):
    out = StringIO()
    call_command("check_compliance", "--today", "2026-12-31", stdout=out)
    call_command("check_compliance", "--today", "2026-12-31", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "2026-12-31: compliance: 1 findings, 1 new alerts, 0 reopened, 0 resolved."
    assert "2026-12-31: compliance: 1 findings, 0 new alerts, 0 reopened, 0 resolved." in lines
    assert ComplianceAlert.objects.count() == 1

    with pytest.raises(CommandError) as refused:
        call_command("check_compliance", "--today", "31/12/2026")
    assert str(refused.value) == "--today must be a date as YYYY-MM-DD, not '31/12/2026'."
    assert "\n" not in str(refused.value)


def test_the_task_is_on_the_beat_schedule():
    from carm_portal.celery import app

    entry = app.conf.beat_schedule["check-compliance"]
    assert entry["task"] == "services.compliance_tasks.check_compliance"
    assert entry["task"] in app.tasks
