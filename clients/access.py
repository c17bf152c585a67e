"""Who may see and change what: the one place every view, API view, export and task asks.

Broker staff hold a role through a Django group (broker admin, agent, finance) and see the whole
portfolio; an importer's people hold a ``Membership`` role (BAM, finance, employee) and see only
their own importer(s). A user who may not *see* an importer gets a 404 (we do not confirm that it
exists); one who may see it but not do the thing asked gets a 403.

Like a proxy in the CCP, broker staff never hold ``VIEW_BANK_ACCOUNT``: full bank account numbers
are for the importer's BAM alone. Separation of duties makes that hold: a broker-staff account never
holds a membership (``may_hold_membership``, enforced on every save by ``clients.signals``), broker
and member permissions are never added together, and a new BAM invited by anyone but one of the
importer's BAMs waits for a BAM's (or the importer contact's) confirmation.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from clients.models import ClientGroup, Importer, Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from carm_portal.models import User

    AnyUser = User | AnonymousUser

M = TypeVar("M", bound=Model)


class BrokerRole(StrEnum):
    ADMIN = "broker admin"
    AGENT = "broker agent"
    FINANCE = "broker finance"


BROKER_ROLE_LABELS = {
    BrokerRole.ADMIN: _("Broker admin"),
    BrokerRole.AGENT: _("Broker agent"),
    BrokerRole.FINANCE: _("Broker finance"),
}


class Perm(StrEnum):
    VIEW = "view"  # the importer, its accounts, people, checklist and delegations
    MANAGE_CLIENT = "manage_client"  # importer record, program accounts, checklist confirmations
    MANAGE_PEOPLE = "manage_people"  # the importer's CCP portal users
    INVITE = "invite"  # invite people to sign in for the importer
    MANAGE_DELEGATION = "manage_delegation"  # record delegations, ask for renewals
    CONFIRM_DELEGATION = "confirm_delegation"  # confirm a renewal was done in the CCP
    VIEW_FINANCE = "view_finance"  # statements, reconciliation, payments, security
    MANAGE_STATEMENTS = "manage_statements"  # import, reconcile, resolve exceptions
    MANAGE_PAYMENTS = "manage_payments"  # record and allocate payments, security records
    VIEW_BANK_ACCOUNT = "view_bank_account"  # full PAD account numbers
    DOWNLOAD_RECONCILIATION = "download_reconciliation"  # reconciliation PDF and CSV reports
    ONBOARD = "onboard"  # fill in the self-service onboarding wizard for the importer
    REQUEST_SERVICES = "request_services"  # book walk-throughs, ask for SOA retrieval, bonds, help
    VIEW_CHARGES = "view_charges"  # the broker's service fees charged to the importer
    FILE_DOCUMENTS = "file_documents"  # upload compliance documents (import records)
    VIEW_TRAINING = "view_training"  # who of the importer's people is trained for what
    RECORD_TRAINING = "record_training"  # record training completions for the importer's people
    VIEW_READINESS = "view_readiness"  # the RM readiness checks, their follow-ups and the PDF
    TAKE_READINESS = "take_readiness"  # take a readiness check, complete or reassign follow-ups
    # Answer, from the importer's own pages, the readiness questions its records cannot answer
    # (narrower than ``TAKE_READINESS``: no follow-up work, and the answers count as the importer's).
    ANSWER_READINESS = "answer_readiness"


class GlobalPerm(StrEnum):
    VIEW_PORTFOLIO = "view_portfolio"  # portfolio-wide dashboards and worklists
    CREATE_IMPORTER = "create_importer"
    MANAGE_USERS = "manage_users"
    MANAGE_RATES = "manage_rates"  # interest rate table, settings-like reference data
    MANAGE_PROSPECTS = "manage_prospects"  # the services pipeline: sign-ups, conversion to client
    MANAGE_WEBINARS = "manage_webinars"  # webinar sessions, attendee lists and attendance
    DELIVER_SERVICES = "deliver_services"  # walk-through slots and notes, work service requests
    MANAGE_FEES = "manage_fees"  # the fee schedule
    BILL_CHARGES = "bill_charges"  # mark service charges billed or waived, export them
    PURGE_RECORDS = "purge_records"  # confirm the purge of documents past retention
    MANAGE_TRAINING = "manage_training"  # training sessions of the broker's courses


_BROKER_PERMS: dict[BrokerRole, frozenset[Perm]] = {
    # Staff answer for an importer through the check they take (``TAKE_READINESS``); what is
    # recorded as the importer's own answer comes from the importer's people alone.
    BrokerRole.ADMIN: frozenset(Perm) - {Perm.VIEW_BANK_ACCOUNT, Perm.ANSWER_READINESS},
    BrokerRole.AGENT: frozenset(
        {
            Perm.VIEW,
            Perm.MANAGE_CLIENT,
            Perm.MANAGE_PEOPLE,
            Perm.INVITE,
            Perm.MANAGE_DELEGATION,
            Perm.CONFIRM_DELEGATION,
            Perm.VIEW_FINANCE,
            Perm.MANAGE_STATEMENTS,
            Perm.ONBOARD,
            Perm.REQUEST_SERVICES,
            Perm.VIEW_CHARGES,
            Perm.FILE_DOCUMENTS,
            Perm.VIEW_READINESS,
            Perm.TAKE_READINESS,
            # Agents deliver the training and record it.
            Perm.VIEW_TRAINING,
            Perm.RECORD_TRAINING,
        }
    ),
    # Reconciliation reports are for finance teams: broker finance (and admin), the importer's BAM
    # and finance members; an agent works the exceptions on screen but does not download them.
    BrokerRole.FINANCE: frozenset(
        {
            Perm.VIEW,
            Perm.VIEW_FINANCE,
            Perm.MANAGE_STATEMENTS,
            Perm.MANAGE_PAYMENTS,
            Perm.DOWNLOAD_RECONCILIATION,
            Perm.VIEW_CHARGES,
            Perm.FILE_DOCUMENTS,
            Perm.VIEW_READINESS,
            Perm.VIEW_TRAINING,
        }
    ),
}

_BROKER_GLOBAL: dict[BrokerRole, frozenset[GlobalPerm]] = {
    BrokerRole.ADMIN: frozenset(GlobalPerm),
    BrokerRole.AGENT: frozenset(
        {
            GlobalPerm.VIEW_PORTFOLIO,
            GlobalPerm.CREATE_IMPORTER,
            GlobalPerm.MANAGE_PROSPECTS,
            GlobalPerm.MANAGE_WEBINARS,
            GlobalPerm.DELIVER_SERVICES,
            GlobalPerm.MANAGE_TRAINING,
        }
    ),
    BrokerRole.FINANCE: frozenset({GlobalPerm.VIEW_PORTFOLIO, GlobalPerm.BILL_CHARGES}),
}

_MEMBER_PERMS: dict[str, frozenset[Perm]] = {
    Membership.Role.BAM: frozenset(
        {
            Perm.VIEW,
            Perm.MANAGE_PEOPLE,
            Perm.INVITE,
            Perm.CONFIRM_DELEGATION,
            Perm.VIEW_FINANCE,
            Perm.MANAGE_PAYMENTS,
            Perm.VIEW_BANK_ACCOUNT,
            Perm.DOWNLOAD_RECONCILIATION,
            Perm.ONBOARD,
            Perm.REQUEST_SERVICES,
            Perm.VIEW_CHARGES,
            Perm.FILE_DOCUMENTS,
            # The importer's readiness: the BAM answers for the importer to CBSA, so they answer the
            # questions the broker's records cannot (``ANSWER_READINESS``, which re-scores the check
            # exactly as a staff check would); the follow-ups stay the broker's work, completed and
            # reassigned by its staff (``TAKE_READINESS``, which the BAM does not hold).
            Perm.VIEW_READINESS,
            Perm.ANSWER_READINESS,
            # Who of their people is trained (read only); every person sees their own completions
            # whatever their role (``may_see_training_of``).
            Perm.VIEW_TRAINING,
        }
    ),
    Membership.Role.FINANCE: frozenset(
        {
            Perm.VIEW,
            Perm.VIEW_FINANCE,
            Perm.MANAGE_PAYMENTS,
            Perm.DOWNLOAD_RECONCILIATION,
            Perm.VIEW_CHARGES,
            Perm.FILE_DOCUMENTS,
        }
    ),
    Membership.Role.EMPLOYEE: frozenset({Perm.VIEW}),
}


# --- Who is this user? (cached on the user object: one query each per request) ------------------


def broker_roles(user: AnyUser) -> frozenset[BrokerRole]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_carm_broker_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(r for r in BrokerRole if r.value in names)
        if user.is_superuser:
            cached |= {BrokerRole.ADMIN}
        user._carm_broker_roles = cached  # type: ignore[attr-defined]  # per-request cache, see forget()
    return cached


def member_roles(user: AnyUser) -> dict[int, str]:
    """importer id -> membership role for an importer's person (empty for broker staff)."""
    if not user.is_authenticated or not user.is_active:
        return {}
    cached = getattr(user, "_carm_member_roles", None)
    if cached is None:
        cached = dict(user.memberships.values_list("importer_id", "role"))
        user._carm_member_roles = cached  # type: ignore[attr-defined]  # per-request cache, see forget()
    return cached


def forget(user: AnyUser) -> None:
    """Drop the cached roles (after a group or membership change in the same request)."""
    for attr in ("_carm_broker_roles", "_carm_member_roles", "_carm_has_mfa"):
        if hasattr(user, attr):
            delattr(user, attr)


def is_broker(user: AnyUser) -> bool:
    return bool(broker_roles(user))


def is_importer_user(user: AnyUser) -> bool:
    return not is_broker(user) and bool(member_roles(user))


def is_broker_agent(user: AnyUser) -> bool:
    """An agent (who, for instance, is assigned the importers they create)."""
    return BrokerRole.AGENT in broker_roles(user)


# --- Two-factor authentication (allauth.mfa): who must have it -----------------------------------


class MFARequired(PermissionDenied):
    """Refused until the user sets up two-factor authentication (``two_factor_setup_url``)."""


MFA_REQUIRED_FOR_STAFF = _(
    "Broker staff must use two-factor authentication. Set up an authenticator app or a "
    "security key to continue."
)
MFA_REQUIRED_TO_REVEAL = _(
    "Set up two-factor authentication before you reveal a bank account number: it protects "
    "the number if your password is ever stolen."
)


def has_mfa(user: AnyUser) -> bool:
    """Whether the user has an authenticator (app, security key or passkey; cached per request)."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_carm_has_mfa", None)
    if cached is None:
        from allauth.mfa.utils import is_mfa_enabled

        cached = is_mfa_enabled(user)
        setattr(user, "_carm_has_mfa", cached)  # noqa: B010 (a per-request cache on the user)
    return cached


def must_have_mfa(user: AnyUser) -> bool:
    """Broker staff, and anyone the Django admin lets in, may do nothing before setting up MFA."""
    if not user.is_authenticated or not user.is_active:
        return False
    return is_broker(user) or bool(user.is_staff)


def lacks_required_mfa(user: AnyUser) -> bool:
    """A signed-in user who must have MFA (``must_have_mfa``) and has no authenticator yet."""
    return must_have_mfa(user) and not has_mfa(user)


def require_mfa_to_reveal(user: AnyUser) -> None:
    """A full bank account number is shown only to a user with two-factor authentication."""
    if not has_mfa(user):
        raise MFARequired(MFA_REQUIRED_TO_REVEAL)


# --- Who are the broker's staff? (queries; superusers count as broker admins) ----------------------


def broker_staff(
    *, roles: Iterable[BrokerRole] | None = None, active_only: bool = True
) -> QuerySet[User]:
    """The accounts holding any of ``roles`` (default: every broker role), superusers with the
    admin role, ordered by name: the one query behind every "pick a staff member" list."""
    wanted = frozenset(roles) if roles is not None else frozenset(BrokerRole)
    match = Q(groups__name__in=[role.value for role in wanted])
    if BrokerRole.ADMIN in wanted:
        match |= Q(is_superuser=True)
    users = get_user_model().objects.filter(match)
    if active_only:
        users = users.filter(is_active=True)
    return users.distinct().order_by("full_name", "email")


def agents_to_tell(importer: Importer) -> list[User]:
    """Who on the broker's side hears an importer's news (the wizard finished, readiness answers):
    its assigned agent, else its client group's agents; active accounts only."""
    agent = importer.assigned_agent if importer.assigned_agent_id else None
    if agent is not None and agent.is_active:
        return [agent]
    group = importer.client_group if importer.client_group_id else None
    if group is not None:
        return list(group.agents.filter(is_active=True).order_by("email"))
    return []


def assignable_agents() -> QuerySet[User]:
    """Who an importer (or a delegation filter) can be assigned to: active agents and admins."""
    return broker_staff(roles=[BrokerRole.AGENT, BrokerRole.ADMIN])


def staff_roles_of(user: AnyUser) -> frozenset[BrokerRole]:
    """The broker roles an account holds by its groups (prefetch ``groups`` for a list) or as a
    superuser, active or not (the staff page)."""
    if not user.is_authenticated:
        return frozenset()
    names = {group.name for group in user.groups.all()}
    roles = frozenset(role for role in BrokerRole if role.value in names)
    return roles | {BrokerRole.ADMIN} if user.is_superuser else roles


def set_broker_role(user: User, role: BrokerRole, *, granted: bool) -> None:
    """Grant or remove a broker role (its Django group). ``clients.signals`` refuses a broker
    group for an account holding an importer membership (separation of duties)."""
    from django.contrib.auth.models import Group

    group, _created = Group.objects.get_or_create(name=role.value)
    if granted:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    forget(user)


def is_broker_email(email: str) -> bool:
    """Whether an address belongs to a broker-staff account, active or not (never invited)."""
    return broker_staff(active_only=False).filter(email__iexact=email.strip()).exists()


# --- What may they do? ----------------------------------------------------------------------------


def permissions_for(user: AnyUser, importer: Importer | int) -> frozenset[Perm]:
    """Broker staff act through their groups alone: a membership row (which they may not hold;
    one left from before the rule, or slipped in by a bulk write) never adds to their rights."""
    importer_id = importer if isinstance(importer, int) else importer.pk
    roles = broker_roles(user)
    if roles:
        return frozenset().union(*(_BROKER_PERMS[role] for role in roles))
    role = member_roles(user).get(importer_id)
    return _MEMBER_PERMS[role] if role else frozenset()


# What an importer's BAM may hand out; broker staff holding INVITE may give any role. A BAM does not
# invite BAMs: that role carries the bank account and the CCP delegation, so the broker grants it
# (and the importer's BAM, or its contact, confirms it: clients.invitations).
_BAM_MAY_INVITE: tuple[str, ...] = (Membership.Role.FINANCE, Membership.Role.EMPLOYEE)


def invitable_roles(user: AnyUser, importer: Importer | int) -> list[str]:
    """The membership roles ``user`` may invite people to on ``importer`` (empty: may not invite)."""
    if not can(user, Perm.INVITE, importer):
        return []
    if is_broker(user):
        return list(Membership.Role.values)
    return list(_BAM_MAY_INVITE)


def new_client_contact_role() -> str:
    """The role a new client's contact is invited with (the services pipeline's conversion): the
    importer's first BAM, who then runs the onboarding wizard and invites colleagues."""
    return str(Membership.Role.BAM)


def is_bam_role(role: str) -> bool:
    """Whether a membership role (of a membership or an invitation) is the BAM's."""
    return role == Membership.Role.BAM


def is_bam_of(user: AnyUser, importer: Importer | int) -> bool:
    """Whether ``user`` is one of the importer's BAMs (never broker staff): who confirms a new BAM."""
    importer_id = importer if isinstance(importer, int) else importer.pk
    return not is_broker(user) and member_roles(user).get(importer_id) == Membership.Role.BAM


BROKER_GROUP_NAMES: tuple[str, ...] = tuple(role.value for role in BrokerRole)


def is_broker_account(user: AnyUser) -> bool:
    """Broker staff by the account's own flags and groups, active or not (unlike ``is_broker``,
    which is about what a signed-in user may do now): for the rules about who may hold what."""
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser) or user.groups.filter(name__in=BROKER_GROUP_NAMES).exists()


def may_hold_membership(user: AnyUser) -> bool:
    """A broker-staff account never holds an importer membership: staff see the portfolio through
    their role, and a membership is how an importer's BAM sees full bank account numbers."""
    return not is_broker_account(user)


def can(user: AnyUser, perm: Perm, importer: Importer | int) -> bool:
    return perm in permissions_for(user, importer)


def acts_in_ccp(user: AnyUser, importer: Importer | int) -> bool:
    """Whether the user is one of the importer's people who change its delegation in the CCP
    themselves (its BAM): what needs doing is addressed to them ("extend it"), not "ask the
    importer's BAM" as to the broker."""
    return not is_broker(user) and can(user, Perm.CONFIRM_DELEGATION, importer)


def holds_anywhere(user: AnyUser, perm: Perm) -> bool:
    """Whether the user holds ``perm`` on at least one importer (nav links, cross-importer lists
    such as "all my statements"); from the cached roles, no query beyond them."""
    if is_broker(user):
        return any(perm in _BROKER_PERMS[role] for role in broker_roles(user))
    return any(perm in _MEMBER_PERMS[role] for role in member_roles(user).values())


def members_holding(perm: Perm, importer_ids: Iterable[int]) -> QuerySet[Membership]:
    """The active memberships on ``importer_ids`` whose role grants ``perm`` (who is told)."""
    roles = [role for role, perms in _MEMBER_PERMS.items() if perm in perms]
    return Membership.objects.filter(
        importer_id__in=list(importer_ids), role__in=roles, user__is_active=True
    )


def bams_of(importer_ids: Iterable[int]) -> QuerySet[Membership]:
    """The importers' active BAMs: who confirms a new BAM, is told of bank-number reveals and
    receives delegation alerts."""
    return Membership.objects.filter(
        importer_id__in=list(importer_ids), role=Membership.Role.BAM, user__is_active=True
    ).select_related("user")


def finance_members(importer_ids: Iterable[int]) -> QuerySet[Membership]:
    """The importers' active finance members (role finance, not BAMs): payment alerts' readers."""
    return Membership.objects.filter(
        importer_id__in=list(importer_ids), role=Membership.Role.FINANCE, user__is_active=True
    )


def may_register_for_webinars(user: AnyUser, importer: Importer | int) -> bool:
    """An importer's people (any role) sign themselves up for a webinar from their home page;
    broker staff register attendees from the staff pages instead (``MANAGE_WEBINARS``)."""
    return not is_broker(user) and can(user, Perm.VIEW, importer)


def roles_grant(roles: Iterable[BrokerRole], perm: GlobalPerm) -> bool:
    """Whether any of ``roles`` carries the broker-wide ``perm`` (before they are saved)."""
    return any(perm in _BROKER_GLOBAL[role] for role in roles)


def can_global(user: AnyUser, perm: GlobalPerm) -> bool:
    return any(perm in _BROKER_GLOBAL[r] for r in broker_roles(user))


def visible_importers(user: AnyUser) -> QuerySet[Importer]:
    """Every importer this user may see: the whole portfolio for broker staff, else their own."""
    if is_broker(user):
        return Importer.objects.all()
    ids = list(member_roles(user))
    return Importer.objects.filter(pk__in=ids) if ids else Importer.objects.none()


def scope(queryset: QuerySet[M], user: AnyUser, *, importer_field: str = "importer") -> QuerySet[M]:
    """Limit any queryset to rows of importers the user may see (``importer_field`` is the path)."""
    if is_broker(user):
        return queryset
    ids = list(member_roles(user))
    if not ids:
        return queryset.none()
    return queryset.filter(**{f"{importer_field}__in": ids})


def scope_for(
    queryset: QuerySet[M], user: AnyUser, perm: Perm, *, importer_field: str = "importer"
) -> QuerySet[M]:
    """As ``scope``, but only importers on which the user holds ``perm`` (e.g. finance rows)."""
    if is_broker(user):
        return (
            queryset
            if any(perm in _BROKER_PERMS[r] for r in broker_roles(user))
            else queryset.none()
        )
    ids = [i for i, role in member_roles(user).items() if perm in _MEMBER_PERMS[role]]
    return queryset.filter(**{f"{importer_field}__in": ids}) if ids else queryset.none()


def uploads_visible_to(queryset: QuerySet[M], user: AnyUser, *, by_field: str) -> QuerySet[M]:
    """Uploads (import batches): broker staff see every one, anyone else only their own
    (``by_field`` names the uploader). A batch is not one importer's: a file may name several."""
    if is_broker(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(**{by_field: user})


def importer_id_of(obj: Model, importer_field: str) -> int:
    """The id of the importer that owns ``obj``, following ``importer_field`` ("pk" = itself)."""
    if importer_field == "pk":
        return int(obj.pk)
    *path, last = importer_field.split("__")
    owner = obj
    for part in path:
        owner = getattr(owner, part)
    return int(getattr(owner, f"{last}_id"))


def my_clients_filter(user: User, *, prefix: str = "") -> Q:
    """Importers assigned to an agent directly or through one of their client groups.

    The groups are a subquery of the agent's few group ids, not a join to the group-agent table:
    an ``OR`` across that join made PostgreSQL test every importer (or every row that names one)
    with a nested loop, 0.6 s for an agent's pending statements among 52,623; the subquery is
    hashed once and each row is checked against it."""
    groups = ClientGroup.agents.through.objects.filter(user=user).values("clientgroup_id")
    return Q(**{f"{prefix}assigned_agent": user}) | Q(**{f"{prefix}client_group__in": groups})


# --- Guards for views -----------------------------------------------------------------------------


def get_importer(user: AnyUser, pk: Any, perm: Perm = Perm.VIEW) -> Importer:
    """The importer ``pk`` if the user may see it (else 404) and holds ``perm`` on it (else 403)."""
    try:
        importer = visible_importers(user).get(pk=pk)
    except (Importer.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such importer.")) from None
    require(user, perm, importer)
    return importer


def require(user: AnyUser, perm: Perm, importer: Importer | int) -> None:
    if not can(user, perm, importer):
        raise PermissionDenied(_("Your role does not allow this for this importer."))


def require_global(user: AnyUser, perm: GlobalPerm) -> None:
    """Broker-only pages: outsiders with no broker role get a 403."""
    if not can_global(user, perm):
        raise PermissionDenied(_("This page is for the broker's staff."))


def get_scoped(
    queryset: QuerySet[M],
    user: AnyUser,
    pk: object,
    perm: Perm = Perm.VIEW,
    *,
    importer_field: str = "importer",
) -> M:
    """One row of an importer-owned model: 404 if its importer is invisible, 403 without ``perm``."""
    try:
        obj = scope(queryset, user, importer_field=importer_field).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):  # .get() raises the model's DoesNotExist
        raise Http404(_("Not found.")) from None
    require(user, perm, importer_id_of(obj, importer_field))
    return obj


def may_see_training_of(user: AnyUser, membership: Membership) -> bool:
    """A person's training record (and certificate): whoever holds ``VIEW_TRAINING`` on their
    importer (broker staff, its BAM), and the person themself."""
    if can(user, Perm.VIEW_TRAINING, membership.importer_id):
        return True
    return (
        user.is_authenticated
        and not is_broker(user)
        and membership.user_id == user.pk
        and membership.importer_id in member_roles(user)
    )


def training_visible_to(
    queryset: QuerySet[M], user: AnyUser, *, membership_field: str = "membership"
) -> QuerySet[M]:
    """``may_see_training_of`` for a list of training rows: those of importers on which the user
    holds ``VIEW_TRAINING``, and the user's own (through a membership they still hold)."""
    held = scope_for(
        queryset, user, Perm.VIEW_TRAINING, importer_field=f"{membership_field}__importer"
    )
    if not user.is_authenticated or is_broker(user):
        return held
    own = queryset.filter(
        **{
            f"{membership_field}__user": user,
            f"{membership_field}__importer__in": list(member_roles(user)),
        }
    )
    return held | own


def require_training_of(user: AnyUser, membership: Membership) -> None:
    """403 unless ``may_see_training_of`` (the importer's visibility is checked first: 404)."""
    if not may_see_training_of(user, membership):
        raise PermissionDenied(_("Your role does not allow this for this importer."))
