"""``manage.py seed_demo``: a broker team and ~30 importers at every onboarding stage, idempotently."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from carm_portal.calendar import cbsa_today
from carm_portal.demo.seed import DEMO_PASSWORD
from carm_portal.models import User
from carm_portal.notification_models import Notification
from clients import onboarding
from clients.access import BrokerRole, visible_importers
from clients.models import (
    ClientGroup,
    Importer,
    Membership,
    OnboardingStep,
    PortalUser,
    ProgramAccount,
)
from clients.validators import normalize_bn9, normalize_bn15, normalize_postal_code
from payments.models import FinancialSecurity
from services.compliance.corrections import days_left
from services.models import (
    Booking,
    Charge,
    ComplianceDocument,
    Correction,
    Fee,
    Prospect,
    Registration,
    RequestKind,
    RequestStatus,
    ServiceRequest,
    WalkthroughSlot,
    WebinarSession,
)
from statements.models import ImportBatch

pytestmark = pytest.mark.django_db

SERVICES = [
    Prospect,
    WebinarSession,
    Registration,
    WalkthroughSlot,
    Booking,
    ServiceRequest,
    Fee,
    Charge,
    Correction,
    ComplianceDocument,
    FinancialSecurity,
    Notification,
]

DONE = OnboardingStep.Status.DONE
BLOCKED = OnboardingStep.Status.BLOCKED
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def output(django_db_setup, django_db_blocker, tmp_path_factory) -> str:
    """Seed once for the module, in a transaction rolled back at its end.

    Each test's own transaction nests inside it as a savepoint, so a test that changes the demo
    data (or seeds again) leaves the next one the freshly seeded state. The hasher is the fast one
    the tests use (conftest sets it per test, after this fixture has run).
    """
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=FAST_HASHERS,
            # The demo's compliance documents: in a directory of the module's, not var/media.
            STORAGES={
                **settings.STORAGES,
                "default": {
                    "BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path_factory.mktemp("demo-media"))},
                },
            },
        ),
        transaction.atomic(),
    ):
        yield seed()
        transaction.set_rollback(True)


def snapshot() -> dict[str, object]:
    """Row counts, history counts and last-modified stamps of everything the seed writes."""
    models = [User, EmailAddress, ClientGroup, Importer, ProgramAccount, PortalUser, Membership]
    tracked = [Importer, ProgramAccount, PortalUser, Membership, OnboardingStep]
    return {
        "rows": {m.__name__: m.objects.count() for m in [*models, OnboardingStep, *SERVICES]},
        "history": {m.__name__: m.history.count() for m in tracked},
        "importers": list(Importer.objects.order_by("pk").values_list("pk", "updated_at")),
        "steps": list(OnboardingStep.objects.order_by("pk").values_list("pk", "updated_at")),
        "passwords": list(User.objects.order_by("pk").values_list("password", flat=True)),
    }


def progress_by_importer() -> dict[str, tuple[int, bool]]:
    """legal name -> (steps done, any step blocked)."""
    result = {}
    for importer in Importer.objects.filter(prospect=None).prefetch_related("onboarding_steps"):
        steps = list(importer.onboarding_steps.all())
        done, _total = onboarding.progress(steps)
        result[importer.legal_name] = (done, any(s.status == BLOCKED for s in steps))
    return result


def test_it_prints_the_summary_and_every_login_with_the_password(output):
    assert "importers: 30" in output
    assert f"Password for every demo login: {DEMO_PASSWORD}" in output
    for email in [
        "admin@demo.carm-portal.local",
        "agent@demo.carm-portal.local",
        "agent2@demo.carm-portal.local",
        "finance@demo.carm-portal.local",
        "bam.rideau@demo.carm-portal.local",
        "finance.rideau@demo.carm-portal.local",
        "staff.rideau@demo.carm-portal.local",
    ]:
        assert email in output


def test_broker_team_holds_one_role_each_with_a_verified_email_and_the_demo_password(output):
    roles = {
        user.email.split("@")[0]: sorted(user.groups.values_list("name", flat=True))
        for user in User.objects.filter(groups__name__in=list(BrokerRole)).distinct()
    }

    assert roles == {
        "admin": [BrokerRole.ADMIN],
        "agent": [BrokerRole.AGENT],
        "agent2": [BrokerRole.AGENT],
        "finance": [BrokerRole.FINANCE],
    }
    admin = User.objects.get(email="admin@demo.carm-portal.local")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert User.objects.filter(is_staff=True).count() == 1
    for user in User.objects.all():
        assert user.check_password(DEMO_PASSWORD)
        assert (
            EmailAddress.objects.filter(
                user=user, email=user.email, verified=True, primary=True
            ).count()
            == 1
        )
    assert ClientGroup.objects.count() == 3
    for group in ClientGroup.objects.all():
        assert group.agents.exists()
        assert set(group.agents.values_list("groups__name", flat=True)) == {BrokerRole.AGENT}


def test_importers_have_valid_business_numbers_rm_accounts_and_addresses(output):
    # The prospect converted in the demo (services/demo.py) is a new client with no BN9 yet.
    importers = list(Importer.objects.filter(prospect=None).prefetch_related("program_accounts"))

    assert len(importers) == 30
    assert {i.status for i in importers} == set(Importer.Status.values)
    for importer in importers:
        assert normalize_bn9(importer.bn9) == importer.bn9
        accounts = list(importer.program_accounts.all())
        assert 1 <= len(accounts) <= 3
        for account in accounts:
            assert normalize_bn15(account.bn15) == account.bn15
            assert account.bn15[:11] == f"{importer.bn9}RM"
        code = normalize_postal_code(importer.postal_code, province=importer.province)
        assert code == importer.postal_code
        importer.full_clean()
    assert Importer.objects.exclude(assigned_agent=None).exists()
    assert (
        not Importer.objects.exclude(assigned_agent=None)
        .exclude(assigned_agent__groups__name=BrokerRole.AGENT)
        .exists()
    )


def test_every_onboarding_stage_is_represented(output):
    progress = progress_by_importer()
    done_counts = Counter(done for done, _blocked in progress.values())

    assert done_counts[0] >= 2
    assert done_counts[7] >= 3
    assert {1, 2, 3, 4, 5, 6} <= set(done_counts)
    assert sum(blocked for _done, blocked in progress.values()) == 2
    notes = OnboardingStep.objects.filter(status=BLOCKED).values_list("note", flat=True)
    assert "Waiting on surety bond from Trisura." in notes
    # A step confirmed by a person says who and when; finished steps say since when.
    admin = User.objects.get(email="admin@demo.carm-portal.local")
    confirmed = OnboardingStep.objects.exclude(manual_status="")
    assert confirmed.count() > 0
    assert set(confirmed.values_list("confirmed_by", flat=True)) == {admin.pk}
    assert not confirmed.filter(manual_status=DONE, completed_on=None).exists()


def test_one_bam_and_two_bam_stages_show_in_the_derived_steps(output):
    bams = Counter(
        OnboardingStep.objects.filter(step=OnboardingStep.Step.BAMS).values_list(
            "status", flat=True
        )
    )

    assert set(bams) == {
        OnboardingStep.Status.NOT_STARTED,
        OnboardingStep.Status.IN_PROGRESS,
        OnboardingStep.Status.DONE,
    }


def test_importer_users_have_memberships_and_their_ccp_portal_user(output):
    memberships = {
        (m.user.email, m.role, m.importer.legal_name)
        for m in Membership.objects.select_related("user", "importer")
    }

    assert memberships == {
        ("bam.rideau@demo.carm-portal.local", "bam", "Rideau Office Interiors Inc."),
        ("finance.rideau@demo.carm-portal.local", "finance", "Rideau Office Interiors Inc."),
        ("staff.rideau@demo.carm-portal.local", "employee", "Rideau Office Interiors Inc."),
        ("bam.bluenose@demo.carm-portal.local", "bam", "Bluenose Marine Supply Ltd."),
        ("bam.bowriver@demo.carm-portal.local", "bam", "Bow River Oilfield Supply Ltd."),
    }
    for membership in Membership.objects.select_related("user"):
        person = PortalUser.objects.get(user=membership.user, importer=membership.importer)
        assert person.email == membership.user.email
        if membership.role == Membership.Role.BAM:
            assert person.ccp_role == PortalUser.CcpRole.BAM
    bam = User.objects.get(email="bam.rideau@demo.carm-portal.local")
    assert [i.legal_name for i in visible_importers(bam)] == ["Rideau Office Interiors Inc."]


def test_running_twice_changes_nothing(output):
    before = snapshot()

    second = seed()

    assert snapshot() == before
    assert "already up to date, nothing changed" in second


def test_running_again_puts_back_what_was_changed(output):
    importer = Importer.objects.get(legal_name="Rideau Office Interiors Inc.")
    importer.city = "Kanata"
    importer.save()
    PortalUser.objects.filter(importer=importer).first().delete()
    admin = User.objects.get(email="admin@demo.carm-portal.local")
    admin.set_password("something-else")
    admin.save()

    again = seed()

    importer.refresh_from_db()
    assert importer.city == "Ottawa"
    assert PortalUser.objects.filter(importer=importer).count() == 5
    assert User.objects.get(pk=admin.pk).check_password(DEMO_PASSWORD)
    assert "created CCP portal users: 1; updated users: 1, importers: 1." in again


def test_it_refuses_to_run_in_production(output, settings):
    settings.DJANGO_ENV = "production"
    Importer.objects.filter(legal_name="Rideau Office Interiors Inc.").update(city="Kanata")
    before = snapshot()

    with pytest.raises(CommandError, match="DJANGO_ENV is production"):
        seed()

    assert snapshot() == before


def test_it_runs_in_production_when_forced(output, settings):
    settings.DJANGO_ENV = "production"
    Importer.objects.filter(legal_name="Rideau Office Interiors Inc.").update(city="Kanata")

    forced = seed(force=True)

    assert Importer.objects.get(legal_name="Rideau Office Interiors Inc.").city == "Ottawa"
    assert "updated importers: 1" in forced


def test_services_and_compliance_pages_have_content(output):
    prospects = Prospect.objects.all()
    assert prospects.filter(confirmed_at=None).exists()
    assert prospects.exclude(importer=None).count() == 1
    assert len({p.stage for p in prospects}) >= 2

    upcoming = WebinarSession.objects.filter(starts_at__gt=timezone.now())
    assert upcoming.count() == 3
    full = upcoming.filter(registrations__status=Registration.Status.WAITLISTED).distinct().get()
    assert full.registrations.filter(status=Registration.Status.CONFIRMED).count() == full.capacity
    past = WebinarSession.objects.get(starts_at__lt=timezone.now())
    assert past.registrations.filter(attended=True).exists()
    assert past.registrations.filter(attended=False).exists()

    assert Booking.objects.filter(completed_at__isnull=False, notes="SOA retrieved").exists()
    assert Booking.objects.filter(completed_at=None, cancelled_at=None).exists()
    assert WalkthroughSlot.objects.filter(bookings=None, starts_at__gt=timezone.now()).exists()

    requests = ServiceRequest.objects.all()
    assert {r.kind for r in requests} == set(RequestKind.values)
    assert len({r.status for r in requests}) >= 5
    approved = requests.get(kind=RequestKind.BOND, status=RequestStatus.APPROVED)
    assert approved.security is not None
    assert approved.security.bond_number == approved.bond_number
    assert {c.status for c in Charge.objects.all()} == set(Charge.Status.values)
    assert Fee.objects.filter(active=True).count() == 4

    today = cbsa_today()
    corrections = list(Correction.objects.all())
    assert any(c.status == Correction.Status.FILED for c in corrections)
    assert any(
        c.status == Correction.Status.OPEN and 0 < days_left(c, today=today) <= 10
        for c in corrections
    )
    assert ComplianceDocument.objects.count() >= 3
    # Every statement file the demo imported is filed as its importer's record, without a worker.
    accepted = ImportBatch.objects.filter(kind="statement", status="accepted")
    assert accepted.exists() and not accepted.filter(filed_at=None).exists()
    assert ComplianceDocument.objects.filter(document_type="soa").exists()

    demo_people = ["agent", "admin", "finance", "bam.rideau", "bam.bowriver"]
    for local in demo_people:
        assert Notification.objects.filter(recipient__email__startswith=f"{local}@").exists(), local
