"""The daily sweep against the database: alerts once, resolved when the cause goes, emails once."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection

from clients.models import Importer, OnboardingStep, PortalUser
from delegation.checks import run_delegation_checks
from delegation.models import AlertDelivery, AlertDigest, Delegation, DelegationAlert
from delegation.notify import build_digests, send_digest, send_digests
from tests.factories import (
    DelegationFactory,
    ImporterFactory,
    MembershipFactory,
    PortalUserFactory,
    ProgramAccountFactory,
    UserFactory,
)

TODAY = dt.date(2026, 11, 23)
pytestmark = pytest.mark.django_db


@pytest.fixture
def importer():
    agent = UserFactory(email="agent@broker.example.com")
    importer = ImporterFactory(status=Importer.Status.ACTIVE, assigned_agent=agent)
    ProgramAccountFactory(importer=importer)
    PortalUserFactory(importer=importer, email="bam.one@importer.example.com")
    PortalUserFactory(importer=importer, email="bam.two@importer.example.com")
    PortalUserFactory(
        importer=importer, email="reader@importer.example.com", ccp_role=PortalUser.CcpRole.READER
    )
    return importer


def open_kinds(importer) -> list[str]:
    return sorted(
        DelegationAlert.objects.filter(importer=importer, resolved_at=None).values_list(
            "kind", flat=True
        )
    )


def test_expiring_delegation_raises_one_alert_and_a_rerun_adds_none(importer):
    DelegationFactory(importer=importer, expiry_date=TODAY + dt.timedelta(days=10))
    first = run_delegation_checks(today=TODAY)
    second = run_delegation_checks(today=TODAY)
    assert (first.raised, second.raised) == (1, 0)
    assert open_kinds(importer) == ["expires_within_14"]
    assert DelegationAlert.objects.count() == 1


def test_expired_delegation_is_marked_expired_with_history(importer):
    d = DelegationFactory(importer=importer, expiry_date=TODAY - dt.timedelta(days=1))
    result = run_delegation_checks(today=TODAY)
    d.refresh_from_db()
    assert (result.marked_expired, d.status) == (1, Delegation.Status.EXPIRED)
    assert d.history.first().history_change_reason == "Expiry date passed (daily check)"
    assert open_kinds(importer) == ["expired"]
    step7 = importer.onboarding_steps.get(step=OnboardingStep.Step.BROKER_DELEGATION)
    assert step7.status == OnboardingStep.Status.IN_PROGRESS


def test_delegation_expiring_today_is_still_active(importer):
    d = DelegationFactory(importer=importer, expiry_date=TODAY)
    run_delegation_checks(today=TODAY)
    d.refresh_from_db()
    assert d.status == Delegation.Status.ACTIVE
    assert open_kinds(importer) == ["expires_within_7"]


def test_alert_resolves_when_the_date_is_renewed(importer):
    d = DelegationFactory(importer=importer, expiry_date=None)
    run_delegation_checks(today=TODAY)
    assert open_kinds(importer) == ["blank_expiry"]
    d.expiry_date = dt.date(2028, 1, 31)
    d.save()
    result = run_delegation_checks(today=TODAY)
    assert (result.resolved, open_kinds(importer)) == (1, [])
    alert = DelegationAlert.objects.get(importer=importer)
    assert alert.resolution == "Resolved by the check of 2026-11-23: the cause is gone."


def test_pending_alert_resolves_when_the_request_is_approved(importer):
    d = DelegationFactory(
        importer=importer,
        status="pending",
        requested_on=TODAY - dt.timedelta(days=20),
        expiry_date=None,
    )
    run_delegation_checks(today=TODAY)
    assert open_kinds(importer) == ["pending_too_long"]
    d.status, d.expiry_date = Delegation.Status.ACTIVE, dt.date(2027, 11, 30)
    d.save()
    run_delegation_checks(today=TODAY)
    assert open_kinds(importer) == []


def test_threshold_progression_resolves_the_wider_notice(importer):
    DelegationFactory(importer=importer, expiry_date=TODAY + dt.timedelta(days=20))
    run_delegation_checks(today=TODAY)
    run_delegation_checks(today=TODAY + dt.timedelta(days=7))
    assert open_kinds(importer) == ["expires_within_14"]
    assert (
        DelegationAlert.objects.filter(kind="expires_within_30").exclude(resolved_at=None).count()
        == 1
    )


def test_same_finding_returning_reopens_the_alert(importer):
    d = DelegationFactory(importer=importer, expiry_date=None)
    run_delegation_checks(today=TODAY)
    d.expiry_date = dt.date(2028, 1, 31)
    d.save()
    run_delegation_checks(today=TODAY)
    d.expiry_date = None
    d.save()
    result = run_delegation_checks(today=TODAY + dt.timedelta(days=1))
    assert (result.reopened, open_kinds(importer)) == (1, ["blank_expiry"])
    assert DelegationAlert.objects.count() == 1


def test_active_importer_without_delegation_gets_a_blocking_alert(importer):
    run_delegation_checks(today=TODAY)
    assert open_kinds(importer) == ["no_delegation"]


def test_crash_midway_leaves_nothing_and_the_rerun_completes(importer, monkeypatch):
    DelegationFactory(importer=importer, expiry_date=TODAY - dt.timedelta(days=3))

    def boom(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr("carm_portal.alerts.copy_rows", boom)
    with pytest.raises(RuntimeError):
        run_delegation_checks(today=TODAY)
    assert DelegationAlert.objects.count() == 0
    assert Delegation.objects.get().status == Delegation.Status.ACTIVE  # rolled back too
    monkeypatch.undo()
    result = run_delegation_checks(today=TODAY)
    assert (result.raised, result.marked_expired) == (1, 1)


def alert_kinds() -> dict[str, int]:
    return dict(Counter(DelegationAlert.objects.values_list("kind", flat=True)))


def test_sweep_runs_in_constant_queries(django_assert_max_num_queries):
    def make(n: int) -> None:
        for _ in range(n):
            imp = ImporterFactory(status=Importer.Status.ACTIVE)
            ProgramAccountFactory(importer=imp)
            DelegationFactory(importer=imp, expiry_date=TODAY + dt.timedelta(days=3))
            DelegationFactory(importer=imp, relationship="PMR", expiry_date=None)
            DelegationFactory(importer=imp, expiry_date=TODAY - dt.timedelta(days=1))  # to mark

    make(2)
    with django_assert_max_num_queries(30) as small:
        run_delegation_checks(today=TODAY)
    assert alert_kinds() == {"expires_within_7": 2, "pmr_missing_account": 2}
    assert Delegation.objects.filter(status="expired").count() == 2
    make(20)
    DelegationAlert.objects.all().delete()
    Delegation.objects.filter(status="expired").update(status="active")
    with django_assert_max_num_queries(30) as large:
        run_delegation_checks(today=TODAY)
    assert alert_kinds() == {"expires_within_7": 22, "pmr_missing_account": 22}
    assert Delegation.objects.filter(status="expired").count() == 22
    # Ten times the rows: the same statements, a few more only where SQLite splits a big INSERT.
    assert len(large.captured_queries) <= len(small.captured_queries) + 6


# --- Notifications ---------------------------------------------------------------------------


def test_digest_goes_to_the_bams_and_the_agent_once(importer):
    member = MembershipFactory(
        importer=importer, user=UserFactory(email="bam.login@importer.example.com")
    )
    DelegationFactory(importer=importer, expiry_date=None)
    run_delegation_checks(today=TODAY)
    assert send_digests(today=TODAY) == 4
    assert sorted(m.to[0] for m in mail.outbox) == [
        "agent@broker.example.com",
        "bam.login@importer.example.com",
        "bam.one@importer.example.com",
        "bam.two@importer.example.com",
    ]
    assert member.role == "bam"
    message = mail.outbox[0]
    assert message.subject == "Action needed: 1 blocked delegation — 2026-11-23"
    assert "Blank expiry date" in message.body
    assert importer.legal_name in message.alternatives[0][0]
    # A rerun of the check and of the sending sends nothing more.
    run_delegation_checks(today=TODAY)
    assert send_digests(today=TODAY) == 0
    assert len(mail.outbox) == 4


def test_one_digest_per_recipient_per_day_however_many_alerts(importer):
    other = ImporterFactory(status=Importer.Status.ACTIVE, assigned_agent=importer.assigned_agent)
    DelegationFactory(importer=importer, expiry_date=None)
    DelegationFactory(
        importer=importer, relationship="PMR", expiry_date=TODAY + dt.timedelta(days=2)
    )
    DelegationFactory(importer=other, expiry_date=TODAY - dt.timedelta(days=2))
    run_delegation_checks(today=TODAY)
    send_digests(today=TODAY)
    agent_mail = [m for m in mail.outbox if m.to == ["agent@broker.example.com"]]
    assert len(agent_mail) == 1
    assert agent_mail[0].body.count("BN ") == 4  # blank, PMR missing, expires soon, expired


def test_alert_raised_after_todays_digest_waits_for_tomorrow(importer):
    DelegationFactory(importer=importer, expiry_date=None)
    run_delegation_checks(today=TODAY)
    send_digests(today=TODAY)
    DelegationFactory(
        importer=importer, expiry_date=TODAY + dt.timedelta(days=3), relationship="PMR"
    )
    run_delegation_checks(today=TODAY)
    assert send_digests(today=TODAY) == 0
    assert send_digests(today=TODAY + dt.timedelta(days=1)) == 3  # agent and the two BAMs
    assert AlertDigest.objects.count() == 6


def test_advice_is_not_emailed(importer):
    DelegationFactory(importer=importer, relationship="PMR")
    importer.program_accounts.first().delegations.add(Delegation.objects.get())
    run_delegation_checks(today=TODAY)
    assert open_kinds(importer) == ["limited_relationship"]
    assert send_digests(today=TODAY) == 0


def test_a_claimed_digest_is_not_sent_twice(importer):
    DelegationFactory(importer=importer, expiry_date=None)
    run_delegation_checks(today=TODAY)
    digest_ids = build_digests(today=TODAY)
    assert [send_digest(i) for i in digest_ids] == [True] * 3
    assert [send_digest(i) for i in digest_ids] == [False] * 3
    assert len(mail.outbox) == 3


def test_a_failed_send_releases_the_claim_for_the_retry(importer, settings):
    DelegationFactory(importer=importer, expiry_date=None)
    run_delegation_checks(today=TODAY)
    (digest_id, *_) = build_digests(today=TODAY)
    settings.EMAIL_BACKEND = "tests.delegation.failing_backend.EmailBackend"
    with pytest.raises(ConnectionError):
        send_digest(digest_id)
    digest = AlertDigest.objects.get(pk=digest_id)
    assert (digest.claimed_at, digest.sent_at, digest.attempts) == (None, None, 1)
    assert digest.last_error == "SMTP server unreachable"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_digest(digest_id) is True
    assert AlertDelivery.objects.filter(digest_id=digest_id).count() == 1


# --- Two sweeps at once (PostgreSQL only: SQLite serialises whole-database writes) -------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locking")
def test_two_sweeps_at_once_create_no_duplicate():
    imp = ImporterFactory(status=Importer.Status.ACTIVE)
    for _ in range(30):
        DelegationFactory(importer=imp, expiry_date=None)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            run_delegation_checks(today=TODAY)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert DelegationAlert.objects.count() == 30
