"""The compliance records in the REST API (read only): corrections, compliance documents and
readiness checks (with their follow-ups).

Scoped like every other viewset (``carm_portal.api``): rows of importers the user may not see
never appear and are a 404; corrections and documents need ``view_finance``, readiness checks
``view_readiness``. A document's file is downloaded through
``download``, after the same check, never from a public URL.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from carm_portal.api import ImporterPermission, ScopedReadViewSet, crud_schema, error_responses
from clients import access
from clients.access import Perm
from services.compliance.documents import filed_content_types
from services.models import (
    ComplianceDocument,
    Correction,
    ReadinessCheck,
    ReadinessGap,
    TrainingCompletion,
)


class CorrectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Correction
        fields = [
            "id",
            "importer",
            "program_account",
            "transaction_number",
            "corrects_version",
            "filed_version",
            "reason",
            "reason_to_believe_on",
            "deadline",
            "accounted_on",
            "amount_before",
            "amount_after",
            "status",
            "statement",
            "reconciliation_key",
            "created_at",
            "filed_at",
            "closed_at",
        ]
        read_only_fields = fields


class ComplianceDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplianceDocument
        fields = [
            "id",
            "importer",
            "document_type",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "record_date",
            "retain_until",
            "legal_hold",
            "description",
            "statement",
            "transaction_number",
            "correction",
            "uploaded_at",
            "purged_at",
        ]
        read_only_fields = fields


class ReadinessGapSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReadinessGap
        fields = ["id", "question_key", "text", "owner", "due_on", "done_at", "done_by"]
        read_only_fields = fields


class ReadinessCheckSerializer(serializers.ModelSerializer):
    gaps = ReadinessGapSerializer(many=True, read_only=True)

    class Meta:
        model = ReadinessCheck
        fields = ["id", "importer", "taken_on", "taken_at", "taken_by", "score", "answers", "gaps"]
        read_only_fields = fields


@crud_schema(CorrectionSerializer, tag="compliance", one="a correction", many="corrections")
class CorrectionViewSet(ScopedReadViewSet):
    """Post-release corrections of CADs, nearest deadline first."""

    queryset = Correction.objects.order_by("deadline", "id")
    serializer_class = CorrectionSerializer
    importer_field = "importer"
    read_perm = Perm.VIEW_FINANCE


@crud_schema(
    ComplianceDocumentSerializer,
    tag="compliance",
    one="a compliance document",
    many="compliance documents",
)
class ComplianceDocumentViewSet(ScopedReadViewSet):
    """The import records kept for each importer (metadata; the file through ``download``)."""

    queryset = ComplianceDocument.objects.order_by("-record_date", "-id")
    serializer_class = ComplianceDocumentSerializer
    importer_field = "importer"
    read_perm = Perm.VIEW_FINANCE

    @extend_schema(
        summary="Download a compliance document",
        description=(
            "The file as an attachment, in the content type it was filed under; 404 once it has "
            "been purged."
        ),
        # Each type a document can be filed under (documents.ALLOWED): the answer carries the
        # document's own, so a PDF is served as a PDF, a text file as text.
        responses={
            **{
                (200, content_type): OpenApiResponse(OpenApiTypes.BINARY)
                for content_type in filed_content_types()
            },
            **error_responses(403, 404),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        document = self.get_object()
        if not document.file:
            raise Http404(_("This document was purged."))
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class TrainingCompletionSerializer(serializers.ModelSerializer):
    person = serializers.CharField(source="membership.user.email", read_only=True)
    course_name = serializers.CharField(
        source="course.name",
        read_only=True,
        help_text=gettext_lazy("The course's name in English."),
    )
    course_name_fr = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "The course's name in French: the French name given to it, else its English name "
            "(a default course's as the portal translates it)."
        )
    )
    course_role = serializers.CharField(source="course.role", read_only=True)

    class Meta:
        model = TrainingCompletion
        fields = [
            "id",
            "importer",
            "membership",
            "person",
            "course",
            "course_name",
            "course_name_fr",
            "course_role",
            "completed_on",
            "lapses_on",
            "session",
            "recorded_at",
        ]
        read_only_fields = fields

    def get_course_name_fr(self, completion: TrainingCompletion) -> str:
        """What a French reader sees on the pages (``Course.title``), whoever asks."""
        with translation.override("fr"):
            return completion.course.title


class TrainingPermission(ImporterPermission):
    """A completion is its importer's (``view_training``) and its person's own."""

    def has_object_permission(self, request: Request, view: APIView, obj: Model) -> bool:
        assert isinstance(obj, TrainingCompletion)
        return access.may_see_training_of(request.user, obj.membership)


@crud_schema(
    TrainingCompletionSerializer,
    tag="compliance",
    one="a training completion",
    many="training completions",
)
class TrainingCompletionViewSet(ScopedReadViewSet):
    """Who of the importers' people completed which course, and when it lapses (latest first).
    ``access.may_see_training_of`` decides, as on the certificate: ``view_training`` (broker staff
    and the importer's BAM) shows the importer's people, and every person sees their own."""

    queryset = TrainingCompletion.objects.select_related("membership__user", "course").order_by(
        "-completed_on", "-id"
    )
    serializer_class = TrainingCompletionSerializer
    importer_field = "importer"
    read_perm = Perm.VIEW_TRAINING
    permission_classes = [IsAuthenticated, TrainingPermission]

    def get_queryset(self) -> QuerySet[TrainingCompletion]:
        if getattr(self, "detail", None) is False:  # the list: only the rows the user may see
            return access.training_visible_to(self.queryset.all(), self.request.user)
        return super().get_queryset()  # a single row: 404 for an importer the user may not see


@crud_schema(
    ReadinessCheckSerializer,
    tag="compliance",
    one="a readiness check",
    many="readiness checks",
)
class ReadinessCheckViewSet(ScopedReadViewSet):
    """RM readiness checks, the latest first: the score, the answers as given on the day and the
    follow-ups each gap opened."""

    queryset = ReadinessCheck.objects.prefetch_related("gaps").order_by("-taken_at", "-id")
    serializer_class = ReadinessCheckSerializer
    importer_field = "importer"
    read_perm = Perm.VIEW_READINESS
