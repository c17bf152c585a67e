"""The daily payment and security checks: one alert per finding, reruns change nothing, emails once."""

import datetime as dt
import re
import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from clients.models import Importer, OnboardingStep
from payments.checks import run_payment_checks, run_security_checks
from payments.models import FinancialSecurity, Payment, PaymentAlert
from payments.notify import notify_all, notify_importer
from payments.records import record_payment, set_payment_status
from tests.factories import (
    FinancialSecurityFactory,
    PortalUserFactory,
    ProgramAccountFactory,
)
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 12, 1)


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


@pytest.fixture
def statement(account):
    return make_statement(account, dt.date(2026, 11, 25), "812.40", due_date=DUE)


def open_kinds():
    return sorted(PaymentAlert.objects.filter(resolved_at=None).values_list("kind", flat=True))


def test_one_alert_per_statement_for_each_stage(statement):
    days = [
        (dt.date(2026, 11, 23), []),
        (dt.date(2026, 11, 24), ["due_soon"]),
        (dt.date(2026, 11, 27), ["due_soon"]),
        (DUE, ["due_today"]),
        (dt.date(2026, 12, 2), ["overdue"]),
        (dt.date(2026, 12, 31), ["arrears", "overdue"]),
    ]
    for day, expected in days:
        run_payment_checks(today=day)
        assert open_kinds() == expected, day

    assert sorted(PaymentAlert.objects.values_list("kind", flat=True)) == [
        "arrears",
        "due_soon",
        "due_today",
        "overdue",
    ]


def test_a_rerun_creates_nothing(statement):
    first = run_payment_checks(today=dt.date(2026, 12, 3))
    alerts = list(PaymentAlert.objects.values_list("pk", "raised_at", "resolved_at"))
    history = PaymentAlert.history.count()

    again = run_payment_checks(today=dt.date(2026, 12, 3))

    assert (first.raised, again.raised, again.resolved, again.reopened) == (1, 0, 0, 0)
    assert list(PaymentAlert.objects.values_list("pk", "raised_at", "resolved_at")) == alerts
    assert PaymentAlert.history.count() == history


def test_paying_resolves_and_a_returned_payment_reopens(account, statement):
    run_payment_checks(today=dt.date(2026, 12, 3))
    payment, _plan = record_payment(
        importer=account.importer,
        program_account=account,
        amount=D("812.40"),
        method="online_banking",
        paid_on=dt.date(2026, 11, 20),
        status=Payment.Status.CLEARED,
        by=None,
    )

    run_payment_checks(today=dt.date(2026, 12, 3))
    assert open_kinds() == []
    overdue = PaymentAlert.objects.get(kind="overdue")
    assert overdue.resolution == "Resolved by the check of 2026-12-03: the cause is gone."

    set_payment_status(payment=payment, status=Payment.Status.RETURNED, by=None)
    run_payment_checks(today=dt.date(2026, 12, 4))

    overdue.refresh_from_db()
    assert (overdue.resolved_at, overdue.raised_on, overdue.notified_at) == (
        None,
        dt.date(2026, 12, 4),
        None,
    )
    assert PaymentAlert.objects.filter(kind="overdue").count() == 1


def test_a_payment_still_in_transit_is_flagged_once_it_should_have_posted(account, statement):
    record_payment(
        importer=account.importer,
        program_account=account,
        amount=D("812.40"),
        method="cheque",
        paid_on=dt.date(2026, 11, 20),
        by=None,
    )

    run_payment_checks(today=dt.date(2026, 12, 4))
    assert open_kinds() == []  # in transit, not missing: cheques take up to 10 business days
    run_payment_checks(today=dt.date(2026, 12, 7))
    assert open_kinds() == ["not_posted"]


def test_the_security_check_is_idempotent_and_marks_expired(personas, account):
    personas.importer_a.status = Importer.Status.ACTIVE
    personas.importer_a.save()
    bond = FinancialSecurityFactory(
        program_account=account, expiry_date=dt.date(2026, 12, 15), amount=D("5000.00")
    )
    step = OnboardingStep.objects.get(importer=personas.importer_a, step=1)
    assert step.status == OnboardingStep.Status.DONE

    run_security_checks(today=dt.date(2026, 11, 23))
    run_security_checks(today=dt.date(2026, 11, 23))
    assert open_kinds() == ["bond_expiring"]
    assert PaymentAlert.objects.count() == 1

    result = run_security_checks(today=dt.date(2026, 12, 16))

    bond.refresh_from_db()
    step.refresh_from_db()
    assert bond.status == FinancialSecurity.Status.EXPIRED
    assert result.extra["marked expired"] == 1
    assert bond.history.first().history_change_reason == "Expiry date passed (daily check)"
    assert step.status == OnboardingStep.Status.IN_PROGRESS
    assert step.summary == "The security expired on 2026-12-15: post a new bond or cash deposit."
    assert open_kinds() == ["no_security"]


def test_each_check_resolves_only_its_own_alerts(account, statement):
    run_payment_checks(today=dt.date(2026, 12, 3))
    Importer.objects.filter(pk=account.importer_id).update(status=Importer.Status.ACTIVE)
    run_security_checks(today=dt.date(2026, 12, 3))
    assert open_kinds() == ["no_security", "overdue"]

    run_security_checks(today=dt.date(2026, 12, 3))
    run_payment_checks(today=dt.date(2026, 12, 3))

    assert open_kinds() == ["no_security", "overdue"]


# --- Emails --------------------------------------------------------------------------------------


@pytest.fixture
def recipients(personas):
    PortalUserFactory(importer=personas.importer_a, email="Payments.BAM@alpha.example.com")
    return [
        "agent@broker.example.com",
        "bam@alpha.example.com",
        "finance@alpha.example.com",  # personas.finance_a
        "payments.bam@alpha.example.com",
    ]


def test_new_alerts_are_emailed_once(statement, recipients):
    run_payment_checks(today=dt.date(2026, 12, 3))

    sent = notify_all()
    again = notify_all()

    assert (sent, again) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == recipients
    assert message.subject == "Action needed: 1 payment or security problem for Alpha Imports Inc."
    assert "$812.40 was due on 2026-12-01 (2 days overdue)" in message.body
    assert f"/statements/{statement.pk}/" in message.body


def test_a_claimed_alert_is_not_sent_by_a_second_worker(statement, recipients):
    run_payment_checks(today=dt.date(2026, 12, 3))
    importer_id = statement.program_account.importer_id
    PaymentAlert.objects.update(claimed_at=dt.datetime(2026, 11, 23, 14, 59, tzinfo=dt.UTC))

    assert notify_importer(importer_id) == 0  # another worker holds it (claimed a minute ago)
    assert mail.outbox == []


def test_a_failed_send_releases_the_claim(statement, recipients, settings):
    run_payment_checks(today=dt.date(2026, 12, 3))
    settings.EMAIL_BACKEND = "tests.delegation.failing_backend.EmailBackend"

    with pytest.raises(Exception, match="SMTP"):
        notify_all()
    assert PaymentAlert.objects.get().claimed_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notify_all() == 1


# --- Commands ------------------------------------------------------------------------------------


def test_check_payments_command_prints_a_summary(statement, recipients):
    out = StringIO()

    call_command("check_payments", "--today", "2026-12-03", stdout=out)

    text = out.getvalue()
    assert "2026-12-03: payments: 1 checked; 1 findings, 1 new alerts" in text
    assert "overdue" in text
    assert "1 alert(s) emailed." in text


def test_check_security_command_with_no_email(account):
    Importer.objects.filter(pk=account.importer_id).update(status=Importer.Status.ACTIVE)
    out = StringIO()

    call_command("check_security", "--today", "2026-12-03", "--no-email", stdout=out)

    assert "financial security: 2 checked; 1 findings, 1 new alerts" in out.getvalue()
    assert mail.outbox == []


@pytest.mark.parametrize("command", ["check_payments", "check_security"])
def test_a_bad_date_is_a_clear_error(command):
    with pytest.raises(
        CommandError, match=re.escape("--today must be a date as YYYY-MM-DD, not '3/12/2026'.")
    ):
        call_command(command, "--today", "3/12/2026")


# --- At once (PostgreSQL only: SQLite serialises whole-database writes) ----------------------------


def _together(*jobs):
    errors: list[BaseException] = []

    def run(job):
        try:
            job()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locking")
def test_two_checks_at_once_raise_each_alert_once():
    account = ProgramAccountFactory()
    for month in (6, 7, 8, 9, 10):
        make_statement(account, dt.date(2026, month, 25), "100.00")

    errors = _together(*[lambda: run_payment_checks(today=dt.date(2026, 12, 3))] * 2)

    assert errors == []
    assert PaymentAlert.objects.filter(kind="overdue").count() == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locking")
def test_two_payments_recorded_at_once_never_take_the_same_amount():
    account = ProgramAccountFactory()
    statement = make_statement(account, dt.date(2026, 10, 25), "1000.00")

    def pay():
        record_payment(
            importer=account.importer,
            program_account=account,
            amount=D("800.00"),
            method="online_banking",
            paid_on=dt.date(2026, 11, 20),
            by=None,
        )

    errors = _together(pay, pay)

    assert errors == []
    applied = sorted(a.amount for a in statement.payment_allocations.all())
    assert applied == [D("200.00"), D("800.00")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locking")
def test_two_senders_at_once_send_once(personas):
    account = personas.importer_a.program_accounts.get()
    make_statement(account, dt.date(2026, 10, 25), "100.00")
    run_payment_checks(today=dt.date(2026, 12, 3))

    errors = _together(notify_all, notify_all)

    assert errors == []
    assert len(mail.outbox) == 1
