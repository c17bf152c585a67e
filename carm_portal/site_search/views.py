"""``GET /search/?q=TEXT``: the header's search box, results grouped by kind."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.site_search import finders


@login_required
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[: finders.MAX_LENGTH]
    groups = finders.search(q, request.user)
    return render(
        request,
        "search/results.html",
        {
            "q": q,
            "groups": groups,
            "too_short": 0 < len(q) < finders.MIN_LENGTH,
            "min_length": finders.MIN_LENGTH,
            "per_kind": finders.LIMIT,
        },
    )
