"""Importers, their RM program accounts, their people, and the CARM onboarding checklist.

Models hold fields, constraints and small properties; the rules live in ``clients/onboarding.py``
(checklist derivation) and ``clients/access.py`` (who may see and change what).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal import stored_text
from carm_portal.dates import business_date
from carm_portal.reversing import reverse
from clients.validators import normalize_bn9, normalize_bn15, validate_bn9, validate_bn15

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carm_portal.models import User


class Province(models.TextChoices):
    AB = "AB", _("Alberta")
    BC = "BC", _("British Columbia")
    MB = "MB", _("Manitoba")
    NB = "NB", _("New Brunswick")
    NL = "NL", _("Newfoundland and Labrador")
    NS = "NS", _("Nova Scotia")
    NT = "NT", _("Northwest Territories")
    NU = "NU", _("Nunavut")
    ON = "ON", _("Ontario")
    PE = "PE", _("Prince Edward Island")
    QC = "QC", _("Quebec")
    SK = "SK", _("Saskatchewan")
    YT = "YT", _("Yukon")


class ClientGroup(models.Model):
    """A broker's grouping of clients (by region, industry, team) with the agents who serve it."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="client_groups", verbose_name=_("agents")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("client group")

    def __str__(self) -> str:
        return self.name


class Importer(models.Model):
    """A business that imports into Canada and is a client of the broker."""

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ONBOARDING = "onboarding", _("Onboarding")
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    legal_name = models.CharField(
        _("legal name"),
        max_length=200,
        help_text=_("Exactly as CBSA holds it, punctuation included."),
    )
    operating_name = models.CharField(_("operating name"), max_length=200, blank=True)
    # Empty (NULL) until the importer gives it: a prospect turned client may not know it yet, and
    # the onboarding wizard's business step asks for it. Unique among the importers that have one.
    bn9 = models.CharField(
        _("business number (BN9)"),
        max_length=9,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_bn9],
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ONBOARDING
    )
    # Legal address: CCP registration needs it exactly as CBSA holds it.
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address (line 2)"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    province = models.CharField(_("province or territory"), max_length=2, choices=Province.choices)
    postal_code = models.CharField(_("postal code"), max_length=7)
    mailing_same_as_legal = models.BooleanField(
        _("mailing address is the legal address"), default=True
    )
    mailing_line1 = models.CharField(_("mailing address"), max_length=200, blank=True)
    mailing_line2 = models.CharField(_("mailing address (line 2)"), max_length=200, blank=True)
    mailing_city = models.CharField(_("mailing city"), max_length=100, blank=True)
    mailing_province = models.CharField(
        _("mailing province or territory"), max_length=2, choices=Province.choices, blank=True
    )
    mailing_postal_code = models.CharField(_("mailing postal code"), max_length=7, blank=True)
    phone = models.CharField(_("phone"), max_length=24, blank=True)
    email = models.EmailField(_("general email"), blank=True)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_importers",
    )
    client_group = models.ForeignKey(
        ClientGroup,
        verbose_name=_("client group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="importers",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user

    class Meta:
        ordering = ["legal_name", "id"]
        verbose_name = _("importer")
        indexes = [
            models.Index(fields=["status", "legal_name"]),
            # The default order of every importer list: a page is an index walk, not a sort.
            models.Index(fields=["legal_name", "id"], name="importer_name_order"),
        ]

    def __str__(self) -> str:
        return self.operating_name or self.legal_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.bn9 = normalize_bn9(self.bn9) if self.bn9 else None
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("clients:importer_detail", args=[self.pk])

    @property
    def legal_address(self) -> str:
        parts = [
            self.address_line1,
            self.address_line2,
            f"{self.city} {self.province}  {self.postal_code}",
        ]
        return "\n".join(p for p in parts if p.strip())


class ProgramAccount(models.Model):
    """An importer's RM (import-export) program account, BN15 = BN9 + RM + 4 digits."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    importer = models.ForeignKey(
        Importer,
        on_delete=models.CASCADE,
        related_name="program_accounts",
        verbose_name=_("importer"),
    )
    bn15 = models.CharField(
        _("program account (BN15)"), max_length=15, unique=True, validators=[validate_bn15]
    )
    name = models.CharField(
        _("description"),
        max_length=120,
        blank=True,
        help_text=_("e.g. head office, Quebec division"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    opened_on = models.DateField(_("opened on"), null=True, blank=True, validators=[business_date])
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user

    class Meta:
        ordering = ["bn15"]
        verbose_name = _("program account")

    def __str__(self) -> str:
        return self.bn15

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.bn15 = normalize_bn15(self.bn15)
        super().save(*args, **kwargs)


class Membership(models.Model):
    """A signed-in user acting for an importer, with the role that decides what they may do."""

    class Role(models.TextChoices):
        BAM = "bam", _("Business Account Manager")
        FINANCE = "finance", _("Finance")
        EMPLOYEE = "employee", _("Employee (read only)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    importer = models.ForeignKey(Importer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "importer"], name="one_membership_per_importer")
        ]
        verbose_name = _("membership")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.importer}"


class PortalUser(models.Model):
    """One of the importer's people in the CARM Client Portal (CCP), as the broker knows them."""

    class CcpRole(models.TextChoices):
        BAM = "BAM", _("Business Account Manager (BAM)")
        PAM = "PAM", _("Program Account Manager (PAM)")
        EDITOR = "EDITOR", _("Editor")
        READER = "READER", _("Reader")

    class SignInMethod(models.TextChoices):
        GCKEY = "gckey", _("GCKey")
        SIGN_IN_PARTNER = "sign_in_partner", _("Sign-In Partner (online banking)")

    class Responsibility(models.TextChoices):
        PAYMENTS = "payments", _("Payments to CBSA")
        CUSTOMS = "customs", _("Customs processes")
        BOTH = "both", _("Payments and customs processes")
        NONE = "", _("—")

    importer = models.ForeignKey(Importer, on_delete=models.CASCADE, related_name="portal_users")
    full_name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("email"))
    ccp_role = models.CharField(_("CCP role"), max_length=6, choices=CcpRole.choices)
    program_account = models.ForeignKey(
        ProgramAccount,
        verbose_name=_("program account (PAM only)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="portal_users",
    )
    sign_in_method = models.CharField(
        _("sign-in method"), max_length=16, choices=SignInMethod.choices, blank=True
    )
    responsibility = models.CharField(
        _("responsibility"), max_length=10, choices=Responsibility.choices, blank=True
    )
    profile_created = models.BooleanField(_("CCP profile created"), default=False)
    access_approved = models.BooleanField(_("access approved by a BAM"), default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("carm-portal login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="portal_profiles",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name = _("CCP portal user")
        constraints = [
            models.UniqueConstraint(fields=["importer", "email"], name="one_portal_user_per_email")
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.ccp_role})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class OnboardingStep(models.Model):
    """One of the seven CARM preparedness steps for one importer.

    ``status`` is what the checklist shows. For steps the data can prove (BAMs, profiles, business
    information, employee access) ``clients.onboarding`` derives it; for the others a person
    confirms it (``confirmed_by``/``confirmed_at``/``completed_on``). A person may mark any step
    ``blocked`` with a note, which wins over the derivation until cleared.
    """

    class Step(models.IntegerChoices):
        FINANCIAL_SECURITY = 1, _("Financial security")
        BAMS = 2, _("Business Account Managers")
        CCP_PROFILES = 3, _("CCP profiles")
        BUSINESS_INFORMATION = 4, _("Business information")
        REGISTRATION = 5, _("Business registered in the CCP")
        EMPLOYEE_ACCESS = 6, _("Employee access")
        BROKER_DELEGATION = 7, _("Broker access (delegation)")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")

    importer = models.ForeignKey(
        Importer, on_delete=models.CASCADE, related_name="onboarding_steps"
    )
    step = models.PositiveSmallIntegerField(_("step"), choices=Step.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NOT_STARTED
    )
    derived = models.BooleanField(
        _("derived from data"),
        default=False,
        help_text=_("True when the status was computed from the importer's records."),
    )
    manual_status = models.CharField(
        _("status set by a person"), max_length=12, choices=Status.choices, blank=True
    )
    summary = models.CharField(
        _("summary"), max_length=255, blank=True, help_text=_("Why the step has its status.")
    )
    # The summary untranslated (carm_portal/stored_text.py), to show it in the reader's language.
    summary_parts = models.JSONField(null=True, blank=True, editable=False)
    completed_on = models.DateField(
        _("completed on"), null=True, blank=True, validators=[business_date]
    )
    note = models.TextField(_("note"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["importer_id", "step"]
        constraints = [
            models.UniqueConstraint(fields=["importer", "step"], name="one_row_per_onboarding_step")
        ]
        indexes = [
            models.Index(fields=["step", "status"]),
            # Stalled onboarding (the Today view, the importer list's filter) reads the done
            # steps per importer: an index-only scan of those instead of every step row.
            models.Index(
                fields=["importer"],
                include=["id", "completed_on", "updated_at"],
                condition=models.Q(status="done"),
                name="onboardingstep_done_idx",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.importer} · {self.step}. {self.get_step_display()}: {self.get_status_display()}"
        )

    @property
    def summary_text(self) -> str:
        """The summary in the active language (the stored English for rows without parts)."""
        return stored_text.show(self.summary_parts, self.summary)


class Invitation(models.Model):
    """A one-time link that lets a person create their login and join an importer with a role.

    Only a hash of the token is stored: the link in the email is the one copy of the secret.
    Resending issues a new token (the old link stops working) and a fresh expiry.
    """

    class State(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    importer = models.ForeignKey(Importer, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    sent_count = models.PositiveSmallIntegerField(_("times sent"), default=0)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A new BAM invited by anyone but one of the importer's BAMs waits for a confirmation: by an
    # existing BAM (signed in), or, for the first BAM, by the importer's contact address (a
    # one-time link). Until then no invitation link exists anywhere (clients.invitations).
    confirmation_required = models.BooleanField(default=False, editable=False)
    confirmation_sent_to = models.EmailField(
        _("confirmation asked of"), blank=True, help_text=_("The importer's contact address.")
    )
    confirm_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    # Not columns: set on the rows of the invitation list (clients/invitation_views.py) and on
    # the login page's invitation (clients/templatetags/invitation_ui.py) for their templates.
    state: str
    state_label: StrOrPromise
    can_act: bool
    has_account: bool

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        constraints = [
            models.UniqueConstraint(
                fields=["importer", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.importer} ({self.get_role_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class OnboardingWizard(models.Model):
    """Where an importer is in the self-service onboarding wizard, saved at every step so a
    person can leave and resume on another day or device (the wizard's storage, in the database
    rather than the session)."""

    importer = models.OneToOneField(
        Importer, on_delete=models.CASCADE, related_name="onboarding_wizard"
    )
    current_step = models.CharField(_("current step"), max_length=40, blank=True)
    data = models.JSONField(
        _("saved answers"),
        default=dict,
        blank=True,
        help_text=_("Per step: the submitted form data, kept so errors and revisits show it."),
    )
    completed_steps = models.JSONField(_("completed steps"), default=list, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("onboarding wizard progress")
        verbose_name_plural = _("onboarding wizard progress")

    def __str__(self) -> str:
        return f"Wizard of {self.importer}"


class StaffEvent(models.Model):
    """The audit trail of the broker's staff and client groups: who invited, granted, removed,
    deactivated, handed over or moved what, and when (shown on the staff and group pages)."""

    class Action(models.TextChoices):
        INVITED = "invited", _("Invited")
        ROLE_GRANTED = "role_granted", _("Role granted")
        ROLE_REMOVED = "role_removed", _("Role removed")
        DEACTIVATED = "deactivated", _("Deactivated")
        HANDED_OVER = "handed_over", _("Portfolio handed over")
        GROUP_CREATED = "group_created", _("Client group created")
        GROUP_CHANGED = "group_changed", _("Client group changed")
        IMPORTERS_MOVED = "importers_moved", _("Importers moved")

    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_events",
    )
    group = models.ForeignKey(
        ClientGroup,
        verbose_name=_("client group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    action = models.CharField(_("what"), max_length=20, choices=Action.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("staff event")

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.detail}"
