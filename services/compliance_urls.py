"""Compliance work after release: corrections, late accounting, documents, readiness, training."""

from django.urls import path

from services import compliance_views as views
from services import training_course_views, training_views
from services.views import readiness, readiness_answer

app_name = "compliance"

urlpatterns = [
    path("corrections/", views.correction_list, name="correction_list"),
    path("corrections/<int:pk>/", views.correction_detail, name="correction_detail"),
    path("corrections/<int:pk>/status/", views.correction_status, name="correction_status"),
    path(
        "importers/<int:importer_pk>/corrections/new/",
        views.correction_create,
        name="correction_create",
    ),
    path("importers/<int:importer_pk>/", views.importer_compliance, name="importer"),
    path("late-accounting/", views.late_accounting, name="late_accounting"),
    path("importers/<int:importer_pk>/documents/", views.document_list, name="documents"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
    path("documents/<int:pk>/hold/", views.document_hold, name="document_hold"),
    path("training/", training_views.course_list, name="training_courses"),
    path("training/due/", training_views.due_list, name="training_due"),
    path("training/record/", training_views.pick_importer, name="training_pick"),
    path(
        "training/courses/new/", training_course_views.course_create, name="training_course_create"
    ),
    path("training/courses/<int:pk>/", training_views.course_detail, name="training_course"),
    path(
        "training/courses/<int:pk>/edit/",
        training_course_views.course_edit,
        name="training_course_edit",
    ),
    path(
        "training/courses/<int:pk>/retire/",
        training_course_views.course_retire,
        name="training_course_retire",
    ),
    path(
        "training/courses/<int:pk>/offer/",
        training_course_views.course_offer,
        name="training_course_offer",
    ),
    path(
        "training/courses/<int:pk>/delete/",
        training_course_views.course_delete,
        name="training_course_delete",
    ),
    path(
        "training/courses/<int:pk>/sessions/new/",
        training_views.session_create,
        name="training_session_create",
    ),
    path(
        "training/completions/<int:pk>/certificate.pdf",
        training_views.certificate,
        name="training_certificate",
    ),
    path(
        "importers/<int:importer_pk>/training/",
        training_views.importer_training,
        name="training_importer",
    ),
    path(
        "importers/<int:importer_pk>/training/record/",
        training_views.record,
        name="training_record",
    ),
    path("importers/<int:importer_pk>/readiness/", readiness.readiness, name="readiness"),
    path(
        "importers/<int:importer_pk>/readiness/take/",
        readiness.readiness_take,
        name="readiness_take",
    ),
    path(
        "importers/<int:importer_pk>/readiness/answer/",
        readiness_answer.readiness_answer,
        name="readiness_answer",
    ),
    path(
        "importers/<int:importer_pk>/readiness/pdf/",
        readiness.readiness_pdf_view,
        name="readiness_pdf",
    ),
    path("readiness/", readiness.portfolio, name="readiness_portfolio"),
    path("readiness/follow-ups/", readiness.followups, name="readiness_followups"),
    path("readiness/follow-ups/<int:pk>/done/", readiness.gap_done, name="readiness_gap_done"),
    path("readiness/follow-ups/<int:pk>/", readiness.gap_update, name="readiness_gap_update"),
]
