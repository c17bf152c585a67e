from django.urls import path

from statements import reconciliation_views as rviews
from statements import views

app_name = "statements"

urlpatterns = [
    path("", views.statement_list, name="list"),
    path("importer/<int:importer_pk>/", views.importer_statements, name="importer"),
    path("<int:pk>/", views.statement_detail, name="detail"),
    path("imports/", views.batch_list, name="batches"),
    path("imports/new/", views.upload, name="upload"),
    path("imports/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("imports/<int:pk>/errors.csv", views.batch_errors_csv, name="batch_errors"),
    # Reconciliation (issue 5).
    path("reconciliation/", rviews.worklist, name="worklist"),
    path("<int:statement_pk>/reconcile/", rviews.reconcile, name="reconcile"),
    path(
        "<int:statement_pk>/reconciliation/",
        rviews.run_current,
        name="reconciliation_current",
    ),
    path(
        "<int:statement_pk>/reconciliation/<int:run_pk>/",
        rviews.run_detail,
        name="reconciliation",
    ),
    path(
        "<int:statement_pk>/reconciliation/<int:run_pk>/progress/",
        rviews.run_progress,
        name="reconciliation_progress",
    ),
    path(
        "<int:statement_pk>/reconciliation/<int:run_pk>/report.pdf",
        rviews.run_pdf,
        name="reconciliation_pdf",
    ),
    path(
        "<int:statement_pk>/reconciliation/<int:run_pk>/items.csv",
        rviews.run_csv,
        name="reconciliation_csv",
    ),
    path(
        "<int:statement_pk>/reconciliation/items/<int:item_pk>/",
        rviews.item_detail,
        name="reconciliation_item",
    ),
]
