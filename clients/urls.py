"""Pages of the clients app, under /clients/ (the home page "/" is routed in carm_portal/urls.py)."""

from django.urls import path

from clients import staff_views, views

app_name = "clients"

urlpatterns = [
    path("", views.importer_list, name="importer_list"),
    path("onboarding/", views.onboarding_dashboard, name="dashboard"),
    path("groups/", staff_views.group_list, name="group_list"),
    path("groups/<int:pk>/", staff_views.group_edit, name="group_edit"),
    path("groups/move/", staff_views.move, name="move"),
    path("new/", views.importer_create, name="importer_create"),
    path("<int:pk>/", views.importer_detail, name="importer_detail"),
    path("<int:pk>/edit/", views.importer_edit, name="importer_edit"),
    path("<int:pk>/accounts/new/", views.account_create, name="account_create"),
    path("<int:pk>/accounts/<int:account_id>/edit/", views.account_edit, name="account_edit"),
    path("<int:pk>/people/new/", views.person_create, name="person_create"),
    path("<int:pk>/people/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/steps/<int:step>/", views.step_update, name="step_update"),
]
