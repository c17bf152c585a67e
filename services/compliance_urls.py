"""Compliance work after release: corrections, late accounting, documents, readiness, training."""

from django.urls import path  # noqa: F401  (the routes arrive with the pages)

app_name = "compliance"

urlpatterns: list = []
