"""Shared fixtures: fast hashing, headless Chromium. The personas are in the kit (tests/kit.py)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from tests.mfa import give_totp

CHROMIUM = "/usr/bin/chromium"

# The test kit (personas, client_for, api_as) and the real-Celery-worker fixture (`worker_queue`)
# of the integration tests.
pytest_plugins = ["tests.kit", "tests.worker"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language: a request's LocaleMiddleware (or a test
    that activates French) leaves its language on the thread, which would leak into the next test
    that calls a function directly."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def _media_root(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings, _media_root) -> None:
    # Accepted statement files and rendered PDFs are kept in the default storage: never in the
    # checkout's var/media during tests.
    settings.MEDIA_ROOT = _media_root
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The suite sends thousands of requests as the same few users from one address; the rate
    # limits are tested on their own (tests/api/test_throttles.py) with a cache of their own.
    settings.API_THROTTLE_RATES = {}
    settings.INVITATION_RESEND_MIN_SECONDS = 0
    settings.INVITATION_SENDS_PER_ADDRESS_PER_DAY = None


@pytest.fixture
def admin_user(admin_user):
    """pytest-django's superuser (``admin_client``), with an authenticator app: without one the
    admin, like every page, sends them to set up two-factor authentication (carm_portal.mfa)."""
    give_totp(admin_user)
    return admin_user


# --- Browser tests: Playwright driving Debian's Chromium --------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    }


def pytest_collection_modifyitems(config, items):
    """Browser tests need Chromium; say so plainly where it is missing (CI installs it)."""
    if os.path.exists(CHROMIUM):
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        return
    if os.environ.get("CI"):
        return  # in CI a missing browser must fail, not skip
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
