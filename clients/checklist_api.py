"""REST API for the onboarding checklist and the importer's CCP people (read).

``/api/v1/onboarding-steps/`` lists and shows the seven preparedness steps of the importers the
user may see (``VIEW``), as the importer page shows them; ``POST /{id}/mark/`` records a person's
word on a step exactly as the page's step form does (the same ``StepForm`` and
``clients.onboarding.set_step_status``: manual steps take any status, derived ones only
*blocked* or back to following the records), with ``MANAGE_CLIENT``.

``/api/v1/portal-users/`` lists the importer's people in the CARM Client Portal (BAM, PAM,
editors, readers) of the importers the user may see, as the importer page's people table does.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from carm_portal.api import (
    NamedChoiceField,
    ScopedReadViewSet,
    crud_schema,
    id_filter,
    row_action_schema,
)
from carm_portal.dates import business_date
from clients.access import Perm
from clients.forms import StepForm
from clients.models import OnboardingStep, PortalUser
from clients.onboarding import set_step_status

Status = OnboardingStep.Status


class OnboardingStepSerializer(serializers.ModelSerializer):
    step_name = serializers.CharField(source="get_step_display", read_only=True)
    status = NamedChoiceField(enum_name="OnboardingStatus", choices=Status.choices, read_only=True)
    manual_status = NamedChoiceField(
        enum_name="OnboardingStatus", choices=Status.choices, read_only=True, allow_blank=True
    )
    confirmed_by = serializers.EmailField(
        source="confirmed_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = OnboardingStep
        fields = [
            "id",
            "importer",
            "step",
            "step_name",
            "status",
            "derived",
            "manual_status",
            "summary",
            "completed_on",
            "note",
            "confirmed_by",
            "confirmed_at",
            "updated_at",
        ]
        read_only_fields = fields


class MarkStepSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("", _("Follow the records")), *Status.choices],
        allow_blank=True,
        help_text=_(
            "Any status for a manual step; blocked, or empty to follow the records, for a derived "
            "one."
        ),
    )
    completed_on = serializers.DateField(
        required=False, allow_null=True, validators=[business_date]
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class OnboardingStepFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))

    class Meta:
        model = OnboardingStep
        fields = ["importer"]


@crud_schema(
    OnboardingStepSerializer,
    tag="onboarding",
    one="an onboarding step",
    many="onboarding steps",
    list_description="The checklist steps of the importers you may see, by importer and step.",
    mark=row_action_schema(
        "Mark an onboarding step",
        description=(
            "As the importer page's step form: manual steps take any status, derived ones only "
            "blocked or empty (follow the records). Needs the right to manage the client."
        ),
        request=MarkStepSerializer,
        answer=OnboardingStepSerializer,
    ),
)
class OnboardingStepViewSet(ScopedReadViewSet):
    """The onboarding checklist: seven steps per importer, derived from its records or confirmed
    by a person."""

    queryset = OnboardingStep.objects.select_related("confirmed_by").order_by("importer_id", "step")
    serializer_class = OnboardingStepSerializer
    filterset_class = OnboardingStepFilter
    importer_field = "importer"
    action_perms = {"mark": Perm.MANAGE_CLIENT}

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return MarkStepSerializer if self.action == "mark" else OnboardingStepSerializer

    @action(detail=True, methods=["post"])
    def mark(self, request: Request, pk: str | None = None) -> Response:
        row = self.get_object()
        body = MarkStepSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(body.validated_data)
        form = StepForm(
            {
                "status": data["status"],
                "note": data.get("note", ""),
                "completed_on": data.get("completed_on") or "",
            },
            step=row.step,
        )
        if not form.is_valid():
            raise ValidationError(
                {
                    field: [error["message"] for error in errors]
                    for field, errors in form.errors.get_json_data().items()
                }
            )
        try:
            fresh = set_step_status(
                importer=row.importer,
                step=row.step,
                status=form.cleaned_data["status"],
                by=request.user,  # type: ignore[arg-type]
                note=form.cleaned_data["note"],
                completed_on=form.cleaned_data.get("completed_on"),
            )
        except ValueError as exc:
            raise ValidationError({"status": [str(exc)]}) from None
        return Response(OnboardingStepSerializer(fresh).data)


class PortalUserSerializer(serializers.ModelSerializer):
    ccp_role = NamedChoiceField(
        enum_name="CcpRole", choices=PortalUser.CcpRole.choices, read_only=True
    )

    class Meta:
        model = PortalUser
        fields = [
            "id",
            "importer",
            "full_name",
            "email",
            "ccp_role",
            "program_account",
            "sign_in_method",
            "responsibility",
            "profile_created",
            "access_approved",
        ]
        read_only_fields = fields


class PortalUserFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))

    class Meta:
        model = PortalUser
        fields = ["importer"]


@crud_schema(
    PortalUserSerializer,
    tag="portal users",
    one="a portal user",
    many="portal users",
    list_description="The CCP people (BAM, PAM, editors, readers) of the importers you may see.",
)
class PortalUserViewSet(ScopedReadViewSet):
    """The importer's people in the CARM Client Portal, as the importer page lists them."""

    queryset = PortalUser.objects.order_by("importer_id", "full_name", "pk")
    serializer_class = PortalUserSerializer
    filterset_class = PortalUserFilter
    importer_field = "importer"
