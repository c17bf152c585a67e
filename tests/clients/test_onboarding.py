import datetime as dt

import pytest

from clients.models import OnboardingStep, PortalUser, ProgramAccount
from clients.onboarding import refresh_checklists, set_step_status
from tests.factories import ImporterFactory, PortalUserFactory, ProgramAccountFactory, UserFactory

Step = OnboardingStep.Step
Status = OnboardingStep.Status
pytestmark = pytest.mark.django_db


def statuses(importer) -> dict[int, str]:
    return dict(importer.onboarding_steps.values_list("step", "status"))


def test_new_importer_gets_all_seven_steps():
    importer = ImporterFactory()
    assert statuses(importer) == {
        1: Status.NOT_STARTED,
        2: Status.NOT_STARTED,
        3: Status.NOT_STARTED,
        4: Status.IN_PROGRESS,  # name and address recorded, no RM account yet
        5: Status.NOT_STARTED,
        6: Status.NOT_STARTED,
        7: Status.NOT_STARTED,
    }


def test_step2_one_bam_is_in_progress_with_the_two_bam_advice():
    importer = ImporterFactory()
    PortalUserFactory(importer=importer, ccp_role=PortalUser.CcpRole.BAM)
    step = importer.onboarding_steps.get(step=Step.BAMS)
    assert step.status == Status.IN_PROGRESS
    assert step.summary == (
        "One BAM recorded; two are recommended (one for payments, one for customs)."
    )


def test_step2_two_bams_without_profiles_are_not_done():
    importer = ImporterFactory()
    PortalUserFactory(importer=importer, profile_created=True)
    PortalUserFactory(importer=importer, profile_created=False)
    step = importer.onboarding_steps.get(step=Step.BAMS)
    assert (step.status, step.summary) == (Status.IN_PROGRESS, "1 BAM has no CCP profile yet.")


def test_step2_is_done_with_two_bams_with_profiles():
    importer = ImporterFactory()
    PortalUserFactory.create_batch(2, importer=importer, profile_created=True)
    PortalUserFactory(importer=importer, ccp_role=PortalUser.CcpRole.READER)
    assert statuses(importer)[Step.BAMS] == Status.DONE


def test_step3_counts_profiles_of_every_portal_user():
    importer = ImporterFactory()
    PortalUserFactory(importer=importer, profile_created=True)
    reader = PortalUserFactory(
        importer=importer, ccp_role=PortalUser.CcpRole.READER, profile_created=False
    )
    step = importer.onboarding_steps.get(step=Step.CCP_PROFILES)
    assert (step.status, step.summary) == (
        Status.IN_PROGRESS,
        "1 of 2 portal users has a CCP profile.",
    )
    reader.profile_created = True
    reader.save()
    assert statuses(importer)[Step.CCP_PROFILES] == Status.DONE


def test_step4_needs_an_active_rm_account():
    importer = ImporterFactory()
    account = ProgramAccountFactory(importer=importer, status=ProgramAccount.Status.CLOSED)
    step = importer.onboarding_steps.get(step=Step.BUSINESS_INFORMATION)
    assert (step.status, step.summary) == (
        Status.IN_PROGRESS,
        "Missing: an active RM program account.",
    )
    account.status = ProgramAccount.Status.ACTIVE
    account.save()
    assert statuses(importer)[Step.BUSINESS_INFORMATION] == Status.DONE


def test_step4_goes_back_when_the_account_is_deleted():
    importer = ImporterFactory()
    account = ProgramAccountFactory(importer=importer)
    assert statuses(importer)[Step.BUSINESS_INFORMATION] == Status.DONE
    account.delete()
    assert statuses(importer)[Step.BUSINESS_INFORMATION] == Status.IN_PROGRESS


def test_step6_is_done_when_every_portal_user_is_approved():
    importer = ImporterFactory()
    PortalUserFactory(importer=importer, access_approved=True)
    pending = PortalUserFactory(
        importer=importer, ccp_role=PortalUser.CcpRole.EDITOR, access_approved=False
    )
    step = importer.onboarding_steps.get(step=Step.EMPLOYEE_ACCESS)
    assert (step.status, step.summary) == (
        Status.IN_PROGRESS,
        "1 of 2 portal users has their access approved.",
    )
    pending.access_approved = True
    pending.save()
    assert statuses(importer)[Step.EMPLOYEE_ACCESS] == Status.DONE


@pytest.mark.parametrize("step", [Step.REGISTRATION])  # step 1 follows the security records
def test_manual_steps_follow_the_persons_confirmation(step):
    importer = ImporterFactory()
    agent = UserFactory()
    row = set_step_status(
        importer=importer,
        step=step,
        status=Status.DONE,
        by=agent,
        completed_on=dt.date(2026, 11, 2),
    )
    assert (row.status, row.derived, row.confirmed_by, row.completed_on) == (
        Status.DONE,
        False,
        agent,
        dt.date(2026, 11, 2),
    )


def test_a_derived_step_cannot_be_ticked_done_by_hand():
    importer = ImporterFactory()
    with pytest.raises(ValueError, match="Step 2 follows the importer's records"):
        set_step_status(importer=importer, step=Step.BAMS, status=Status.DONE, by=UserFactory())
    assert statuses(importer)[Step.BAMS] == Status.NOT_STARTED


def test_blocked_wins_over_derivation_until_cleared():
    importer = ImporterFactory()
    PortalUserFactory.create_batch(2, importer=importer)
    user = UserFactory()
    row = set_step_status(
        importer=importer, step=Step.BAMS, status=Status.BLOCKED, by=user, note="BAM on leave"
    )
    assert (row.status, row.summary) == (Status.BLOCKED, "BAM on leave")
    row = set_step_status(importer=importer, step=Step.BAMS, status="", by=user)
    assert row.status == Status.DONE


def test_refresh_is_idempotent_and_writes_nothing_when_unchanged():
    importers = ImporterFactory.create_batch(3)
    PortalUserFactory(importer=importers[0])
    history_before = OnboardingStep.history.count()
    assert refresh_checklists() == 0
    assert refresh_checklists() == 0
    assert OnboardingStep.objects.count() == 21
    assert OnboardingStep.history.count() == history_before


def test_refresh_recreates_missing_rows():
    importer = ImporterFactory()
    importer.onboarding_steps.filter(step=Step.REGISTRATION).delete()
    assert refresh_checklists() == 1
    assert importer.onboarding_steps.count() == 7


@pytest.mark.parametrize("count", [1, 20])
def test_refresh_runs_in_constant_queries(django_assert_max_num_queries, count):
    """No query per importer: 4 reads per batch, then batched inserts (SQLite splits big ones)."""
    ImporterFactory.create_batch(count)
    OnboardingStep.objects.all().delete()
    with django_assert_max_num_queries(16):
        assert refresh_checklists() == count * 7


def test_step7_follows_the_delegations(time_machine):
    from tests.factories import DelegationFactory

    time_machine.move_to(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC))
    importer = ImporterFactory()
    ProgramAccountFactory(importer=importer)
    assert statuses(importer)[Step.BROKER_DELEGATION] == Status.NOT_STARTED
    d = DelegationFactory(importer=importer, status="pending", expiry_date=None)
    assert statuses(importer)[Step.BROKER_DELEGATION] == Status.IN_PROGRESS
    d.status = "active"
    d.save()
    step = importer.onboarding_steps.get(step=Step.BROKER_DELEGATION)
    assert (step.status, step.derived) == (Status.BLOCKED, True)
    d.expiry_date = dt.date(2027, 11, 30)
    d.save()
    step = importer.onboarding_steps.get(step=Step.BROKER_DELEGATION)
    assert (step.status, step.summary) == (Status.DONE, "BMR with pBAM, valid until 2027-11-30.")


def test_step7_pmr_missing_an_account_is_not_done(time_machine):
    from tests.factories import DelegationFactory

    time_machine.move_to(dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC))
    importer = ImporterFactory()
    first = ProgramAccountFactory(importer=importer)
    ProgramAccountFactory(importer=importer)
    d = DelegationFactory(importer=importer, relationship="PMR")
    d.program_accounts.add(first)
    assert statuses(importer)[Step.BROKER_DELEGATION] == Status.IN_PROGRESS
