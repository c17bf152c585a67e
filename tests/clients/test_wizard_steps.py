"""The onboarding wizard's forms and domain: each step's validation and what it does to the records.

Pages, access, resume and finishing through HTTP are in ``test_wizard.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms import (
    EXPIRY_REQUIRED,
    BamsForm,
    BrokerAccessForm,
    BusinessForm,
    EmployeeAccessForm,
    ProfilesForm,
    RegistrationForm,
    SecurityForm,
)
from clients.models import Importer, OnboardingStep, OnboardingWizard, PortalUser
from delegation.models import Delegation
from payments.models import FinancialSecurity
from tests.factories import (
    DelegationFactory,
    ImporterFactory,
    PortalUserFactory,
    ProgramAccountFactory,
    StatementFactory,
    StatementLineFactory,
    UserFactory,
    bn9_for,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)
Status = OnboardingStep.Status


@pytest.fixture
def importer():
    return ImporterFactory(legal_name="Maple Leaf Provisions Inc.")


@pytest.fixture
def account(importer):
    return ProgramAccountFactory(importer=importer)


@pytest.fixture
def bam():
    return UserFactory(email="dana@maple.example.com", full_name="Dana Whitfield")


def make(form_class, data=None, files=None, *, importer, user, saved=None, today=TODAY):
    return form_class(data, files, importer=importer, user=user, today=today, saved=saved or {})


def status_of(importer, step: int) -> str:
    return OnboardingStep.objects.get(importer=importer, step=step).status


# --- Navigation -------------------------------------------------------------------------------------


def test_next_and_resume_steps(importer):
    wizard = OnboardingWizard.objects.create(importer=importer)
    assert steps.resume_step(wizard).slug == "security"
    wizard.completed_steps = ["security", "bams", "business"]
    assert steps.next_step(wizard).slug == "profiles"
    assert steps.next_step(wizard, after="business").slug == "registration"
    assert steps.next_step(wizard, after="broker-access").slug == "profiles"  # wraps round
    wizard.current_step = "business"
    assert steps.resume_step(wizard).slug == "business"
    wizard.completed_steps = list(steps.SLUGS)
    assert steps.next_step(wizard) is None
    assert steps.all_done(wizard)


# --- Step 1: security -------------------------------------------------------------------------------


def test_a_new_importer_is_shown_the_5000_minimum(importer, account):
    (requirement,) = steps.security_requirements(importer, TODAY)
    assert requirement.bn15 == account.bn15
    assert requirement.bond == requirement.cash == Decimal("5000.00")
    assert not requirement.from_history


def test_no_account_yet_still_shows_the_minimum(importer):
    assert steps.security_requirements(importer, TODAY) == [
        steps.Requirement(None, Decimal("5000.00"), Decimal("5000.00"), False)
    ]


def test_with_history_the_required_amount_comes_from_the_payments_app(importer, account, bam):
    statement = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    StatementLineFactory(statement=statement, amount=Decimal("30000.00"))
    StatementLineFactory(statement=statement, amount=Decimal("2000.50"))
    (requirement,) = steps.security_requirements(importer, TODAY)
    assert requirement.from_history
    assert requirement.bond == Decimal("16000.25")  # 50 % of the highest month
    assert requirement.cash == Decimal("32000.50")
    form = make(SecurityForm, importer=importer, user=bam)
    assert form.requirements == [requirement]


def bond_data(account, **overrides):
    data = {
        "method": "surety_bond",
        "state": "in_force",
        "program_account": account.pk,
        "surety_company": "Trisura Guarantee Insurance Company",
        "bond_number": "tb-778899",
        "amount": "5000.00",
        "effective_date": "2026-11-01",
        "expiry_date": "",
    }
    data.update(overrides)
    return data


def test_a_bond_in_force_needs_its_surety_and_number(importer, account, bam):
    form = make(
        SecurityForm,
        bond_data(account, surety_company="", bond_number="", amount=""),
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    assert "surety_company" in form.errors
    assert "bond_number" in form.errors
    assert form.errors["amount"] == ["Enter the amount of the security."]


def test_a_bond_is_recorded_as_a_security_and_updates_the_checklist(importer, account, bam):
    form = make(SecurityForm, bond_data(account), importer=importer, user=bam)
    assert form.is_valid(), form.errors
    outcome = form.apply(by=bam)
    security = FinancialSecurity.objects.get()
    assert outcome.keep == {"security_id": security.pk}
    assert (security.kind, security.status, security.bond_number) == (
        "surety_bond",
        "active",
        "TB-778899",
    )
    assert security.recorded_by == bam
    assert status_of(importer, 1) == Status.DONE

    # Revisited: the same record is updated, never duplicated.
    again = make(
        SecurityForm,
        bond_data(account, amount="7500.00"),
        importer=importer,
        user=bam,
        saved=outcome.keep,
    )
    assert again.is_valid(), again.errors
    again.apply(by=bam)
    assert FinancialSecurity.objects.get().amount == Decimal("7500.00")


def test_a_bond_below_the_requirement_is_a_warning(importer, account, bam):
    statement = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    StatementLineFactory(statement=statement, amount=Decimal("40000.00"))
    form = make(SecurityForm, bond_data(account), importer=importer, user=bam)
    assert form.is_valid(), form.errors
    outcome = form.apply(by=bam)
    assert "less than the $20,000.00 CBSA requires" in outcome.warnings[0]


def test_not_yet_or_card_records_nothing(importer, account, bam):
    form = make(
        SecurityForm, {"method": "surety_bond", "state": "not_yet"}, importer=importer, user=bam
    )
    assert form.is_valid(), form.errors
    assert form.apply(by=bam).warnings == []
    card = make(SecurityForm, {"method": "credit_card"}, importer=importer, user=bam)
    assert card.is_valid(), card.errors
    assert "no release prior to payment" in card.apply(by=bam).warnings[0]
    assert not FinancialSecurity.objects.exists()


def test_a_security_needs_an_rm_account_first(importer, bam):
    form = make(
        SecurityForm,
        {"method": "cash_deposit", "state": "submitted", "amount": "5000"},
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    assert "step 4" in form.errors["program_account"][0]


# --- Step 2: BAMs -----------------------------------------------------------------------------------


def test_one_bam_is_a_warning_not_an_error(importer, bam):
    form = make(
        BamsForm,
        {
            "bam1_name": "Dana Whitfield",
            "bam1_email": "Dana@Maple.example.com",
            "bam1_responsibility": "both",
            "bam2_responsibility": "customs",
        },
        importer=importer,
        user=bam,
    )
    assert form.is_valid(), form.errors
    assert "we recommend two" in form.warning
    outcome = form.apply(by=bam)
    assert "we recommend two" in outcome.warnings[0]
    person = PortalUser.objects.get()
    assert (person.email, person.ccp_role, person.responsibility) == (
        "dana@maple.example.com",
        "BAM",
        "both",
    )
    assert status_of(importer, 2) == Status.IN_PROGRESS


def bams_data(**overrides):
    data = {
        "bam1_name": "Dana Whitfield",
        "bam1_email": "dana@maple.example.com",
        "bam1_responsibility": "payments",
        "bam2_name": "Luc Tremblay",
        "bam2_email": "luc@maple.example.com",
        "bam2_responsibility": "customs",
    }
    data.update(overrides)
    return data


def test_two_bams_and_their_ids_on_revisit(importer, bam):
    form = make(BamsForm, bams_data(), importer=importer, user=bam)
    assert form.is_valid(), form.errors
    assert form.warning is None
    ids = form.apply(by=bam).keep["portal_user_ids"]
    assert PortalUser.objects.filter(ccp_role="BAM").count() == 2
    # Correcting a typo in an email updates the same person.
    form = make(
        BamsForm,
        bams_data(bam2_email="luc.tremblay@maple.example.com", bam1_id=ids[0], bam2_id=ids[1]),
        importer=importer,
        user=bam,
    )
    assert form.is_valid(), form.errors
    form.apply(by=bam)
    assert PortalUser.objects.get(pk=ids[1]).email == "luc.tremblay@maple.example.com"
    assert PortalUser.objects.count() == 2


def test_two_bams_need_two_emails_and_a_name(importer, bam):
    form = make(
        BamsForm,
        bams_data(bam2_email="dana@maple.example.com", bam1_name=""),
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    assert form.errors["bam1_name"] == ["This field is required."]
    form = make(
        BamsForm, bams_data(bam2_email="DANA@maple.example.com"), importer=importer, user=bam
    )
    assert not form.is_valid()
    assert "same email" in form.errors["bam2_email"][0]


def test_a_bam_id_of_another_importer_is_ignored(importer, bam):
    stranger = PortalUserFactory(importer=ImporterFactory(), email="x@other.example.com")
    form = make(BamsForm, bams_data(bam1_id=stranger.pk), importer=importer, user=bam)
    assert form.is_valid(), form.errors
    form.apply(by=bam)
    stranger.refresh_from_db()
    assert stranger.email == "x@other.example.com"
    assert importer.portal_users.count() == 2


# --- Steps 3 and 6: profiles and access ----------------------------------------------------------


def test_profiles_are_recorded_and_a_person_added(importer, account, bam):
    dana = PortalUserFactory(importer=importer, sign_in_method="", profile_created=False)
    form = make(
        ProfilesForm,
        {
            f"p{dana.pk}_sign_in": "sign_in_partner",
            f"p{dana.pk}_profile": "on",
            "new_name": "Sam Reader",
            "new_email": "sam@maple.example.com",
            "new_role": "READER",
            "new_sign_in": "gckey",
        },
        importer=importer,
        user=bam,
    )
    assert form.is_valid(), form.errors
    form.apply(by=bam)
    dana.refresh_from_db()
    assert (dana.sign_in_method, dana.profile_created) == ("sign_in_partner", True)
    sam = PortalUser.objects.get(email="sam@maple.example.com")
    assert (sam.ccp_role, sam.sign_in_method, sam.profile_created) == ("READER", "gckey", False)
    assert status_of(importer, 3) == Status.IN_PROGRESS  # Sam has no profile yet


def test_an_added_person_follows_the_people_page_rules(importer, account, bam):
    dana = PortalUserFactory(importer=importer, email="dana@maple.example.com")
    form = make(
        ProfilesForm,
        {"new_name": "Dana Again", "new_email": dana.email, "new_role": "PAM"},
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    assert "already one of this importer's portal users" in form.errors["new_email"][0]
    assert "program account they manage" in form.errors["new_account"][0]


def test_employee_access_roles_and_approval(importer, account, bam):
    dana = PortalUserFactory(importer=importer, access_approved=False)
    sam = PortalUserFactory(importer=importer, ccp_role="READER", access_approved=False)
    data = {
        f"p{dana.pk}_role": "BAM",
        f"p{dana.pk}_approved": "on",
        f"p{sam.pk}_role": "PAM",
        f"p{sam.pk}_approved": "on",
    }
    form = make(EmployeeAccessForm, data, importer=importer, user=bam)
    assert not form.is_valid()
    assert f"p{sam.pk}_account" in form.errors
    form = make(
        EmployeeAccessForm,
        {**data, f"p{sam.pk}_account": account.pk},
        importer=importer,
        user=bam,
    )
    assert form.is_valid(), form.errors
    form.apply(by=bam)
    sam.refresh_from_db()
    assert (sam.ccp_role, sam.program_account, sam.access_approved) == ("PAM", account, True)
    assert status_of(importer, 6) == Status.DONE


# --- Step 4: business information -----------------------------------------------------------------


def business_data(importer, **overrides):
    data = {
        "legal_name": "Maple Leaf Provisions Inc.",
        "operating_name": "",
        "bn9": importer.bn9,
        "accounts": f"{importer.bn9}RM0001\n{importer.bn9}rm0002",
        "address_line1": "100 King Street West",
        "address_line2": "Suite 5",
        "city": "Toronto",
        "province": "ON",
        "postal_code": "m5h1a1",
        "broker_retrieves": "on",
    }
    data.update(overrides)
    return data


def test_business_information_updates_the_importer_and_adds_accounts(importer, bam):
    form = make(BusinessForm, business_data(importer), importer=importer, user=bam)
    assert form.is_valid(), form.errors
    outcome = form.apply(by=bam)
    assert outcome.keep == {"broker_retrieves": True}
    importer.refresh_from_db()
    assert (importer.address_line2, importer.postal_code) == ("Suite 5", "M5H 1A1")
    assert sorted(importer.program_accounts.values_list("bn15", flat=True)) == [
        f"{importer.bn9}RM0001",
        f"{importer.bn9}RM0002",
    ]
    assert status_of(importer, 4) == Status.DONE


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bn9", "123456780", "last digit does not match"),
        ("bn9", "12345", "has 9 digits"),
        ("accounts", "123456782RP0001", "only an import-export (RM) account"),
        ("accounts", "RM0001", "has 15 characters"),
        ("postal_code", "H2X 1Y4", "is not in ON"),
    ],
)
def test_bad_identifiers_are_refused(importer, bam, field, value, message):
    if field == "bn9":  # only a BN9 the broker has not recorded yet can be typed
        Importer.objects.filter(pk=importer.pk).update(bn9="")
        importer.bn9 = ""
    form = make(
        BusinessForm, business_data(importer, **{field: value}), importer=importer, user=bam
    )
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_an_account_of_another_business_number_is_refused(importer, bam):
    other = bn9_for(4242)
    form = make(
        BusinessForm,
        business_data(importer, accounts=f"{other}RM0001"),
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    assert "belongs to Business Number" in form.errors["accounts"][0]


def test_the_statement_or_the_request_is_required(importer, bam):
    form = make(
        BusinessForm, business_data(importer, broker_retrieves=""), importer=importer, user=bam
    )
    assert not form.is_valid()
    assert "retrieve it from CBSA" in form.errors["statement"][0]
    # A file saved earlier counts.
    form = make(
        BusinessForm,
        business_data(importer, broker_retrieves=""),
        importer=importer,
        user=bam,
        saved={"statement_file": {"name": "soa.pdf", "path": "x"}},
    )
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("soa.docx", b"PK\x03\x04", "not a PDF or CSV"),
        ("soa.pdf", b"hello", "not a readable PDF"),
        ("soa.pdf", b"", "is empty"),
        ("soa.csv", b"\x00\x01\x02", "does not look like a CSV"),
    ],
)
def test_a_bad_statement_file_is_refused(importer, bam, name, content, message):
    upload = SimpleUploadedFile(name, content)
    form = make(
        BusinessForm,
        business_data(importer, broker_retrieves=""),
        {"statement": upload},
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    assert message in form.errors["statement"][0]


def test_a_statement_is_kept_for_the_broker(importer, bam, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    upload = SimpleUploadedFile("SOA Oct 2026.pdf", b"%PDF-1.7 statement", "application/pdf")
    form = make(
        BusinessForm,
        business_data(importer, broker_retrieves=""),
        {"statement": upload},
        importer=importer,
        user=bam,
    )
    assert form.is_valid(), form.errors
    stored = form.apply(by=bam).keep["statement_file"]
    assert stored["name"] == "SOA_Oct_2026.pdf"
    assert stored["path"].startswith(f"onboarding/{importer.pk}/")
    with default_storage.open(stored["path"]) as fh:
        assert fh.read() == b"%PDF-1.7 statement"


# --- Step 5: registration ------------------------------------------------------------------------


def test_registration_needs_a_past_date_and_confirms_step_5(importer, bam):
    form = make(RegistrationForm, {"registered": "on"}, importer=importer, user=bam)
    assert not form.is_valid()
    assert "registered_on" in form.errors
    form = make(
        RegistrationForm,
        {"registered": "on", "registered_on": "2026-12-01"},
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    form = make(
        RegistrationForm,
        {"registered": "on", "registered_on": "2026-11-20"},
        importer=importer,
        user=bam,
    )
    assert form.is_valid(), form.errors
    form.apply(by=bam)
    row = OnboardingStep.objects.get(importer=importer, step=5)
    assert (row.status, row.completed_on, row.confirmed_by) == (
        Status.DONE,
        dt.date(2026, 11, 20),
        bam,
    )
    # "Not yet" undoes the confirmation.
    form = make(RegistrationForm, {}, importer=importer, user=bam)
    assert form.is_valid()
    form.apply(by=bam)
    assert status_of(importer, 5) == Status.NOT_STARTED


# --- Step 7: broker access -------------------------------------------------------------------------


def access_data(**overrides):
    data = {
        "relationship": "BMR",
        "authority": "pBAM",
        "approved_on": "2026-11-20",
        "expiry_date": "2028-11-30",
    }
    data.update(overrides)
    return data


def test_a_blank_expiry_date_is_refused_with_the_reason(importer, account, bam):
    form = make(BrokerAccessForm, access_data(expiry_date=""), importer=importer, user=bam)
    assert not form.is_valid()
    # One short sentence: why a blank date is dangerous is the page's explanation, not the error.
    assert form.errors["expiry_date"] == [str(EXPIRY_REQUIRED)]
    assert len(form.errors["expiry_date"][0].split()) <= 15
    assert not Delegation.objects.exists()


def test_the_delegation_rules_apply(importer, account, bam):
    form = make(
        BrokerAccessForm,
        access_data(expiry_date="2026-11-01", relationship="PMR"),
        importer=importer,
        user=bam,
    )
    assert not form.is_valid()
    assert "in the past" in form.errors["expiry_date"][0]
    assert "choose at least one program account" in form.errors["program_accounts"][0]
    form = make(BrokerAccessForm, access_data(authority="pPAM"), importer=importer, user=bam)
    assert not form.is_valid()
    assert "one program account" in form.errors["authority"][0]


def test_broker_access_is_recorded_as_an_active_delegation(importer, account, bam):
    requested = DelegationFactory(
        importer=importer, status="requested", approved_on=None, expiry_date=None
    )
    form = make(BrokerAccessForm, access_data(), importer=importer, user=bam)
    assert form.is_valid(), form.errors
    outcome = form.apply(by=bam)
    assert outcome.keep == {"delegation_id": requested.pk}  # the broker's open request
    requested.refresh_from_db()
    assert (requested.status, requested.expiry_date, requested.approved_on) == (
        "active",
        dt.date(2028, 11, 30),
        dt.date(2026, 11, 20),
    )
    assert status_of(importer, 7) == Status.DONE
    # A soon expiry is allowed, with a reminder.
    form = make(
        BrokerAccessForm,
        access_data(expiry_date="2027-01-15"),
        importer=importer,
        user=bam,
        saved=outcome.keep,
    )
    assert form.is_valid(), form.errors
    assert "less than three months" in form.apply(by=bam).warnings[0]
    assert Delegation.objects.count() == 1


def test_resaving_the_prefilled_step_updates_the_delegation_it_describes(importer, account, bam):
    """Bow River: the broker recorded the active delegation; the BAM opens step 7 (prefilled from
    it) and saves it as it is. That is the same delegation, not a second one."""
    recorded = DelegationFactory(
        importer=importer,
        status="active",
        relationship="BMR",
        authority="pBAM",
        approved_on=dt.date(2026, 10, 1),
        expiry_date=dt.date(2027, 10, 1),
    )
    initial = BrokerAccessForm.initial_from_records(importer, bam, TODAY)
    data = {
        "relationship": initial["relationship"],
        "authority": initial["authority"],
        "approved_on": initial["approved_on"].isoformat(),
        "expiry_date": initial["expiry_date"].isoformat(),
    }
    for _attempt in range(2):  # saved twice, with no delegation id kept by the wizard
        form = make(BrokerAccessForm, data, importer=importer, user=bam)
        assert form.is_valid(), form.errors
        assert form.apply(by=bam).keep == {"delegation_id": recorded.pk}
    assert list(Delegation.objects.values_list("pk", flat=True)) == [recorded.pk]


def test_a_different_relationship_or_account_set_is_another_delegation(importer, account, bam):
    other = ProgramAccountFactory(importer=importer)
    pmr = DelegationFactory(
        importer=importer, status="active", relationship="PMR", authority="pBAM"
    )
    pmr.program_accounts.set([account])
    both = access_data(relationship="PMR", program_accounts=[account.pk, other.pk])
    form = make(BrokerAccessForm, both, importer=importer, user=bam)
    assert form.is_valid(), form.errors
    created = form.apply(by=bam).keep["delegation_id"]
    assert created != pmr.pk
    same = access_data(relationship="PMR", program_accounts=[account.pk])
    form = make(BrokerAccessForm, same, importer=importer, user=bam)
    assert form.is_valid(), form.errors
    assert form.apply(by=bam).keep["delegation_id"] == pmr.pk
    assert Delegation.objects.filter(importer=importer).count() == 2


def test_pmr_with_its_accounts(importer, account, bam):
    ProgramAccountFactory(importer=importer)
    form = make(
        BrokerAccessForm,
        access_data(relationship="PMR", authority="pPAM", program_accounts=[account.pk]),
        importer=importer,
        user=bam,
    )
    assert form.is_valid(), form.errors
    delegation = Delegation.objects.get(pk=form.apply(by=bam).keep["delegation_id"])
    assert list(delegation.program_accounts.all()) == [account]


# --- Finishing -------------------------------------------------------------------------------------


def test_finishing_rederives_and_emails_the_agent_once(
    importer, account, bam, django_capture_on_commit_callbacks
):
    agent = UserFactory(email="agent@broker.example.com", roles=["broker agent"])
    importer.assigned_agent = agent
    importer.save()
    wizard = OnboardingWizard.objects.create(
        importer=importer,
        completed_steps=list(steps.SLUGS),
        data={"business": {"broker_retrieves": True}},
    )
    OnboardingStep.objects.filter(importer=importer).delete()  # stale checklist
    with django_capture_on_commit_callbacks(execute=True):
        assert steps.finish(wizard=wizard, by=bam) is True
    assert OnboardingStep.objects.filter(importer=importer).count() == 7
    wizard.refresh_from_db()
    assert wizard.finished_by == bam and wizard.finished_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["agent@broker.example.com"]
    assert "Maple Leaf Provisions Inc." in message.subject
    assert "retrieve their latest statement" in message.body
    assert message.alternatives[0][1] == "text/html"
    with django_capture_on_commit_callbacks(execute=True):
        assert steps.finish(wizard=wizard, by=bam) is False
    assert len(mail.outbox) == 1


def test_without_an_agent_the_client_group_agents_hear(importer):
    from tests.factories import ClientGroupFactory

    group = ClientGroupFactory()
    group.agents.add(UserFactory(email="team@broker.example.com"))
    importer.client_group = group
    importer.save()
    assert steps.agent_recipients(importer) == ["team@broker.example.com"]
    assert steps.agent_recipients(ImporterFactory()) == []
