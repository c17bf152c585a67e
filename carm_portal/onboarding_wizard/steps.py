"""The onboarding wizard's domain: its seven steps and what each step's answers do to the records.

The wizard (``views.py``) walks an importer's people through the seven CARM preparedness steps
(``clients.models.OnboardingStep.Step``). Each step's answers are *applied* the moment the step is
submitted valid, through the same functions and rules the broker's own pages use (securities through
``payments.records``, delegations through ``delegation.validation`` and ``delegation.records``,
checklist confirmations through ``clients.onboarding.set_step_status``), so the checklist reflects
them at once and nothing waits for "finish". Finishing re-derives the checklist, stamps the wizard
finished and tells the assigned agent, once.

Why the records and not only the wizard's saved answers: the broker works from the records (the
delegation sweep, the security check, the checklist), and an importer who stops at step 4 has
still told us something true about steps 1 to 3.

Length: the seven steps' apply functions, each short, in step order: one place to read what a step
does to the records (the forms are one module per step in ``forms/``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import TextChoices
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from carm_portal import stored_text as later
from carm_portal.models import User
from carm_portal.money import format_money
from carm_portal.notification_models import Delivery, Kind
from carm_portal.notifications import deliveries, notify
from carm_portal.user_language import by_language
from clients import access
from clients.models import (
    Importer,
    OnboardingStep,
    OnboardingWizard,
    PortalUser,
    ProgramAccount,
)
from clients.onboarding import refresh_checklist, set_step_status
from delegation.models import Delegation
from delegation.records import record_delegation
from payments.models import FinancialSecurity
from payments.records import save_security
from payments.security import MINIMUM, peaks_for_accounts, requirement_from_peak
from services.compliance.documents import is_filed

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

log = logging.getLogger(__name__)

Step = OnboardingStep.Step
Status = OnboardingStep.Status


# --- The steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WizardStep:
    """One page of the wizard; ``number`` is also its checklist step."""

    number: int
    slug: str
    title: StrOrPromise


STEPS: tuple[WizardStep, ...] = (
    WizardStep(Step.FINANCIAL_SECURITY, "security", _("Financial security")),
    WizardStep(Step.BAMS, "bams", _("Business Account Managers")),
    WizardStep(Step.CCP_PROFILES, "profiles", _("CCP profiles")),
    WizardStep(Step.BUSINESS_INFORMATION, "business", _("Business information")),
    WizardStep(Step.REGISTRATION, "registration", _("Register the business")),
    WizardStep(Step.EMPLOYEE_ACCESS, "employee-access", _("Employee access")),
    WizardStep(Step.BROKER_DELEGATION, "broker-access", _("Broker access")),
)
BY_SLUG: dict[str, WizardStep] = {s.slug: s for s in STEPS}
SLUGS: tuple[str, ...] = tuple(BY_SLUG)


def step_by_slug(slug: str) -> WizardStep | None:
    return BY_SLUG.get(slug)


def settled(wizard: OnboardingWizard, checklist: Iterable[OnboardingStep] = ()) -> set[str]:
    """The steps that need nothing more: answered in the wizard, or done on the checklist.

    The checklist (``clients.onboarding.checklist``, what the home page's "n of 7" counts) is the
    record: a step the broker already knows is done is not asked again.
    """
    done = set(wizard.completed_steps or ())
    by_number = {s.number: s.slug for s in STEPS}
    done.update(by_number[row.step] for row in checklist if row.status == Status.DONE)
    return done


def next_step(
    wizard: OnboardingWizard, after: str | None = None, *, done: set[str] | None = None
) -> WizardStep | None:
    """The first unsettled step after ``after`` (wrapping round), or None when all are settled.

    ``done``: the settled steps (``settled``); the wizard's answered steps when not given.
    """
    done = set(wizard.completed_steps or ()) if done is None else done
    start = SLUGS.index(after) + 1 if after in BY_SLUG else 0
    for slug in SLUGS[start:] + SLUGS[:start]:
        if slug not in done:
            return BY_SLUG[slug]
    return None


def resume_step(wizard: OnboardingWizard, *, done: set[str] | None = None) -> WizardStep:
    """Where "Continue onboarding" lands: the saved step, else the first unsettled, else step 1."""
    if wizard.current_step in BY_SLUG:
        return BY_SLUG[wizard.current_step]
    return next_step(wizard, done=done) or STEPS[0]


def all_done(wizard: OnboardingWizard, *, done: set[str] | None = None) -> bool:
    return set(SLUGS) <= (set(wizard.completed_steps or ()) if done is None else done)


@dataclass
class Outcome:
    """What applying a step did: values to keep with the step's answers, and warnings to show."""

    keep: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --- Step 1: financial security -------------------------------------------------------------------


class SecurityMethod(TextChoices):
    SURETY_BOND = "surety_bond", _("Surety bond (recommended)")
    CASH_DEPOSIT = "cash_deposit", _("Cash deposit in the CCP")
    CREDIT_CARD = "credit_card", _("Credit card, transaction by transaction")
    PAD = "pad", _("Pre-authorized debit, transaction by transaction")


class SecurityState(TextChoices):
    IN_FORCE = "in_force", _("In place: CBSA has accepted it")
    SUBMITTED = "submitted", _("Submitted to CBSA, not accepted yet")
    NOT_YET = "not_yet", _("Not in place yet")


POSTED_METHODS = (SecurityMethod.SURETY_BOND, SecurityMethod.CASH_DEPOSIT)


@dataclass(frozen=True)
class Requirement:
    """The security CBSA requires for one RM account (``bn15`` None: no account recorded yet)."""

    bn15: str | None
    bond: Decimal
    cash: Decimal
    from_history: bool


def security_requirements(importer: Importer, today: dt.date) -> list[Requirement]:
    """Per active RM account, the bond and cash amounts required today (payments' arithmetic).

    With statement history the amount follows the highest monthly total owed over 12 months; a new
    importer (no history, or no account yet) posts the $5,000 minimum.
    """
    accounts = list(
        importer.program_accounts.filter(status=ProgramAccount.Status.ACTIVE).order_by("bn15")
    )
    if not accounts:
        return [Requirement(None, MINIMUM, MINIMUM, False)]
    peaks = peaks_for_accounts([a.pk for a in accounts], on_date=today)
    return [
        Requirement(
            bn15=a.bn15,
            bond=requirement_from_peak(peaks.get(a.pk), FinancialSecurity.Kind.SURETY_BOND),
            cash=requirement_from_peak(peaks.get(a.pk), FinancialSecurity.Kind.CASH_DEPOSIT),
            from_history=a.pk in peaks,
        )
        for a in accounts
    ]


@transaction.atomic
def apply_security(
    *,
    importer: Importer,
    method: str,
    state: str,
    program_account: ProgramAccount | None,
    surety_company: str,
    bond_number: str,
    amount: Decimal | None,
    effective_date: dt.date | None,
    expiry_date: dt.date | None,
    security_id: int | None,
    by: User,
    today: dt.date,
) -> Outcome:
    """Record the bond or cash deposit the importer has posted (or submitted) as a security.

    The security the wizard recorded before is updated rather than duplicated (``security_id``).
    "Not yet", a credit card or pre-authorized debit record nothing: there is no security to
    hold, and the checklist's step 1 keeps saying so.
    """
    outcome = Outcome()
    if method not in POSTED_METHODS:
        outcome.warnings.append(
            str(
                _(
                    "Without a bond or cash deposit there is no release prior to payment: your "
                    "goods wait at the border until the duties and taxes are paid."
                )
            )
        )
        return outcome
    if state == SecurityState.NOT_YET or program_account is None or amount is None:
        return outcome
    security = (
        FinancialSecurity.objects.filter(pk=security_id, program_account__importer=importer).first()
        if security_id
        else None
    ) or FinancialSecurity()
    security.program_account = program_account
    security.kind = method
    security.surety_company = surety_company if method == SecurityMethod.SURETY_BOND else ""
    security.bond_number = bond_number if method == SecurityMethod.SURETY_BOND else ""
    security.amount = amount
    security.effective_date = effective_date
    security.expiry_date = expiry_date
    security.status = (
        FinancialSecurity.Status.ACTIVE
        if state == SecurityState.IN_FORCE
        else FinancialSecurity.Status.PENDING
    )
    save_security(security=security, by=by, today=today)
    outcome.keep["security_id"] = security.pk
    required = next(
        (r for r in security_requirements(importer, today) if r.bn15 == program_account.bn15),
        None,
    )
    if required is not None:
        needed = required.bond if method == SecurityMethod.SURETY_BOND else required.cash
        if amount < needed:
            outcome.warnings.append(
                str(
                    _(
                        "%(amount)s is less than the %(needed)s CBSA requires for %(bn15)s: "
                        "CBSA may refuse release prior to payment until it is topped up."
                    )
                    % {
                        "amount": format_money(amount),
                        "needed": format_money(needed),
                        "bn15": program_account.bn15,
                    }
                )
            )
    return outcome


# --- Step 2: the BAMs -----------------------------------------------------------------------------

RECOMMENDED_BAMS = 2


@dataclass(frozen=True)
class BamAnswer:
    full_name: str
    email: str
    responsibility: str
    portal_user_id: int | None = None


def bam_warning(count: int) -> str | None:
    """A warning, not an error: one BAM works, but nobody can act when that person is away."""
    if 0 < count < RECOMMENDED_BAMS:
        return str(
            _(
                "Only one Business Account Manager: we recommend two, one for payments to CBSA "
                "and one for customs processes, so that someone can always approve access and "
                "pay when the other is away."
            )
        )
    return None


@transaction.atomic
def apply_bams(*, importer: Importer, bams: Sequence[BamAnswer], by: User) -> Outcome:
    """Create or update one CCP portal user per BAM named (matched by id, then by email).

    Nobody is demoted or removed here: someone dropped from the form stays as they were, and the
    people page is where a person is removed.
    """
    ids: list[int] = []
    for answer in bams:
        person = None
        if answer.portal_user_id:
            person = PortalUser.objects.filter(importer=importer, pk=answer.portal_user_id).first()
        if person is None:
            person = PortalUser.objects.filter(importer=importer, email=answer.email).first()
        person = person or PortalUser(importer=importer)
        person.full_name = answer.full_name
        person.email = answer.email
        person.ccp_role = PortalUser.CcpRole.BAM
        person.program_account = None
        person.responsibility = answer.responsibility
        person._history_user = by
        person.save()
        ids.append(person.pk)
    outcome = Outcome(keep={"portal_user_ids": ids})
    if warning := bam_warning(len(bams)):
        outcome.warnings.append(warning)
    return outcome


# --- Step 3: CCP profiles and step 6: employee access ----------------------------------------------


@dataclass(frozen=True)
class ProfileAnswer:
    portal_user_id: int
    sign_in_method: str
    profile_created: bool


@dataclass(frozen=True)
class NewPerson:
    full_name: str
    email: str
    ccp_role: str
    program_account: ProgramAccount | None
    sign_in_method: str = ""
    profile_created: bool = False


def _save(person: PortalUser, by: User) -> None:
    person._history_user = by
    person.save()


@transaction.atomic
def apply_profiles(
    *,
    importer: Importer,
    profiles: Iterable[ProfileAnswer],
    new_person: NewPerson | None,
    by: User,
) -> Outcome:
    """Record each person's CCP sign-in method and whether their profile exists; add a person."""
    people = {p.pk: p for p in importer.portal_users.all()}
    for answer in profiles:
        person = people.get(answer.portal_user_id)
        if person is None:
            continue
        if (person.sign_in_method, person.profile_created) != (
            answer.sign_in_method,
            answer.profile_created,
        ):
            person.sign_in_method = answer.sign_in_method
            person.profile_created = answer.profile_created
            _save(person, by)
    if new_person is not None:
        _save(
            PortalUser(
                importer=importer,
                full_name=new_person.full_name,
                email=new_person.email,
                ccp_role=new_person.ccp_role,
                program_account=new_person.program_account,
                sign_in_method=new_person.sign_in_method,
                profile_created=new_person.profile_created,
            ),
            by,
        )
    return Outcome()


@dataclass(frozen=True)
class AccessAnswer:
    portal_user_id: int
    ccp_role: str
    program_account: ProgramAccount | None
    access_approved: bool


@transaction.atomic
def apply_employee_access(
    *, importer: Importer, answers: Iterable[AccessAnswer], by: User
) -> Outcome:
    """Record each person's CCP role (a PAM with its program account) and whether it is approved."""
    people = {p.pk: p for p in importer.portal_users.all()}
    for answer in answers:
        person = people.get(answer.portal_user_id)
        if person is None:
            continue
        account = answer.program_account if answer.ccp_role == PortalUser.CcpRole.PAM else None
        if (person.ccp_role, person.program_account_id, person.access_approved) != (
            answer.ccp_role,
            account.pk if account else None,
            answer.access_approved,
        ):
            person.ccp_role = answer.ccp_role
            person.program_account = account
            person.access_approved = answer.access_approved
            _save(person, by)
    outcome = Outcome()
    roster = list(importer.portal_users.all())
    if not any(p.ccp_role == PortalUser.CcpRole.BAM for p in roster):
        outcome.warnings.append(
            str(_("Nobody is a Business Account Manager any more: the CCP needs at least one."))
        )
    elif warning := bam_warning(sum(p.ccp_role == PortalUser.CcpRole.BAM for p in roster)):
        outcome.warnings.append(warning)
    return outcome


# --- Step 4: business information -----------------------------------------------------------------

BUSINESS_FIELDS = (
    "legal_name",
    "operating_name",
    "bn9",
    "address_line1",
    "address_line2",
    "city",
    "province",
    "postal_code",
)
STATEMENT_MAX_BYTES = 10 * 1024 * 1024
STATEMENT_EXTENSIONS = (".pdf", ".csv")


@transaction.atomic
def apply_business(
    *,
    importer: Importer,
    values: dict[str, str],
    accounts: Sequence[str],
    by: User,
) -> Outcome:
    """Store the importer's identity and address (already checked by ``clients.validation``) and
    add the RM accounts not yet recorded. Accounts left out are not closed: a broker does that."""
    changed = [name for name in BUSINESS_FIELDS if getattr(importer, name) != values[name]]
    if changed:
        for name in changed:
            setattr(importer, name, values[name])
        importer._history_user = by
        importer.save()
    known = set(importer.program_accounts.values_list("bn15", flat=True))
    for bn15 in accounts:
        if bn15 not in known:
            account = ProgramAccount(importer=importer, bn15=bn15)
            account._history_user = by
            account.save()
            known.add(bn15)
    return Outcome()


@dataclass(frozen=True)
class StoredStatement:
    """The latest statement of account an importer uploaded, kept for the broker to work from."""

    name: str
    path: str
    size: int
    sha256: str
    uploaded_at: str

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": self.uploaded_at,
        }


def keep_statement(
    *, importer: Importer, upload: UploadedFile, replaces: dict | None
) -> StoredStatement:
    """Keep the uploaded statement file (PDF or CSV) in storage for the broker.

    Not run through the statements import: what an importer downloads from the CCP is a PDF (or
    CSV in CBSA's layout, not ours), and the import belongs to the broker's staff, who may see
    every account in the file. The broker imports or reads it from the file we keep.
    """
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = get_valid_filename(PurePath(upload.name or "statement").name)[:100] or "statement"
    path = default_storage.save(f"onboarding/{importer.pk}/{uuid.uuid4().hex}/{name}", upload)
    if (
        replaces
        and replaces.get("path")
        and replaces["path"] != path
        and not is_filed(replaces["path"])  # a compliance record is kept for its retention
    ):
        try:
            default_storage.delete(replaces["path"])
        except OSError:  # already gone: nothing to clean up
            log.info("Old onboarding statement %s was already removed", replaces["path"])
    return StoredStatement(
        name=name,
        path=path,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_at=timezone.now().isoformat(),
    )


# --- Step 5: registration -------------------------------------------------------------------------


def apply_registration(
    *, importer: Importer, registered: bool, registered_on: dt.date | None, by: User
) -> Outcome:
    """Confirm checklist step 5 (a person's word: nothing else can see the CCP registration).

    Answering "not yet" undoes only a confirmation; a broker's "blocked" note stays.
    """
    row = OnboardingStep.objects.filter(importer=importer, step=Step.REGISTRATION).first()
    if registered:
        set_step_status(
            importer=importer,
            step=Step.REGISTRATION,
            status=OnboardingStep.Status.DONE,
            by=by,
            note=row.note if row else "",
            completed_on=registered_on,
        )
    elif row is not None and row.manual_status == OnboardingStep.Status.DONE:
        set_step_status(
            importer=importer,
            step=Step.REGISTRATION,
            status=OnboardingStep.Status.NOT_STARTED,
            by=by,
            note=row.note,
        )
    return Outcome()


# --- Step 7: broker access ------------------------------------------------------------------------

RENEWAL_SOON_DAYS = 90


def described_delegation(
    *, importer: Importer, relationship: str, account_ids: set[int]
) -> Delegation | None:
    """The importer's delegation with this relationship and exactly these program accounts (none
    for a BMR), active first, else still open; the latest approved or requested of them."""
    candidates = (
        Delegation.objects.filter(
            importer=importer,
            relationship=relationship,
            status__in=(Delegation.Status.ACTIVE, *Delegation.OPEN_STATUSES),
        )
        .prefetch_related("program_accounts")
        .order_by("-approved_on", "-requested_on", "-id")
    )
    matching = [d for d in candidates if {a.pk for a in d.program_accounts.all()} == account_ids]
    matching.sort(key=lambda d: d.status != Delegation.Status.ACTIVE)  # stable: keeps the order
    return matching[0] if matching else None


@transaction.atomic
def apply_broker_access(
    *,
    importer: Importer,
    relationship: str,
    authority: str,
    program_accounts: Sequence[ProgramAccount],
    approved_on: dt.date,
    expiry_date: dt.date,
    delegation_id: int | None,
    by: User,
    today: dt.date,
) -> Outcome:
    """Record the access the importer's BAM approved, as an active delegation with its expiry.

    The values were checked by ``delegation.validation.validate_delegation`` (in the form). The
    delegation the wizard recorded before is updated; else the delegation these answers describe
    (same relationship and accounts, active or still open), so that re-saving the step with the
    values it was prefilled with never records a second identical delegation; else the broker's
    open request (requested or pending) becomes the approved one; else a new one is recorded.
    """
    accounts = list(program_accounts) if relationship == Delegation.Relationship.PMR else []
    delegation = None
    if delegation_id:
        delegation = Delegation.objects.filter(importer=importer, pk=delegation_id).first()
    if delegation is None:
        delegation = described_delegation(
            importer=importer, relationship=relationship, account_ids={a.pk for a in accounts}
        )
    if delegation is None:
        delegation = (
            Delegation.objects.filter(importer=importer, status__in=Delegation.OPEN_STATUSES)
            .order_by("-requested_on", "-id")
            .first()
        )
    delegation = delegation or Delegation(importer=importer, requested_on=approved_on)
    delegation.relationship = relationship
    delegation.authority = authority
    delegation.status = Delegation.Status.ACTIVE
    delegation.approved_on = approved_on
    if delegation.requested_on and delegation.requested_on > approved_on:
        delegation.requested_on = approved_on
    delegation.expiry_date = expiry_date
    delegation.blank_expiry_confirmed = False
    record_delegation(
        delegation=delegation,
        program_accounts=accounts,
        by=by,
        today=today,
    )
    outcome = Outcome(keep={"delegation_id": delegation.pk})
    if (expiry_date - today).days < RENEWAL_SOON_DAYS:
        outcome.warnings.append(
            str(
                _(
                    "The access ends on %(day)s, in less than three months: we will remind you "
                    "before then, but a later date saves a renewal."
                )
                % {"day": expiry_date.isoformat()}
            )
        )
    return outcome


# --- Finishing ------------------------------------------------------------------------------------


def agent_recipients(importer: Importer) -> list[str]:
    """Who hears that the importer finished (``access.agents_to_tell``), by address."""
    return [agent.email for agent in access.agents_to_tell(importer)]


def render_finished_email(
    *,
    importer: Importer,
    wizard: OnboardingWizard,
    by: User,
    to: list[str],
    language: str | None = None,
) -> EmailMultiAlternatives:
    """The email in ``language`` (the active one when None)."""
    with translation.override(language or translation.get_language()):
        return _render_finished_email(importer=importer, wizard=wizard, by=by, to=to)


def _render_finished_email(
    *, importer: Importer, wizard: OnboardingWizard, by: User, to: list[str]
) -> EmailMultiAlternatives:
    base = settings.SITE_URL.rstrip("/")
    business = (wizard.data or {}).get("business", {})
    context = {
        "importer": importer,
        "by": by,
        "steps": list(importer.onboarding_steps.order_by("step")),
        "broker_retrieves": bool(business.get("broker_retrieves")),
        "statement": business.get("statement_file"),
        "importer_url": base + reverse("clients:importer_detail", args=[importer.pk]),
        "summary_url": base + reverse("onboarding:done", args=[importer.pk]),
        "broker_name": settings.BROKER_NAME,
    }
    subject = " ".join(
        render_to_string("clients/wizard/email/finished_subject.txt", context).split()
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("clients/wizard/email/finished.txt", context),
        to=to,
    )
    message.attach_alternative(
        render_to_string("clients/wizard/email/finished.html", context), "text/html"
    )
    return message


def finish(*, wizard: OnboardingWizard, by: User) -> bool:
    """Re-derive the checklist, mark the wizard finished and tell the agent; True the first time.

    The stamp is a conditional update (only while ``finished_at`` is empty), so finishing twice,
    or two people finishing at once, sends one email. The email leaves after the commit.
    """
    importer = wizard.importer
    refresh_checklist(importer)
    now = timezone.now()
    first = bool(
        OnboardingWizard.objects.filter(pk=wizard.pk, finished_at__isnull=True).update(
            finished_at=now, finished_by=by, current_step="", updated_at=now
        )
    )
    wizard.refresh_from_db()
    if not first:
        return False
    to = [email for email in agent_recipients(importer) if email != by.email]  # not to oneself
    to = _tell_agents(importer=importer, wizard=wizard, by=by, emails=to)
    if to:

        def send() -> None:
            try:
                # One email per language: each agent reads it in their saved language.
                for language, group in by_language(to).items():
                    render_finished_email(
                        importer=importer, wizard=wizard, by=by, to=group, language=language
                    ).send()
            except Exception:  # the wizard is finished either way; the agent sees the checklist
                log.exception("Onboarding-finished email for importer %s not sent", importer.pk)

        transaction.on_commit(send)
    return True


def _tell_agents(
    *, importer: Importer, wizard: OnboardingWizard, by: User, emails: list[str]
) -> list[str]:
    """Put the news in the agents' inboxes; return the addresses that want this e-mail now
    (the others get it in their daily digest, or not at all, as they chose)."""
    agents = list(get_user_model().objects.filter(email__in=emails, is_active=True))
    notify(
        kind=Kind.WIZARD_FINISHED,
        recipients=agents,
        key=f"wizard:{wizard.pk}:finished:{wizard.finished_at:%Y%m%dT%H%M%S%f}",
        text=later.gettext(
            "%(importer)s: %(who)s finished the onboarding wizard.",
            {"who": by.get_full_name(), "importer": importer.legal_name},
        ),
        url=reverse("onboarding:done", args=[importer.pk]),
        emailed_by_caller=True,
    )
    wanted = deliveries(kind=Kind.WIZARD_FINISHED, user_ids=[a.pk for a in agents])
    return [a.email for a in agents if wanted[a.pk] == Delivery.IMMEDIATELY]
