"""REST API for service requests and walk-through bookings, scoped by ``clients.access``.

``/api/v1/service-requests/``: list and retrieve what the user may see; create one (SOA retrieval,
bond application or help) for an importer on which the user holds ``Perm.REQUEST_SERVICES``
(its BAM, a broker agent or admin). ``/api/v1/walkthrough-slots/``: the open 1-hour slots.
``/api/v1/bookings/``: list, retrieve, book a slot, and ``POST …/{id}/cancel/`` until 24 hours
before. The pages' domain functions do the work, so both follow the same rules.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from carm_portal.api import (
    NamedChoiceField,
    ScopedCreateViewSet,
    VisibleImporterField,
    VisibleRowField,
    crud_schema,
    error_responses,
    row_action_schema,
)
from clients.access import Perm
from clients.models import ProgramAccount
from services import requests_flow as flow
from services import walkthroughs
from services.models import (
    Booking,
    HelpTopic,
    RequestKind,
    RequestStatus,
    ServiceRequest,
    WalkthroughSlot,
)


class VisibleAccountField(VisibleRowField):
    """A program account among those the user may see (another importer's: "does not exist")."""

    model = ProgramAccount
    default_error_messages = {"does_not_exist": _("No such program account.")}


class ServiceRequestSerializer(serializers.ModelSerializer):
    importer = VisibleImporterField(perm=Perm.REQUEST_SERVICES)
    kind = NamedChoiceField(enum_name="ServiceRequestKind", choices=RequestKind.choices)
    status = NamedChoiceField(
        enum_name="ServiceRequestStatus", choices=RequestStatus.choices, read_only=True
    )
    topic = NamedChoiceField(
        enum_name="HelpTopic", choices=HelpTopic.choices, required=False, allow_blank=True
    )
    program_account = VisibleAccountField(required=False, allow_null=True)

    class Meta:
        model = ServiceRequest
        fields = [
            "id",
            "importer",
            "kind",
            "status",
            "program_account",
            "period",
            "bond_amount",
            "surety_company",
            "topic",
            "message",
            "created_at",
            "closed_at",
        ]
        read_only_fields = ["bond_amount", "created_at", "closed_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        account = attrs.get("program_account")
        needs_account = kind in (RequestKind.SOA_RETRIEVAL, RequestKind.BOND)
        if needs_account and (account is None or account.importer_id != attrs["importer"].pk):
            raise ValidationError(
                {"program_account": [_("Name one of this importer's program accounts.")]}
            )
        if kind == RequestKind.SOA_RETRIEVAL and not attrs.get("period", "").strip():
            raise ValidationError({"period": [_("Name the billing period.")]})
        if kind == RequestKind.HELP and not (attrs.get("topic") and attrs.get("message")):
            raise ValidationError({"message": [_("Give a topic and a message.")]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> ServiceRequest:
        user = self.context["request"].user
        importer = validated_data["importer"]
        kind = validated_data["kind"]
        if kind == RequestKind.SOA_RETRIEVAL:
            return flow.request_soa(
                importer=importer,
                program_account=validated_data["program_account"],
                period=validated_data["period"],
                by=user,
            )
        if kind == RequestKind.BOND:
            return flow.request_bond(
                importer=importer,
                program_account=validated_data["program_account"],
                surety_company=validated_data.get("surety_company", ""),
                by=user,
            )
        return flow.request_help(
            importer=importer,
            topic=validated_data["topic"],
            message=validated_data["message"],
            by=user,
        )


@crud_schema(
    ServiceRequestSerializer,
    tag="services",
    one="a service request",
    many="service requests",
    create_verb="Make",
)
class ServiceRequestViewSet(ScopedCreateViewSet):
    """Service requests: SOA retrieval from CBSA, customs bond applications, help."""

    queryset = ServiceRequest.objects.select_related("importer").order_by("-created_at", "-id")
    serializer_class = ServiceRequestSerializer
    read_perm = Perm.VIEW


class SlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = WalkthroughSlot
        fields = ["id", "starts_at", "duration_minutes"]


@extend_schema_view(
    list=extend_schema(
        summary="List open walk-through slots",
        responses={200: SlotSerializer(many=True), **error_responses(401)},
    )
)
@extend_schema(tags=["services"])
class OpenSlotViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """One-hour walk-through slots nobody holds, starting more than 24 hours from now."""

    serializer_class = SlotSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return walkthroughs.open_slots()


class BookingSerializer(serializers.ModelSerializer):
    importer = VisibleImporterField(perm=Perm.REQUEST_SERVICES)
    slot = serializers.PrimaryKeyRelatedField(queryset=WalkthroughSlot.objects.all())
    starts_at = serializers.DateTimeField(source="slot.starts_at", read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "importer",
            "slot",
            "starts_at",
            "contact_email",
            "topics",
            "cancelled_at",
            "completed_at",
            "outcomes",
            "notes",
        ]
        read_only_fields = ["cancelled_at", "completed_at", "outcomes", "notes"]

    def create(self, validated_data: dict[str, Any]) -> Booking:
        try:
            return walkthroughs.book(
                slot=validated_data["slot"],
                importer=validated_data["importer"],
                by=self.context["request"].user,
                contact_email=validated_data["contact_email"],
                topics=validated_data.get("topics", ""),
            )
        except walkthroughs.BookingError as exc:
            raise ValidationError({"slot": [str(exc)]}) from None


@crud_schema(
    BookingSerializer,
    tag="services",
    one="a walk-through booking",
    many="walk-through bookings",
    create_verb="Make",
    cancel=row_action_schema("Cancel a walk-through", answer=BookingSerializer, request=None),
)
class BookingViewSet(ScopedCreateViewSet):
    """CARM Client Portal walk-throughs booked for an importer."""

    queryset = Booking.objects.select_related("slot", "importer").order_by("-created_at", "-id")
    serializer_class = BookingSerializer
    read_perm = Perm.VIEW
    action_perms = {"cancel": Perm.REQUEST_SERVICES}

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        booking = self.get_object()
        try:
            walkthroughs.cancel(booking=booking)
        except walkthroughs.BookingError as exc:
            raise ValidationError({"detail": [str(exc)]}) from None
        return Response(BookingSerializer(booking, context={"request": request}).data)
