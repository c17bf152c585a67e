"""Readiness derivers (each can say no), the weighted score, gaps as follow-ups, training refreshers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clients.models import Membership
from services.compliance.checks import run_compliance_checks
from services.compliance.readiness import ReadinessError, take_check
from services.compliance.readiness_derivers import (
    DERIVERS,
    bam_named,
    delegations_current,
    people_trained,
    security_posted,
)
from services.compliance.training import add_months, record_completion
from services.models import ComplianceAlert, Course, ReadinessGap, ReadinessQuestion
from tests.factories import (
    DelegationFactory,
    FinancialSecurityFactory,
    ImporterFactory,
    MembershipFactory,
    ProgramAccountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 5)


@pytest.fixture
def importer():
    return ImporterFactory()


def test_the_default_questionnaire_is_seeded_and_every_deriver_named_exists():
    questions = ReadinessQuestion.objects.all()
    assert {q.key for q in questions} >= {
        "records_kept",
        "release_documentation",
        "security_posted",
        "delegations_current",
        "people_trained",
        "soa_reconciled",
        "bam_named",
        "payment_method",
    }
    assert all(q.derived_from in DERIVERS for q in questions if q.derived_from)


def test_security_posted_needs_an_account_and_enough_security(importer):
    assert security_posted(importer, TODAY) is False  # no RM account
    account = ProgramAccountFactory(importer=importer)
    assert security_posted(importer, TODAY) is False  # no security in force
    FinancialSecurityFactory(program_account=account, amount=Decimal("5000.00"))
    assert security_posted(importer, TODAY) is True


def test_delegations_current_fails_when_expired(importer):
    DelegationFactory(importer=importer, expiry_date=dt.date(2026, 10, 1))
    assert delegations_current(importer, TODAY) is False
    DelegationFactory(importer=importer, expiry_date=dt.date(2027, 10, 1))
    assert delegations_current(importer, TODAY) is True


def test_people_trained_lapses_after_the_refresh_period(importer):
    course = Course.objects.get(role=Course.Role.FINANCE)
    member = MembershipFactory(importer=importer, role=Membership.Role.FINANCE)
    record_completion(
        membership=member, course=course, completed_on=dt.date(2025, 11, 1), by=None, today=TODAY
    )
    assert people_trained(importer, TODAY) is False  # lapsed on 2026-11-01
    record_completion(
        membership=member, course=course, completed_on=dt.date(2026, 6, 1), by=None, today=TODAY
    )
    assert people_trained(importer, TODAY) is True


def test_bam_named(importer):
    assert bam_named(importer, TODAY) is False
    MembershipFactory(importer=importer, role=Membership.Role.BAM)
    assert bam_named(importer, TODAY) is True


def test_score_is_the_weighted_share_and_each_no_becomes_a_follow_up(importer):
    agent = UserFactory()
    importer.assigned_agent = agent
    importer.save()
    MembershipFactory(importer=importer, role=Membership.Role.BAM)  # bam_named: yes (weight 2)
    # soa_reconciled: yes (no exception) weight 2; release_documentation answered yes, weight 2.
    # Everything else derived "no": records 2, security 3, delegations 3, trained 1, payment 2.
    check = take_check(importer, manual={"release_documentation": True}, by=None, today=TODAY)
    assert check.score == Decimal("35.29")  # 6 of 17
    gaps = ReadinessGap.objects.filter(check_run=check)
    assert {g.question_key for g in gaps} == {
        "records_kept",
        "security_posted",
        "delegations_current",
        "people_trained",
        "payment_method",
    }
    assert {g.owner for g in gaps} == {agent}
    assert {g.due_on for g in gaps} == {dt.date(2026, 12, 7)}  # 5 Dec is a Saturday


def test_a_manual_answer_is_required(importer):
    with pytest.raises(ReadinessError):
        take_check(importer, manual={}, by=None, today=TODAY)


def test_refresher_reminder_is_raised_once_and_resolves_on_refresh(importer):
    course = Course.objects.get(role=Course.Role.COMPLIANCE)
    member = MembershipFactory(importer=importer, role=Membership.Role.FINANCE)
    record_completion(
        membership=member, course=course, completed_on=dt.date(2025, 11, 20), by=None, today=TODAY
    )
    first = run_compliance_checks(today=TODAY)
    again = run_compliance_checks(today=TODAY)
    alerts = ComplianceAlert.objects.filter(kind=ComplianceAlert.Kind.TRAINING_REFRESH)
    assert first.raised == 1 and again.raised == 0
    assert alerts.count() == 1
    assert alerts.get().deadline == dt.date(2026, 11, 20)
    record_completion(membership=member, course=course, completed_on=TODAY, by=None, today=TODAY)
    run_compliance_checks(today=TODAY)
    assert alerts.get().resolved_at is not None


def test_add_months_keeps_the_end_of_the_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 5), 12) == dt.date(2027, 11, 5)
