"""Spam resistance for the public forms, with no third party: a honeypot, a minimum fill time and
rate limits per IP address and per e-mail address (in the shared cache).

The form carries a signed timestamp of when it was shown; a bot that posts at once, replays an
old form or forges the stamp is refused. The honeypot is a field people never see (hidden by CSS,
labelled "leave empty"); anything in it means a script filled every field. CSRF is Django's.
"""

from __future__ import annotations

import hashlib
import time

from allauth.account.adapter import get_adapter
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

_SALT = "services.form-shown"
MIN_FILL_SECONDS = 3
MAX_FORM_AGE_SECONDS = 2 * 24 * 3600
IP_LIMIT = (10, 3600)  # ten sign-ups per address per hour
EMAIL_LIMIT = (3, 24 * 3600)  # three per e-mail address per day


def form_stamp(now: float | None = None) -> str:
    """The signed moment a form was shown, for its hidden ``shown`` field."""
    return signing.dumps(int(now if now is not None else time.time()), salt=_SALT)


def filled_too_fast(stamp: str, now: float | None = None) -> bool:
    """Whether the form came back sooner than a person can fill it (or with a bad or stale stamp)."""
    now = now if now is not None else time.time()
    try:
        shown = int(signing.loads(stamp, salt=_SALT, max_age=MAX_FORM_AGE_SECONDS))
    except (signing.BadSignature, TypeError, ValueError):
        return True
    return now - shown < MIN_FILL_SECONDS


def client_ip(request: HttpRequest) -> str:
    """The visitor's address as the sign-in rate limits see it: allauth's rule, which trusts
    ``X-Forwarded-For`` only as far as ``ALLAUTH_TRUSTED_PROXY_COUNT`` says (or reads
    ``ALLAUTH_TRUSTED_CLIENT_IP_HEADER``). Behind the TLS proxy, set one of them, or every visitor
    shares the proxy's address and its limit."""
    try:
        return str(get_adapter(request).get_client_ip(request))
    except PermissionDenied:
        return ""


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"services:rate:{kind}:{digest}"


def hit_limit(kind: str, value: str, limit: tuple[int, int]) -> bool:
    """Count one attempt for ``value`` and say whether it is over ``limit`` (count, seconds)."""
    allowed, window = limit
    key = _key(kind, value)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > allowed


def over_limits(*, request: HttpRequest, email: str) -> bool:
    """Count this sign-up against the IP and e-mail limits; True when either is exceeded."""
    by_ip = hit_limit("ip", client_ip(request), IP_LIMIT)
    by_email = hit_limit("email", email, EMAIL_LIMIT)
    return by_ip or by_email
