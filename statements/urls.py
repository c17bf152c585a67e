from django.urls import path

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
]
