"""A signed-in user's saved language: kept by the switcher, used at sign-in and for emails.

The footer's switcher stores the choice in the language cookie, which lives in one browser only.
Emails sent by background jobs (digests, alerts, the wizard's "finished" note) have no request to
read a language from, so the choice is also saved on ``User.language``:

* ``set_language`` wraps Django's view of the same name (same URL name, same form): a signed-in
  user's choice is saved on their account as well as in the cookie;
* ``SavedLanguageMiddleware`` shows a signed-in user's pages in their saved language when the
  browser has no language cookie (a new device, a cleared browser), instead of Accept-Language;
* a user with no saved language who chose one before signing in (the switcher is on the sign-in
  page) keeps it: ``remember_language_at_login`` saves the cookie's language at sign-in;
* ``languages_by_email`` / ``by_language`` give the language to write an email in, per recipient
  address: the saved one of the account with that address, else the site default (people who
  have no account, such as CCP portal users known only by their address).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.i18n import set_language as django_set_language

if TYPE_CHECKING:
    from carm_portal.models import User


def _valid(language: str | None) -> str:
    """``language`` if it is one of the site's languages, else ""."""
    return language if language in dict(settings.LANGUAGES) else ""


def _save(user: User, language: str) -> None:
    """One UPDATE of the one column (``user`` may be the request's lazy wrapper)."""
    if user.language != language:
        get_user_model().objects.filter(pk=user.pk).update(language=language)
        user.language = language


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (cookie, then back to ``next``), saving a signed-in choice too."""
    response = django_set_language(request)
    language = _valid(request.POST.get("language")) if request.method == "POST" else ""
    if language and request.user.is_authenticated:
        _save(request.user, language)
    return response


class SavedLanguageMiddleware:
    """Activate a signed-in user's saved language when the browser sends no language cookie.

    Goes after ``AuthenticationMiddleware`` (it reads ``request.user``) and so after
    ``LocaleMiddleware``, whose choice from Accept-Language it replaces; the cookie, set by the
    switcher in this browser, still wins.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            user = getattr(request, "user", None)
            language = _valid(getattr(user, "language", "")) if user is not None else ""
            if language and user is not None and user.is_authenticated:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="carm_portal.remember_language_at_login")
def remember_language_at_login(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    """A user with no saved language who picked one on the sign-in page keeps it."""
    if request is None or user.language:
        return
    language = _valid(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if language:
        _save(user, language)


def languages_by_email(emails: Iterable[str]) -> dict[str, str]:
    """Lower-cased address -> language to write in (one query); the default for unknown ones."""
    emails = {email.lower() for email in emails}
    saved = {
        email.lower(): language
        for email, language in get_user_model()
        .objects.filter(email__in=emails)
        .exclude(language="")
        .values_list("email", "language")
    }
    return {email: _valid(saved.get(email)) or settings.LANGUAGE_CODE for email in emails}


def by_language(emails: Iterable[str]) -> dict[str, list[str]]:
    """Group recipient addresses by the language to write to them in (addresses kept as given).

    One email per group: everyone reads theirs in their own language, and people sharing one
    still see each other on the ``To`` line as before.
    """
    emails = list(emails)
    languages = languages_by_email(emails)
    groups: dict[str, list[str]] = defaultdict(list)
    for email in emails:
        groups[languages[email.lower()]].append(email)
    return dict(sorted(groups.items()))
