"""Admin for the compliance records: corrections, alerts, documents and retention periods.

Purging documents past retention happens here and only here, after a broker admin confirms the
list on a second page (``purge_expired``): the daily job only lists what has expired.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from carm_portal.calendar import cbsa_today
from carm_portal.models import User
from clients import access
from clients.access import GlobalPerm
from services.compliance.documents import purge_documents
from services.models import (
    ComplianceAlert,
    ComplianceDocument,
    Correction,
    Course,
    ReadinessCheck,
    ReadinessGap,
    ReadinessQuestion,
    RetentionPeriod,
    TrainingCompletion,
    TrainingSession,
)


@admin.register(Correction)
class CorrectionAdmin(SimpleHistoryAdmin):
    list_display = ["transaction_number", "importer", "reason", "status", "deadline"]
    list_filter = ["status", "reason"]
    search_fields = ["transaction_number", "importer__legal_name"]
    list_select_related = ["importer"]
    raw_id_fields = [
        "importer",
        "program_account",
        "statement",
        "reconciliation_item",
        "created_by",
    ]


@admin.register(ComplianceAlert)
class ComplianceAlertAdmin(SimpleHistoryAdmin):
    list_display = ["importer", "kind", "severity", "raised_on", "resolved_at"]
    list_filter = ["kind", "severity"]
    list_select_related = ["importer"]
    raw_id_fields = ["importer", "correction"]


@admin.register(RetentionPeriod)
class RetentionPeriodAdmin(admin.ModelAdmin):
    list_display = ["document_type", "years"]


@admin.register(ComplianceDocument)
class ComplianceDocumentAdmin(SimpleHistoryAdmin):
    list_display = [
        "original_name",
        "importer",
        "document_type",
        "record_date",
        "retain_until",
        "legal_hold",
        "purged_at",
    ]
    list_filter = ["document_type", "legal_hold", ("purged_at", admin.EmptyFieldListFilter)]
    search_fields = ["original_name", "importer__legal_name", "transaction_number"]
    list_select_related = ["importer"]
    raw_id_fields = ["importer", "statement", "delegation", "correction", "uploaded_by"]
    readonly_fields = [
        "file",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
        "purged_at",
        "purged_by",
    ]
    actions = ["purge_expired"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # records are purged (file deleted, row kept), never deleted

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # filed through the portal, where the content is checked

    @admin.action(description=_("Purge the selected documents past retention"))
    def purge_expired(
        self, request: HttpRequest, queryset: QuerySet[ComplianceDocument]
    ) -> HttpResponse | None:
        if not access.can_global(request.user, GlobalPerm.PURGE_RECORDS):
            self.message_user(
                request, _("Only a broker admin may purge records."), level=messages.ERROR
            )
            return None
        today = cbsa_today()
        eligible = queryset.filter(
            retain_until__lt=today, legal_hold=False, purged_at__isnull=True
        ).select_related("importer")
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "compliance/admin_purge_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Confirm the purge"),
                    "documents": eligible,
                    "skipped": queryset.count() - eligible.count(),
                    "selected": queryset.values_list("pk", flat=True),
                    "opts": self.model._meta,
                    "action": "purge_expired",
                },
            )
        user = request.user
        assert isinstance(user, User)  # the admin is behind a login
        purged, _refused = purge_documents(list(eligible), by=user, today=today)
        self.message_user(
            request,
            ngettext("%(n)d document purged.", "%(n)d documents purged.", purged) % {"n": purged},
        )
        return None


@admin.register(ReadinessQuestion)
class ReadinessQuestionAdmin(admin.ModelAdmin):
    """Broker admins edit the questionnaire's wording, weights and order here."""

    list_display = ["key", "text", "weight", "derived_from", "position", "active"]
    list_editable = ["weight", "position", "active"]
    list_filter = ["active"]


@admin.register(ReadinessCheck)
class ReadinessCheckAdmin(SimpleHistoryAdmin):
    list_display = ["importer", "taken_on", "score", "taken_by"]
    list_select_related = ["importer", "taken_by"]
    raw_id_fields = ["importer", "taken_by"]
    readonly_fields = ["answers"]


@admin.register(ReadinessGap)
class ReadinessGapAdmin(SimpleHistoryAdmin):
    list_display = ["importer", "question_key", "owner", "due_on", "done_at"]
    list_filter = ["done_at"]
    list_select_related = ["importer", "owner"]
    raw_id_fields = ["importer", "check_run", "owner", "done_by"]


@admin.register(Course)
class CourseAdmin(SimpleHistoryAdmin):
    list_display = ["name", "role", "refresh_months", "active"]
    list_filter = ["role", "active"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(SimpleHistoryAdmin):
    list_display = ["course", "held_on", "trainer"]
    list_select_related = ["course"]
    raw_id_fields = ["webinar", "booking"]


@admin.register(TrainingCompletion)
class TrainingCompletionAdmin(SimpleHistoryAdmin):
    list_display = ["membership", "importer", "course", "completed_on", "lapses_on"]
    list_select_related = ["membership__user", "importer", "course"]
    raw_id_fields = ["importer", "membership", "session", "recorded_by"]
