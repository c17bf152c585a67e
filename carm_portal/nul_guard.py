"""No request value may hold a NUL character: such a request is a 400 before any view runs.

PostgreSQL cannot store or compare text holding NUL (psycopg raises, which was a 500), and SQLite
stores it silently; no legitimate input of ours (a name, a reference, a search) has one. Forms and
DRF fields refuse NUL already, but code that reads ``request.GET`` for a filter does not, so the
rule is kept once, here, for the query string, form bodies and JSON bodies alike. Uploaded files
are not looked at: the importers refuse a NUL in a file with its row number.

Any API operation can therefore answer this 400, bodiless ones included (an unknown query
parameter is no defence): the OpenAPI schema says so on each (``carm_portal.api``'s
``document_common_answers``). The API's answer is JSON (``{"detail": ...}``, as its other errors);
a page's is plain text.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

_JSON_NUL = b"\\u0000"


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    if any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    ):
        return True
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH"):
        if content_type == "application/json":
            body = request.body
            return b"\x00" in body or _JSON_NUL in body.lower()
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return any(
                "\x00" in key or any("\x00" in v for v in values)
                for key, values in request.POST.lists()
            )
    return False


class NulGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = _("A value in this request holds a NUL character, which no field accepts.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
