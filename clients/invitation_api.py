"""REST API for invitations: ``/api/v1/invitations/``, scoped by ``clients.access`` like the pages.

* list and retrieve: the invitations of importers on which you may invite (``Perm.INVITE``: broker
  admins and agents, an importer's BAM); anyone else gets an empty list, and a 403 (a 404 for
  another importer's invitation) on one row. The token and its hash are never shown: the emailed
  link is the one copy of the secret.
* create (``POST``): the rules of the invite page, through ``clients.invitations.invite``: a BAM
  gives only the finance and employee roles, a member or the broker's staff is refused, and an
  address with an open invitation gets that one sent again (200, ``sent_count`` > 1) rather than a
  second one (201).
* ``POST /{id}/resend/``: a new link and a fresh expiry (the old link dies);
  ``POST /{id}/revoke/``: the link dies. Only for invitations of a role you may give.

No update or delete: an invitation is changed by inviting the address again, and kept for history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from carm_portal.api import (
    NamedChoiceField,
    ScopedCreateViewSet,
    VisibleImporterField,
    crud_schema,
    error_responses,
    id_filter,
    row_action_schema,
)
from clients import invitations
from clients.access import Perm
from clients.invitations import InvitationError, InvitationThrottled
from clients.models import Invitation, Membership


def _as_validation_error(exc: InvitationError) -> APIException:
    """A refusal of ``clients.invitations`` as a 400, on the field it names; too many sendings
    to one address as a 429 with ``Retry-After``."""
    if isinstance(exc, InvitationThrottled):
        return Throttled(wait=exc.retry_after, detail=str(exc))
    return ValidationError({exc.field or api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})


SENDING_ACTIONS = frozenset({"create", "resend"})


# --- Serializers ------------------------------------------------------------------------------


class InvitationStateField(NamedChoiceField):
    """Where the invitation stands now (``clients.invitations.state``): it is not a stored column,
    since "expired" follows the clock."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            enum_name="InvitationState",
            choices=Invitation.State.choices,
            source="*",
            read_only=True,
            **kwargs,
        )

    def to_representation(self, value: Invitation) -> str:  # type: ignore[override]  # source="*": DRF passes the whole invitation
        now: datetime | None = self.context.get("now")
        return invitations.state(value, now)


class InvitationSerializer(serializers.ModelSerializer):
    importer = VisibleImporterField(
        perm=Perm.INVITE,
        help_text=_("The importer the person joins; you must be allowed to invite there."),
    )
    importer_name = serializers.CharField(source="importer.legal_name", read_only=True)
    email = serializers.EmailField(
        max_length=254, help_text=_("The link goes to this address; they sign up with it.")
    )
    full_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", label=_("Name")
    )
    role = NamedChoiceField(
        enum_name="MembershipRole",
        choices=Membership.Role.choices,
        help_text=_("Broker staff may give any role; an importer's BAM only finance or employee."),
    )
    state = InvitationStateField(
        help_text=_("pending, accepted, expired (can be resent) or revoked.")
    )
    can_act = serializers.SerializerMethodField(
        help_text=_("True when you may resend or revoke it: still open, and a role you may give.")
    )
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True)
    accepted_by = serializers.EmailField(
        source="accepted_by.email", read_only=True, allow_null=True
    )
    revoked_by = serializers.EmailField(source="revoked_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "importer",
            "importer_name",
            "email",
            "full_name",
            "role",
            "state",
            "can_act",
            "invited_by",
            "created_at",
            "expires_at",
            "sent_count",
            "last_sent_at",
            "accepted_at",
            "accepted_by",
            "revoked_at",
            "revoked_by",
        ]
        read_only_fields = [
            "created_at",
            "expires_at",
            "sent_count",
            "last_sent_at",
            "accepted_at",
            "revoked_at",
        ]
        # The one-open-invitation-per-address constraint is not a refusal here: inviting the
        # address again resends (clients.invitations.invite), so no unique validator.
        validators: list[Any] = []

    def get_can_act(self, invitation: Invitation) -> bool:
        user = self.context["request"].user
        return invitations.is_open(invitation) and invitations.may_manage(user, invitation)

    def create(self, validated_data: dict[str, Any]) -> Invitation:
        try:
            invitation, _token = invitations.invite(
                importer=validated_data["importer"],
                email=validated_data["email"],
                role=validated_data["role"],
                full_name=validated_data.get("full_name", ""),
                invited_by=self.context["request"].user,
            )
        except InvitationError as exc:
            raise _as_validation_error(exc) from None
        return invitation


# --- Filters ----------------------------------------------------------------------------------


class InvitationFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))
    state = django_filters.ChoiceFilter(
        method="filter_state", choices=Invitation.State.choices, label=_("State, as of now")
    )
    email = django_filters.CharFilter(
        method="filter_email", label=_("Invited address (any capitalisation)")
    )

    class Meta:
        model = Invitation
        fields = ["importer", "state", "email"]

    def filter_state(
        self, queryset: QuerySet[Invitation], name: str, value: str
    ) -> QuerySet[Invitation]:
        return queryset.filter(invitations.state_filter(value))

    def filter_email(
        self, queryset: QuerySet[Invitation], name: str, value: str
    ) -> QuerySet[Invitation]:
        return queryset.filter(email=value.strip().lower())


# --- Viewset ----------------------------------------------------------------------------------


@crud_schema(
    InvitationSerializer,
    tag="invitations",
    one="an invitation",
    many="invitations",
    list_description=(
        "Invitations of the importers on which you may invite people (broker admins and "
        "agents, an importer's BAM), newest first. Filter with ?importer=, ?state=, ?email=."
    ),
    # Not the standard create: inviting an address again resends, and answers 200.
    create=extend_schema(
        summary="Invite a person",
        description=(
            "Emails a one-time link that expires after the configured number of days. An "
            "importer's BAM may invite finance or employee members only; a member of the "
            "importer, or the broker's staff, cannot be invited. An address that already has an "
            "open invitation for the importer gets that invitation sent again, with a new link "
            "and the role and name given: the answer is then 200 instead of 201."
        ),
        responses={
            201: InvitationSerializer,
            200: OpenApiResponse(
                InvitationSerializer, description=str(_("An open invitation was sent again."))
            ),
            **error_responses(400, 401, 403),
        },
    ),
)
class InvitationViewSet(ScopedCreateViewSet):
    """Invitations to sign in for an importer: who was invited, with which role, and where the
    link stands."""

    queryset = Invitation.objects.select_related(
        "importer", "invited_by", "accepted_by", "revoked_by"
    ).order_by("-created_at", "-id")
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    importer_field = "importer"
    read_perm = Perm.INVITE
    write_perm = Perm.INVITE

    @property
    def throttle_scope(self) -> str | None:
        """Inviting and resending email someone else: the ``invitation-send`` rate, on top of
        ``clients.invitations``' limits per invitation and per address."""
        return "invitation-send" if getattr(self, "action", None) in SENDING_ACTIONS else None

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _answer(self, invitation: Invitation, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=invitation.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = serializer.save()
        resent = invitation.sent_count > 1
        return self._answer(invitation, status.HTTP_200_OK if resent else status.HTTP_201_CREATED)

    def _manageable(self) -> Invitation:
        """The invitation of the URL: 404 if invisible, 403 without INVITE or for a role the
        user may not give (a BAM and a BAM invitation)."""
        invitation = self.get_object()
        if not invitations.may_manage(self.request.user, invitation):
            raise PermissionDenied(_("Your role does not allow this for this invitation."))
        return invitation

    def _change(self, change: Callable[..., object]) -> Response:
        """Apply ``clients.invitations``' ``change`` (resend, revoke) to the invitation of the URL
        and answer with it; a refusal is a 400 on the field it names."""
        invitation = self._manageable()
        try:
            change(invitation, by=self.request.user)
        except InvitationError as exc:
            raise _as_validation_error(exc) from None
        return self._answer(invitation)

    @row_action_schema(
        "Send an invitation again",
        description=(
            "A new link with a fresh expiry goes to the address; the previous link stops "
            "working. Refused (400) for an accepted or revoked invitation, or an address that "
            "has become a member."
        ),
        request=None,
        answer=InvitationSerializer,
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        return self._change(invitations.resend)

    @row_action_schema(
        "Revoke an invitation",
        description=(
            "The link stops working at once. Revoking twice is the same as once; an accepted "
            "invitation cannot be revoked (400): remove the membership instead."
        ),
        request=None,
        answer=InvitationSerializer,
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        return self._change(invitations.revoke)

    def _confirmation(self, *, approve: bool) -> Response:
        """A BAM's answer about a new BAM: 404 if invisible, 403 unless the user is one of the
        importer's BAMs (broker staff included), 400 if it no longer waits."""
        invitation = self.get_object()
        if not invitations.may_confirm(self.request.user, invitation):
            raise PermissionDenied(_("Only the importer's BAM may confirm a new BAM."))
        try:
            invitations.confirm(invitation, by=self.request.user, approve=approve)
        except InvitationError as exc:
            raise _as_validation_error(exc) from None
        return self._answer(invitation)

    @row_action_schema(
        "Confirm a new BAM",
        description=(
            "A new BAM invited by anyone but one of the importer's BAMs waits for a BAM's "
            "confirmation (state awaiting_confirmation); confirming sends the invitation link. "
            "Only the importer's BAMs may confirm (403 for anyone else, broker staff included)."
        ),
        request=None,
        answer=InvitationSerializer,
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        return self._confirmation(approve=True)

    @row_action_schema(
        "Decline a new BAM",
        description=(
            "The invitation is revoked without any email to the invited address. Only the "
            "importer's BAMs may decline (403 for anyone else)."
        ),
        request=None,
        answer=InvitationSerializer,
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        return self._confirmation(approve=False)
