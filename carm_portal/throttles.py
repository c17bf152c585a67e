"""API rate limits: per signed-in user, per token, per anonymous address, and named scopes.

DRF's throttles read their rates once, when the module is imported; these read
``API_THROTTLE_RATES`` on each request, so a deployment (or a test) changes a rate in settings
alone. Counts live in the default cache: Redis whenever several processes serve, so a limit is
shared by every worker. Going over answers 429 with ``Retry-After`` (seconds).

- ``user``: everything a signed-in person does through the API, by session or token;
- ``token``: each token on its own, so one runaway script does not use up its owner's allowance
  for the others (a token's requests count for both);
- ``anon``: requests without a sign-in (which are all refused, but still cost a lookup);
- a view's ``throttle_scope`` (e.g. ``invitation-send``) for actions that send email.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

from carm_portal.models import ApiToken


def _rate(scope: str | None) -> str | None:
    rates: dict[str, str | None] = getattr(settings, "API_THROTTLE_RATES", {})
    return rates.get(scope or "")


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)


class TokenThrottle(SimpleRateThrottle):
    """Counts each personal API token's requests on their own."""

    scope = "token"

    def get_rate(self) -> str | None:
        return _rate(self.scope)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return None  # a session: the user throttle counts it
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class ScopedThrottle(ScopedRateThrottle):
    """A view's ``throttle_scope``, per user (or address when signed out)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None) or ""
        if not self.scope:
            return True
        self.rate = _rate(self.scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return SimpleRateThrottle.allow_request(self, request, view)

    def get_rate(self) -> str | None:
        return None  # set per request in allow_request
