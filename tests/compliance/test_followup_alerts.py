"""Readiness follow-ups in the daily check: flagged a week before and once overdue, the owner told
once, and a completed follow-up resolves its alert."""

from __future__ import annotations

import datetime as dt

import pytest

from carm_portal.notification_models import Kind as NotificationKind
from carm_portal.notification_models import Notification
from services.compliance.checks import run_compliance_checks
from services.compliance.readiness import complete_gap, take_check
from services.models import ComplianceAlert, ReadinessGap
from tests.factories import ImporterFactory, UserFactory

pytestmark = pytest.mark.django_db

TAKEN = dt.date(2026, 11, 5)
DUE = dt.date(2026, 12, 7)  # gap_due(TAKEN): 30 days on, a Saturday moved to the Monday
Kind = ComplianceAlert.Kind


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com")


@pytest.fixture
def gaps(owner):
    importer = ImporterFactory(legal_name="Maple Imports Ltd")
    importer.assigned_agent = owner
    importer.save()
    check = take_check(importer, manual={"release_documentation": True}, by=None, today=TAKEN)
    gaps = ReadinessGap.objects.filter(check_run=check)
    assert gaps.count() >= 2 and {g.due_on for g in gaps} == {DUE}
    return gaps


def run(day, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return run_compliance_checks(today=day)


def followup_alerts():
    return ComplianceAlert.objects.filter(kind__in=[Kind.FOLLOWUP_DUE, Kind.FOLLOWUP_OVERDUE])


def told(owner):
    return Notification.objects.filter(recipient=owner, kind=NotificationKind.READINESS_FOLLOWUP)


def test_nothing_more_than_seven_days_before(gaps, owner, django_capture_on_commit_callbacks):
    run(DUE - dt.timedelta(days=8), django_capture_on_commit_callbacks)
    assert followup_alerts().count() == 0
    assert told(owner).count() == 0


def test_a_week_before_one_alert_per_follow_up_and_the_owner_told_once(
    gaps, owner, django_capture_on_commit_callbacks
):
    n = gaps.count()
    first = run(DUE - dt.timedelta(days=7), django_capture_on_commit_callbacks)
    assert first.by_kind[Kind.FOLLOWUP_DUE] == n
    assert set(followup_alerts().values_list("kind", flat=True)) == {Kind.FOLLOWUP_DUE}
    assert set(followup_alerts().values_list("deadline", flat=True)) == {DUE}
    assert told(owner).count() == n
    assert "Maple Imports Ltd" in followup_alerts().first().message
    assert "2026-12-07" in followup_alerts().first().message

    again = run(DUE - dt.timedelta(days=7), django_capture_on_commit_callbacks)
    assert again.raised == 0 and again.reopened == 0
    assert followup_alerts().count() == n
    assert told(owner).count() == n


def test_the_due_date_itself_is_not_overdue_the_day_after_is(
    gaps, owner, django_capture_on_commit_callbacks
):
    n = gaps.count()
    run(DUE, django_capture_on_commit_callbacks)
    assert followup_alerts().filter(kind=Kind.FOLLOWUP_OVERDUE).count() == 0
    result = run(DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    assert result.raised == n and result.resolved == n  # the "due" alerts give way
    open_ = followup_alerts().filter(resolved_at=None)
    assert set(open_.values_list("kind", flat=True)) == {Kind.FOLLOWUP_OVERDUE}
    assert told(owner).count() == 2 * n  # once a week before, once overdue

    again = run(DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    assert again.raised == 0 and told(owner).count() == 2 * n


def test_completing_a_follow_up_resolves_its_alert_and_stops_the_reminders(
    gaps, owner, django_capture_on_commit_callbacks
):
    late = DUE + dt.timedelta(days=3)
    run(late, django_capture_on_commit_callbacks)
    done = gaps.first()
    assert complete_gap(done, by=owner)
    result = run(late + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    assert result.resolved == 1 and result.raised == 0
    alert = ComplianceAlert.objects.get(key=f"followup:{done.pk}:overdue")
    assert alert.resolved_at is not None
    assert told(owner).filter(key__startswith=f"followup:{done.pk}:").count() == 1


def test_a_follow_up_without_owner_raises_an_alert_and_tells_nobody(
    gaps, owner, django_capture_on_commit_callbacks
):
    gaps.update(owner=None)
    run(DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    assert followup_alerts().count() == gaps.count()
    assert Notification.objects.count() == 0


def test_the_owner_reads_it_in_french(gaps, owner, django_capture_on_commit_callbacks):
    from django.utils import translation

    from carm_portal import stored_text

    run(DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    note = told(owner).first()
    with translation.override("fr"):
        text = stored_text.render(note.text)
    assert text.startswith("Le suivi de préparation de Maple Imports Ltd, « ")
    assert "était dû le" in text
