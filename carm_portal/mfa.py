"""Two-factor authentication enforced: broker staff set it up before anything else.

Who must have an authenticator is decided in ``clients.access`` (``must_have_mfa``); this module
only applies it, in two places that between them cover every way in:

* ``MFARequiredMiddleware``: a signed-in user who must have MFA and has none is sent to the setup
  page (allauth's ``/accounts/2fa/``) from every page but the setup itself (with the sign-in
  confirmation and email pages it may need), sign-out, static files and the language switcher;
  an HTMX request gets an ``HX-Redirect``; an API call on the session a 403 with the reason.
* ``TokenAuthentication``: the personal API tokens, refusing (403, the same reason) a token of
  such a user, whose requests carry no session for the middleware to see.

The setup pages say why (``context_processors.navigation`` passes ``mfa_required``).
``MFAAdapter`` names the broker (``BROKER_NAME``) wherever allauth would name the site: the
relying party of security keys and passkeys, and the issuer an authenticator app shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect
from rest_framework import authentication, exceptions

from carm_portal import api_tokens, keyring
from clients import access

# The pages a user without the required MFA may still open (allauth URL names; every ``mfa_``
# page is part of the setup). Email pages: allauth refuses MFA to an unverified address.
ALLOWED_URL_NAMES = frozenset(
    {
        "account_logout",
        "account_reauthenticate",
        "account_email",
        "account_confirm_email",
        "account_email_verification_sent",
        "set_language",
    }
)
ALLOWED_URL_PREFIX = "mfa_"
API_PREFIX = "/api/"


def is_allowed(request: HttpRequest) -> bool:
    """Whether the page is part of setting up MFA (or leaving), which nobody is sent away from."""
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    match = request.resolver_match
    name = (match.url_name or "") if match else ""
    return name in ALLOWED_URL_NAMES or name.startswith(ALLOWED_URL_PREFIX)


class MFARequiredMiddleware:
    """Sends a signed-in user who must have MFA and has none to the setup page (API: 403)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not access.lacks_required_mfa(user) or is_allowed(request):
            return None
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse({"detail": str(access.MFA_REQUIRED_FOR_STAFF)}, status=403)
        setup = reverse("mfa_index")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(setup)
        return HttpResponseRedirect(setup)


class TokenAuthentication(authentication.BaseAuthentication):
    """Personal API tokens (``carm_portal.api_tokens``), sent as ``Authorization: Bearer <token>``
    (or ``Token <token>``, the scheme DRF's own tokens used). Unknown, expired or revoked: 401.
    A token of a user who must have MFA and has none: 403."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: give the scheme, one space, then the token.")
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = api_tokens.find(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if access.lacks_required_mfa(token.user):
            raise exceptions.PermissionDenied(access.MFA_REQUIRED_FOR_STAFF)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class MFAAdapter(DefaultMFAAdapter):
    """allauth's, naming the broker rather than the ``django.contrib.sites`` site ("example.com"),
    and keeping the authenticator-app secrets and recovery-code seeds encrypted at rest
    (``MFA_ENCRYPTION_KEYS``): a copy of the database or a backup does not hand out second factors."""

    def _get_site_name(self) -> str:
        return settings.BROKER_NAME

    def encrypt(self, text: str) -> str:
        return keyring.encrypt(MFA_KEYS, text)

    def decrypt(self, encrypted_text: str) -> str:
        return keyring.decrypt(MFA_KEYS, encrypted_text)


MFA_KEYS = "MFA_ENCRYPTION_KEYS"
# What allauth passes through ``encrypt`` in each kind of authenticator's ``data``.
SECRET_FIELDS = {"totp": ("secret",), "recovery_codes": ("seed",)}
SECRET_LISTS = {"recovery_codes": ("migrated_codes",)}


def reencrypt(data: dict[str, Any], kind: str, convert: Callable[[str], str]) -> dict[str, Any]:
    """``data`` of an authenticator of ``kind`` with each secret passed through ``convert``
    (encrypt a secret stored in the clear, or rotate it to the newest key)."""
    data = dict(data)
    for field in SECRET_FIELDS.get(kind, ()):
        if isinstance(data.get(field), str):
            data[field] = convert(data[field])
    for field in SECRET_LISTS.get(kind, ()):
        if isinstance(data.get(field), list):
            data[field] = [convert(value) for value in data[field]]
    return data


def seal(plain: str) -> str:
    """A secret as the adapter stores it (for code that writes authenticators itself)."""
    return keyring.encrypt(MFA_KEYS, plain)


def seal_if_clear(value: str) -> str:
    """``value`` encrypted unless it already is (secrets stored before encryption at rest)."""
    return value if keyring.is_token(MFA_KEYS, value) else seal(value)


def open_secret(token: str) -> str:
    """What ``seal`` sealed (raises ``keyring.UnreadableToken`` if no key opens it)."""
    return keyring.decrypt(MFA_KEYS, token)


def rotate(value: str) -> str:
    return keyring.rotate(MFA_KEYS, value)
