"""The staff pages, under /staff/ (broker admins)."""

from django.urls import path

from clients import staff_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.staff_list, name="list"),
    path("<int:pk>/", staff_views.staff_detail, name="detail"),
]
