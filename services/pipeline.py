"""The staff pipeline of prospects: stages, the work list's filters, and conversion to a client.

Conversion is the one action that reaches into clients: it creates the importer (a Business
Number may come later: the onboarding wizard asks for it) and invites the prospect's contact as
its first BAM through ``clients.invitations``, which mails the link into the onboarding wizard.
It locks the prospect row, so a double click or two staff at once still make one importer and one
invitation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from clients import access, invitations
from clients.models import Importer, Invitation
from clients.validators import normalize_bn9
from services.models import Prospect, Stage

if TYPE_CHECKING:
    from carm_portal.models import User

OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.INVITED, Stage.ONBOARDING)


@dataclass(frozen=True)
class Filters:
    stage: str = ""
    owner_id: int | None = None
    mine_only_for: int | None = None
    due_by: dt.date | None = None
    q: str = ""
    include_unconfirmed: bool = False


def pipeline(filters: Filters) -> QuerySet[Prospect]:
    """Prospects for the staff list: confirmed ones only unless asked, newest first."""
    queryset = Prospect.objects.select_related("owner", "importer")
    if not filters.include_unconfirmed:
        queryset = queryset.exclude(confirmed_at=None)
    if filters.stage == "open":
        queryset = queryset.filter(stage__in=OPEN_STAGES)
    elif filters.stage:
        queryset = queryset.filter(stage=filters.stage)
    if filters.owner_id:
        queryset = queryset.filter(owner_id=filters.owner_id)
    if filters.due_by:
        queryset = queryset.filter(next_action_on__lte=filters.due_by)
    if filters.q:
        term = filters.q.strip()
        queryset = queryset.filter(
            Q(company__icontains=term) | Q(name__icontains=term) | Q(email__icontains=term)
        )
    return queryset.order_by("next_action_on", "-created_at", "-id")


class ConversionError(Exception):
    pass


@dataclass(frozen=True)
class Conversion:
    importer: Importer
    invitation: Invitation | None
    created: bool


def _usable_bn9(value: str) -> str | None:
    """The prospect's BN9 if it is valid and no importer holds it yet (else the wizard asks)."""
    if not value:
        return None
    try:
        bn9 = normalize_bn9(value)
    except ValidationError:
        return None
    return None if Importer.objects.filter(bn9=bn9).exists() else bn9


def convert_to_importer(*, prospect: Prospect, by: User) -> Conversion:
    """Make the prospect a client: one importer, one BAM invitation, the prospect marked invited.

    A second call (a double click, a retry) finds the importer already made and returns it with
    its open invitation; nothing new is created and no second e-mail goes out.
    """
    if not access.can_global(by, access.GlobalPerm.CREATE_IMPORTER):
        raise ConversionError(_("your role may not create importers."))
    with transaction.atomic():
        locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
        if locked.importer_id is not None:
            importer = Importer.objects.get(pk=locked.importer_id)
            invitation = (
                Invitation.objects.filter(importer=importer, email=locked.email)
                .order_by("-id")
                .first()
            )
            prospect.refresh_from_db()
            return Conversion(importer=importer, invitation=invitation, created=False)
        if locked.confirmed_at is None:
            raise ConversionError(_("the prospect has not confirmed its email address yet."))
        importer = Importer(
            legal_name=locked.company,
            bn9=_usable_bn9(locked.bn9),
            status=Importer.Status.ONBOARDING,
            email=locked.email,
            phone=locked.phone,
            assigned_agent=(
                locked.owner if locked.owner and access.is_broker_agent(locked.owner) else None
            ),
            notes=locked.notes,
        )
        importer._history_user = by
        importer.save()
        try:
            invitation, _token = invitations.invite(
                importer=importer,
                email=locked.email,
                role=access.new_client_contact_role(),
                full_name=locked.name,
                invited_by=by,
            )
        except invitations.InvitationError as exc:
            raise ConversionError(str(exc)) from exc
        locked.importer = importer
        locked.stage = Stage.INVITED
        locked.save(update_fields=["importer", "stage", "updated_at"])
    prospect.refresh_from_db()
    return Conversion(importer=importer, invitation=invitation, created=True)


@dataclass(frozen=True)
class ClientProgress:
    """Where a converted prospect stands as a client: its invitation and its importer's status."""

    importer: Importer
    invitation: Invitation | None
    invitation_state: str


def client_progress(prospect: Prospect) -> ClientProgress | None:
    """What staff need to move the stage by hand (invited -> onboarding -> client)."""
    if prospect.importer is None:
        return None
    invitation = (
        Invitation.objects.filter(importer=prospect.importer, email=prospect.email)
        .order_by("-id")
        .first()
    )
    label = ""
    if invitation is not None:
        current = invitations.state(invitation)
        label = str(Invitation.State(current).label)
    return ClientProgress(importer=prospect.importer, invitation=invitation, invitation_state=label)
