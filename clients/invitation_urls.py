"""URLs of the invitation pages (filled in by the issue-7 work)."""

from django.urls import path  # noqa: F401

app_name = "invitations"

urlpatterns: list = []
