"""The exceptions workflow (statements/workflow.py): assign, comment, resolve, reopen, and its rules
(note required, write-off limit, matched items and older runs untouchable), with history kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from statements import workflow
from statements.models import ReconciliationComment, ReconciliationItem, ReconciliationRun
from statements.workflow import WorkflowError
from tests.factories import ReconciliationItemFactory, ReconciliationRunFactory
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def run(personas):
    return reconciled_statement(personas.importer_a.program_accounts.get())


@pytest.fixture
def mismatch(run):
    return run.items.get(status="amount_mismatch")  # difference 0.27


def test_resolve_records_who_when_and_why_in_the_history(personas, mismatch):
    workflow.resolve(
        mismatch, user=personas.broker_finance, resolution="explained", note=" GST rounding "
    )

    mismatch.refresh_from_db()
    assert (mismatch.resolution, mismatch.note, mismatch.resolved_by) == (
        "explained",
        "GST rounding",
        personas.broker_finance,
    )
    assert mismatch.resolved_at is not None and not mismatch.is_open
    record = mismatch.history.first()
    assert (record.history_user, record.history_change_reason, record.resolution) == (
        personas.broker_finance,
        "Resolved: Explained",
        "explained",
    )


@pytest.mark.parametrize("resolution", ["explained", "written_off"])
def test_a_note_is_required_to_explain_or_write_off(personas, mismatch, resolution):
    with pytest.raises(WorkflowError) as raised:
        workflow.resolve(mismatch, user=personas.broker_agent, resolution=resolution, note="  ")

    assert raised.value.field == "note"
    mismatch.refresh_from_db()
    assert mismatch.resolution == ""


@pytest.mark.parametrize("resolution", ["correction_requested", "followed_up"])
def test_other_resolutions_need_no_note(personas, mismatch, resolution):
    workflow.resolve(mismatch, user=personas.broker_agent, resolution=resolution)

    mismatch.refresh_from_db()
    assert mismatch.resolution == resolution


@pytest.mark.parametrize(
    ("difference", "allowed"),
    [(D("100.00"), True), (D("-100.00"), True), (D("100.01"), False), (D("-100.01"), False)],
)
def test_write_off_is_refused_above_the_limit(personas, run, settings, difference, allowed):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = D("100.00")
    item = ReconciliationItemFactory(run=run, position=99, difference=difference)

    if allowed:
        workflow.resolve(item, user=personas.broker_agent, resolution="written_off", note="Small")
        item.refresh_from_db()
        assert item.resolution == "written_off"
    else:
        with pytest.raises(WorkflowError, match=r"above the write-off limit of \$100\.00"):
            workflow.resolve(
                item, user=personas.broker_agent, resolution="written_off", note="Small"
            )


@pytest.mark.parametrize("resolution", ["", "open", "matched"])
def test_a_resolution_must_be_one_of_the_choices(personas, mismatch, resolution):
    with pytest.raises(WorkflowError) as raised:
        workflow.resolve(mismatch, user=personas.broker_agent, resolution=resolution, note="x")

    assert raised.value.field == "resolution"


def test_a_matched_item_cannot_be_worked(personas, run):
    matched = run.items.filter(status="matched").first()

    for step in (
        lambda: workflow.resolve(matched, user=personas.broker_agent, resolution="followed_up"),
        lambda: workflow.assign(matched, user=personas.broker_agent, assignee=None),
        lambda: workflow.comment(matched, user=personas.broker_agent, text="hi"),
    ):
        with pytest.raises(WorkflowError, match="matched item is not an exception"):
            step()


def test_only_items_of_the_current_run_can_be_worked(personas, mismatch, run):
    ReconciliationRun.objects.filter(pk=run.pk).update(is_current=False)
    ReconciliationRunFactory(statement=run.statement, is_current=True)

    with pytest.raises(WorkflowError, match="older reconciliation"):
        workflow.resolve(mismatch, user=personas.broker_agent, resolution="followed_up")


def test_only_people_who_manage_statements_may_work_items(personas, mismatch):
    for user in (personas.bam_a, personas.employee_a, personas.bam_b):
        with pytest.raises(PermissionDenied):
            workflow.resolve(mismatch, user=user, resolution="followed_up")


def test_assign_and_unassign_keep_history(personas, mismatch):
    workflow.assign(mismatch, user=personas.broker_admin, assignee=personas.broker_agent)
    workflow.assign(mismatch, user=personas.broker_admin, assignee=personas.broker_agent)  # no-op
    workflow.assign(mismatch, user=personas.broker_agent, assignee=None)

    mismatch.refresh_from_db()
    assert mismatch.assigned_to is None
    reasons = list(
        mismatch.history.filter(history_type="~")
        .order_by("history_date", "history_id")
        .values_list("history_change_reason", "history_user")
    )
    assert reasons == [
        (f"Assigned to {personas.broker_agent}", personas.broker_admin.pk),
        ("Assignment removed", personas.broker_agent.pk),
    ]


def test_an_item_is_assigned_only_to_someone_who_may_work_it(personas, mismatch):
    with pytest.raises(WorkflowError) as raised:
        workflow.assign(mismatch, user=personas.broker_admin, assignee=personas.bam_a)

    assert raised.value.field == "assignee"


def test_comments_follow_the_finding_by_key(personas, mismatch, run):
    workflow.comment(mismatch, user=personas.broker_agent, text="  Asked the client.  ")
    rerun_item = ReconciliationItem.objects.get(pk=mismatch.pk)

    comment = ReconciliationComment.objects.get()
    assert (comment.statement_id, comment.key, comment.text, comment.author) == (
        run.statement_id,
        rerun_item.key,
        "Asked the client.",
        personas.broker_agent,
    )


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_an_empty_or_huge_comment_is_refused(personas, mismatch, text):
    with pytest.raises(WorkflowError) as raised:
        workflow.comment(mismatch, user=personas.broker_agent, text=text)

    assert raised.value.field == "text"
    assert not ReconciliationComment.objects.exists()


def test_reopen_clears_the_resolution_and_keeps_the_note(personas, mismatch):
    workflow.resolve(mismatch, user=personas.broker_agent, resolution="explained", note="Why")

    workflow.reopen(mismatch, user=personas.broker_finance)

    mismatch.refresh_from_db()
    assert (mismatch.resolution, mismatch.resolved_by, mismatch.resolved_at, mismatch.note) == (
        "",
        None,
        None,
        "Why",
    )
    assert mismatch.history.first().history_change_reason == "Reopened"
    with pytest.raises(WorkflowError, match="already open"):
        workflow.reopen(mismatch, user=personas.broker_finance)


def test_resolving_a_reopened_item_clears_the_reopened_flag(personas, mismatch):
    ReconciliationItem.objects.filter(pk=mismatch.pk).update(reopened=True)

    workflow.resolve(mismatch, user=personas.broker_agent, resolution="followed_up")

    mismatch.refresh_from_db()
    assert mismatch.reopened is False
