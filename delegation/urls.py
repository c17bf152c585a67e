from django.urls import path

from delegation import views

app_name = "delegation"

urlpatterns = [
    path("", views.delegation_list, name="list"),
    path("alerts/", views.alert_list, name="alerts"),
    path("new/<int:importer_pk>/", views.delegation_create, name="create"),
    path("<int:pk>/", views.delegation_detail, name="detail"),
    path("<int:pk>/edit/", views.delegation_edit, name="edit"),
    path("<int:pk>/renewal/", views.renewal_request, name="renewal_request"),
    path("renewals/<int:pk>/confirm/", views.renewal_confirm, name="renewal_confirm"),
    path("renewals/<int:pk>/cancel/", views.renewal_cancel, name="renewal_cancel"),
]
