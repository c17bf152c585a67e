"""Shared fixtures: the six personas every access test uses, fast hashing, headless Chromium."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from carm_portal.models import User
from clients.access import BrokerRole
from clients.models import Importer, Membership
from tests.factories import ImporterFactory, MembershipFactory, ProgramAccountFactory, UserFactory
from tests.mfa import give_totp

CHROMIUM = "/usr/bin/chromium"

# The real-Celery-worker fixture (`worker_queue`) of the integration tests.
pytest_plugins = ["tests.worker"]


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Personas:
    """The fixed cast of style.md: three broker roles, importer A's BAM and employee, B's BAM."""

    importer_a: Importer
    importer_b: Importer
    broker_admin: User
    broker_agent: User
    broker_finance: User
    bam_a: User
    employee_a: User
    bam_b: User

    def all(self) -> dict[str, User]:
        return {
            "broker_admin": self.broker_admin,
            "broker_agent": self.broker_agent,
            "broker_finance": self.broker_finance,
            "bam_a": self.bam_a,
            "employee_a": self.employee_a,
            "bam_b": self.bam_b,
        }


@pytest.fixture
def personas(db) -> Personas:
    importer_a = ImporterFactory(legal_name="Alpha Imports Inc.")
    importer_b = ImporterFactory(legal_name="Bravo Trading Ltd.")
    ProgramAccountFactory(importer=importer_a)
    ProgramAccountFactory(importer=importer_b)
    bam_a = UserFactory(email="bam@alpha.example.com")
    employee_a = UserFactory(email="employee@alpha.example.com")
    bam_b = UserFactory(email="bam@bravo.example.com")
    MembershipFactory(user=bam_a, importer=importer_a, role=Membership.Role.BAM)
    MembershipFactory(user=employee_a, importer=importer_a, role=Membership.Role.EMPLOYEE)
    MembershipFactory(user=bam_b, importer=importer_b, role=Membership.Role.BAM)
    agent = UserFactory(email="agent@broker.example.com", roles=[BrokerRole.AGENT])
    importer_a.assigned_agent = agent
    importer_a.save()
    return Personas(
        importer_a=importer_a,
        importer_b=importer_b,
        broker_admin=UserFactory(email="admin@broker.example.com", roles=[BrokerRole.ADMIN]),
        broker_agent=agent,
        broker_finance=UserFactory(email="finance@broker.example.com", roles=[BrokerRole.FINANCE]),
        bam_a=bam_a,
        employee_a=employee_a,
        bam_b=bam_b,
    )


@pytest.fixture
def admin_user(admin_user):
    """pytest-django's superuser (``admin_client``), with an authenticator app: without one the
    admin, like every page, sends them to set up two-factor authentication (carm_portal.mfa)."""
    give_totp(admin_user)
    return admin_user


@pytest.fixture
def client_for(client):
    """``client_for(user)`` returns the test client signed in as that user."""

    def sign_in(user: User):
        client.force_login(user)
        return client

    return sign_in


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
