"""The six events that notify people, each hooked where it happens, each told once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from carm_portal import stored_text
from carm_portal.celery import app
from carm_portal.notification_models import Delivery, Kind, Notification, NotificationPreference
from carm_portal.onboarding_wizard import steps
from clients import invitations
from clients.models import Membership, OnboardingWizard
from delegation.records import request_renewal
from statements import workflow
from statements.models import Statement
from statements.reconciliation.runs import reconcile_statement
from tests.factories import (
    BrokerEntryFactory,
    DelegationFactory,
    MembershipFactory,
    UserFactory,
)
from tests.statements.conftest import csv_text, run_import, statement_row
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def told(kind: Kind) -> list[tuple[str, str]]:
    return [
        (n.recipient.email, stored_text.render(n.text))
        for n in Notification.objects.filter(kind=kind).select_related("recipient")
    ]


def test_a_renewal_request_tells_the_importers_bams_only(
    personas, django_capture_on_commit_callbacks
):
    second_bam = UserFactory(email="second.bam@alpha.example.com")
    MembershipFactory(user=second_bam, importer=personas.importer_a, role=Membership.Role.BAM)
    delegation = DelegationFactory(importer=personas.importer_a)

    with django_capture_on_commit_callbacks(execute=True):
        request_renewal(
            delegation=delegation,
            expiry_date=dt.date(2028, 12, 31),
            message="",
            by=personas.broker_agent,
        )

    assert sorted(email for email, _ in told(Kind.RENEWAL_REQUEST)) == [
        "bam@alpha.example.com",
        "second.bam@alpha.example.com",
    ]
    assert "Alpha Imports Inc." in told(Kind.RENEWAL_REQUEST)[0][1]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "bam@alpha.example.com",
        "second.bam@alpha.example.com",
    ]


def test_an_assigned_exception_tells_the_assignee_each_time_but_not_oneself(
    personas, django_capture_on_commit_callbacks
):
    run = reconciled_statement(personas.importer_a.program_accounts.get())
    item = run.items.get(status="amount_mismatch")

    with django_capture_on_commit_callbacks(execute=True):
        workflow.assign(item, user=personas.broker_admin, assignee=personas.broker_agent)
        workflow.assign(item, user=personas.broker_admin, assignee=personas.broker_agent)  # no-op
        workflow.assign(item, user=personas.broker_finance, assignee=personas.broker_finance)

    assert told(Kind.EXCEPTION_ASSIGNED) == [
        (
            "agent@broker.example.com",
            f"{personas.broker_admin.get_full_name()} assigned you an exception of Alpha Imports Inc.: transaction {item.transaction_number}.",
        )
    ]
    assert [m.to for m in mail.outbox] == [["agent@broker.example.com"]]


def test_an_accepted_invitation_tells_whoever_sent_it(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = invitations.invite(
            importer=personas.importer_a,
            email="new.person@alpha.example.com",
            role=Membership.Role.FINANCE,
            full_name="New Person",
            invited_by=personas.bam_a,
        )
    mail.outbox.clear()
    user = UserFactory(email="new.person@alpha.example.com", full_name="New Person")

    with django_capture_on_commit_callbacks(execute=True):
        invitations.accept(invitation, user=user)

    assert told(Kind.INVITATION_ACCEPTED) == [
        (
            "bam@alpha.example.com",
            "Alpha Imports Inc.: New Person accepted your invitation.",
        )
    ]
    assert [m.to for m in mail.outbox] == [["bam@alpha.example.com"]]


def test_the_finished_wizard_tells_the_agent_once_with_one_email(
    personas, django_capture_on_commit_callbacks
):
    wizard = OnboardingWizard.objects.create(
        importer=personas.importer_a, completed_steps=list(steps.SLUGS), data={}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert steps.finish(wizard=wizard, by=personas.bam_a) is True
        assert steps.finish(wizard=wizard, by=personas.bam_a) is False

    assert [email for email, _ in told(Kind.WIZARD_FINISHED)] == ["agent@broker.example.com"]
    assert [m.to for m in mail.outbox] == [["agent@broker.example.com"]]  # the wizard's own e-mail
    assert Notification.objects.get(kind=Kind.WIZARD_FINISHED).emailed_at is not None


def test_an_agent_who_wants_a_digest_gets_no_immediate_wizard_email(
    personas, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(
        user=personas.broker_agent, kind=Kind.WIZARD_FINISHED, delivery=Delivery.DAILY
    )
    wizard = OnboardingWizard.objects.create(
        importer=personas.importer_a, completed_steps=list(steps.SLUGS), data={}
    )
    with django_capture_on_commit_callbacks(execute=True):
        steps.finish(wizard=wizard, by=personas.bam_a)

    assert mail.outbox == []
    from carm_portal.notifications import send_daily_digests

    assert send_daily_digests() == 1
    assert mail.outbox[0].to == ["agent@broker.example.com"]


def test_a_refused_file_tells_who_uploaded_it(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = run_import(
            "statement",
            csv_text("statement", [statement_row(amount="not money")]),
            name="october.csv",
            user=personas.broker_finance,
        ).batch

    assert batch.status == "refused"
    [(email, text)] = told(Kind.IMPORT_REFUSED)
    assert email == "finance@broker.example.com"
    assert text.startswith("Your file october.csv was refused: ")


def test_a_reconciliation_with_exceptions_tells_who_ran_it(
    personas, settings, django_capture_on_commit_callbacks
):
    settings.RECONCILIATION_AFTER_IMPORT = False
    run = reconciled_statement(personas.importer_a.program_accounts.get())
    statement = Statement.objects.get(pk=run.statement_id)
    BrokerEntryFactory(
        program_account=statement.program_account, transaction_number="99999000000001", amount=5
    )

    with django_capture_on_commit_callbacks(execute=True):
        new_run = reconcile_statement(statement=statement, run_by=personas.broker_finance)
        reconcile_statement(statement=statement, run_by=personas.broker_finance)

    assert new_run.exception_count > 0
    recipients = [email for email, _ in told(Kind.RECONCILIATION_EXCEPTIONS)]
    assert recipients == ["finance@broker.example.com", "finance@broker.example.com"]  # two runs
    assert (
        Notification.objects.filter(
            kind=Kind.RECONCILIATION_EXCEPTIONS, key=f"run:{new_run.pk}"
        ).count()
        == 1
    )
