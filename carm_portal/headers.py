"""Response headers every dynamic page, download and API answer carries (static files are served
by WhiteNoise before this runs, with their own long cache).

- ``Cache-Control: no-store`` unless the view chose otherwise: pages, PDFs, CSVs and API answers
  show one importer's figures, and a shared proxy or the browser's back-forward cache must not keep
  them after sign-out.
- ``Permissions-Policy``: the app needs no camera, microphone, location, payment handler, USB or
  sensors; a page that is ever made to embed something cannot ask for them either.
The Content-Security-Policy itself comes from django-csp (``CONTENT_SECURITY_POLICY`` in settings).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "Cache-Control" not in response:
            patch_cache_control(response, no_store=True, private=True)
        return response
