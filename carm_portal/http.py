"""Request types for annotations: what the middleware and decorators add to a Django request.

Nothing here runs: Django builds the plain ``HttpRequest``; these subclasses only tell the type
checker what is on it by the time a view runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from carm_portal.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request to a ``@login_required`` view: ``request.user`` is a signed-in ``User``."""

    user: User


class HtmxHttpRequest(AuthenticatedHttpRequest):
    """A signed-in request that also went through django-htmx's ``HtmxMiddleware``."""

    htmx: HtmxDetails
