"""REST API for renewal requests: the broker asks an importer's BAM to extend a delegation in
the CCP; the BAM (or an agent on their word) confirms the new expiry date.

The same forms and functions as the delegation page (``RenewalRequestForm``,
``RenewalConfirmForm``, ``delegation.records``), scoped by ``clients.access``:

* list and show: ``VIEW`` on the delegation's importer;
* ``POST /api/v1/renewal-requests/`` ``{"delegation", "requested_expiry_date", "message"}``:
  ``MANAGE_DELEGATION`` (one open request per delegation);
* ``POST /{id}/confirm/`` ``{"confirmed_expiry_date", "importer_person", "channel"}`` (the last two from broker staff): ``CONFIRM_DELEGATION`` (the importer's
  BAM, broker admins and agents); the delegation then runs to that date;
* ``POST /{id}/cancel/``: ``MANAGE_DELEGATION``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from carm_portal.api import (
    NamedChoiceField,
    ScopedCreateViewSet,
    VisibleRowField,
    crud_schema,
    error_responses,
    id_filter,
    row_action_schema,
)
from carm_portal.dates import business_date
from clients import access
from clients.access import Perm
from delegation.forms import RenewalConfirmForm, RenewalRequestForm
from delegation.models import ConfirmationChannel, Delegation, RenewalRequest
from delegation.records import RenewalError, cancel_renewal, confirm_renewal, request_renewal

IMPORTER_FIELD = "delegation__importer"


class VisibleDelegationField(VisibleRowField):
    """A delegation among those the user may see (else 400 "No such delegation.")."""

    model = Delegation
    default_error_messages = {"does_not_exist": _("No such delegation.")}


class RenewalRequestSerializer(serializers.ModelSerializer):
    delegation = VisibleDelegationField(perm=Perm.MANAGE_DELEGATION)
    importer = serializers.IntegerField(source="delegation.importer_id", read_only=True)
    status = NamedChoiceField(
        enum_name="RenewalStatus", choices=RenewalRequest.Status.choices, read_only=True
    )
    requested_expiry_date = serializers.DateField(validators=[business_date])
    requested_by = serializers.EmailField(
        source="requested_by.email", read_only=True, default=None, allow_null=True
    )
    confirmed_by = serializers.EmailField(
        source="confirmed_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = RenewalRequest
        fields = [
            "id",
            "delegation",
            "importer",
            "status",
            "requested_expiry_date",
            "message",
            "requested_by",
            "requested_at",
            "confirmed_by",
            "confirmed_at",
            "confirmed_expiry_date",
        ]
        read_only_fields = [
            "status",
            "requested_at",
            "confirmed_at",
            "confirmed_expiry_date",
        ]


class ConfirmSerializer(serializers.Serializer):
    confirmed_expiry_date = serializers.DateField(
        validators=[business_date], help_text=_("The expiry date the CCP now shows.")
    )
    importer_person = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_(
            "Broker staff confirming on the importer's behalf: who at the importer confirmed it."
        ),
    )
    channel = serializers.ChoiceField(
        choices=ConfirmationChannel.choices,
        required=False,
        allow_blank=True,
        help_text=_("Broker staff confirming on the importer's behalf: how they confirmed it."),
    )


class RenewalFilter(django_filters.FilterSet):
    delegation = id_filter("delegation_id", _("Delegation id"))
    importer = id_filter("delegation__importer_id", _("Importer id"))
    status = django_filters.ChoiceFilter(choices=RenewalRequest.Status.choices)

    class Meta:
        model = RenewalRequest
        fields = ["delegation", "importer", "status"]


def _form_errors(form: forms.BaseForm) -> ValidationError:
    return ValidationError(
        {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): [
                error["message"] for error in errors
            ]
            for field, errors in form.errors.get_json_data().items()
        }
    )


def _refused(exc: RenewalError) -> ValidationError:
    return ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})


@crud_schema(
    RenewalRequestSerializer,
    tag="delegations",
    one="a renewal request",
    many="renewal requests",
    list_description="Renewal requests of the delegations of importers you may see, newest first.",
    create=extend_schema(
        summary="Ask for a renewal",
        description=(
            "Asks the importer's BAM to extend the delegation in the CCP to a date after today. "
            "One open request per delegation (400 otherwise)."
        ),
        request=RenewalRequestSerializer,
        responses={201: RenewalRequestSerializer, **error_responses(400, 401, 403)},
    ),
    confirm=row_action_schema(
        "Confirm a renewal",
        description="The delegation now runs to the date the CCP shows (after today).",
        request=ConfirmSerializer,
        answer=RenewalRequestSerializer,
    ),
    cancel=row_action_schema(
        "Cancel a renewal request", request=None, answer=RenewalRequestSerializer
    ),
)
class RenewalRequestViewSet(ScopedCreateViewSet):
    """Requests to an importer's BAM to extend a delegation in the CCP, and their confirmation."""

    queryset = RenewalRequest.objects.select_related(
        "delegation", "requested_by", "confirmed_by"
    ).order_by("-requested_at", "-pk")
    serializer_class = RenewalRequestSerializer
    filterset_class = RenewalFilter
    importer_field = IMPORTER_FIELD
    action_perms = {"confirm": Perm.CONFIRM_DELEGATION, "cancel": Perm.MANAGE_DELEGATION}

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ConfirmSerializer if self.action == "confirm" else RenewalRequestSerializer

    def _answer(self, renewal: RenewalRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=renewal.pk)
        return Response(
            RenewalRequestSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = RenewalRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)  # VisibleDelegationField: 400, 403
        data = body.validated_data
        form = RenewalRequestForm(
            {
                "requested_expiry_date": data["requested_expiry_date"],
                "message": data.get("message", ""),
            }
        )
        if not form.is_valid():
            raise _form_errors(form)
        try:
            renewal = request_renewal(
                delegation=data["delegation"],
                expiry_date=form.cleaned_data["requested_expiry_date"],
                message=form.cleaned_data["message"],
                by=request.user,  # type: ignore[arg-type]
            )
        except RenewalError as exc:
            raise _refused(exc) from None
        return self._answer(renewal, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        renewal = self.get_object()
        body = ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # The page's form and rule: broker staff confirm on the importer's word, and say whose.
        on_behalf = access.is_broker(request.user)
        form = RenewalConfirmForm(
            {
                "confirmed_expiry_date": body.validated_data["confirmed_expiry_date"],
                "importer_person": body.validated_data.get("importer_person", ""),
                "channel": body.validated_data.get("channel", ""),
            },
            on_behalf=on_behalf,
        )
        if not form.is_valid():
            raise _form_errors(form)
        try:
            confirm_renewal(
                renewal=renewal,
                expiry_date=form.cleaned_data["confirmed_expiry_date"],
                by=request.user,  # type: ignore[arg-type]
                importer_person=form.cleaned_data.get("importer_person", ""),
                channel=form.cleaned_data.get("channel", ""),
            )
        except RenewalError as exc:
            raise _refused(exc) from None
        return self._answer(renewal)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        renewal = self.get_object()
        try:
            cancel_renewal(renewal=renewal, by=request.user)  # type: ignore[arg-type]
        except RenewalError as exc:
            raise _refused(exc) from None
        return self._answer(renewal)
