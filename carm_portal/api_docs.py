"""The OpenAPI schema (/api/schema/) and its Swagger UI (/api/docs/): open to anyone only where
``API_DOCS_PUBLIC`` says so (outside production by default).

In production they describe every endpoint, filter and field to whoever asks, which helps an
attacker more than a reader: there, only a signed-in person (session or API token) gets them.
An anonymous visitor of the docs page is sent to the sign-in page; an anonymous request for the
schema gets the API's 401.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission


def docs_public() -> bool:
    return bool(getattr(settings, "API_DOCS_PUBLIC", False))


class DocsPermission(BasePermission):
    """Anyone where the docs are public; else a signed-in person."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return docs_public() or bool(request.user and request.user.is_authenticated)


schema_view = SpectacularAPIView.as_view(permission_classes=[DocsPermission])
_swagger = SpectacularSwaggerSplitView.as_view(
    url_name="api-schema", permission_classes=[DocsPermission]
)


def docs_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The Swagger UI; a signed-out visitor where the docs are private goes to sign in first."""
    if not docs_public() and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    response: HttpResponse = _swagger(request, *args, **kwargs)
    return response
