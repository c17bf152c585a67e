"""Authenticator secrets are encrypted at rest (``carm_portal.mfa.MFAAdapter``, ``MFA_ENCRYPTION_KEYS``).

A copy of the database must not hand out second factors: the secret set up through allauth's own
pages, and the recovery-code seed, are stored as Fernet tokens that the configured keys open;
secrets stored before encryption are sealed by a migration; the keys rotate like the bank keys.
"""

from __future__ import annotations

import importlib
import io
import time
import uuid

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from carm_portal import keyring
from carm_portal.mfa import open_secret, seal
from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET, UserFactory
from tests.mfa import give_recovery_codes, totp_code

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("carm_portal.migrations.0006_encrypt_mfa_secrets")


@pytest.fixture(autouse=True)
def own_cache(settings):
    """allauth keeps used TOTP codes and rate-limit counters in the cache: one of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"mfa-secrets-{uuid.uuid4()}",
        }
    }


def raw_data(authenticator: Authenticator) -> str:
    """The row's ``data`` column as the database holds it (no model or adapter in between)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [authenticator.pk])
        (value,) = cursor.fetchone()
    return value if isinstance(value, str) else str(value)


def test_a_secret_set_up_through_the_pages_is_stored_encrypted_and_still_signs_in(client):
    user = UserFactory(roles=["broker agent"], mfa=False)
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done.status_code == 302

    app = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert secret not in raw_data(app)
    assert app.data["secret"] != secret
    assert open_secret(app.data["secret"]) == secret

    client.logout()
    EmailAddress.objects.get_or_create(  # mandatory verification would stop before the code stage
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    # The activation's code is spent; the app's next code (within allauth's tolerance) signs in.
    signed = client.post(
        reverse("mfa_authenticate"), {"code": totp_code(secret, at=time.time() + 30)}
    )
    assert signed.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_the_recovery_code_seed_is_stored_encrypted():
    user = UserFactory(roles=["broker agent"])
    codes = give_recovery_codes(user)
    row = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    seed = open_secret(row.data["seed"])
    assert len(seed) == 80  # allauth's 40 random bytes, hex
    assert seed not in raw_data(row)
    assert len(codes) == 10


def test_a_wrong_key_opens_nothing(settings):
    token = seal(TEST_TOTP_SECRET)
    settings.MFA_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(keyring.UnreadableToken):
        open_secret(token)


def test_the_migration_seals_secrets_stored_in_the_clear_and_only_those():
    clear = UserFactory(roles=["broker agent"], mfa=False)
    legacy = Authenticator.objects.create(
        user=clear, type=Authenticator.Type.TOTP, data={"secret": TEST_TOTP_SECRET}
    )
    codes = Authenticator.objects.create(
        user=clear,
        type=Authenticator.Type.RECOVERY_CODES,
        data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]},
    )
    sealed_user = UserFactory(roles=["broker agent"])
    sealed = Authenticator.objects.get(user=sealed_user, type=Authenticator.Type.TOTP)
    sealed_before = sealed.data["secret"]

    MIGRATION.encrypt_existing(django_apps, None)
    MIGRATION.encrypt_existing(django_apps, None)  # twice: nothing sealed twice

    legacy.refresh_from_db()
    codes.refresh_from_db()
    sealed.refresh_from_db()
    assert legacy.data["secret"] != TEST_TOTP_SECRET
    assert open_secret(legacy.data["secret"]) == TEST_TOTP_SECRET
    assert open_secret(codes.data["seed"]) == "ab" * 40
    assert [open_secret(c) for c in codes.data["migrated_codes"]] == ["12345678"]
    assert codes.data["used_mask"] == 0
    assert sealed.data["secret"] == sealed_before


def test_rotate_mfa_keys_moves_every_secret_to_the_new_key(settings):
    old_key = settings.MFA_ENCRYPTION_KEYS[0]
    user = UserFactory(roles=["broker agent"])
    give_recovery_codes(user)
    new_key = Fernet.generate_key().decode()
    settings.MFA_ENCRYPTION_KEYS = [new_key, old_key]

    out = io.StringIO()
    call_command("rotate_mfa_keys", stdout=out)
    assert "2 authenticator(s) re-encrypted" in out.getvalue()

    settings.MFA_ENCRYPTION_KEYS = [new_key]  # the old key removed: everything still opens
    for row in Authenticator.objects.filter(user=user):
        field = "secret" if row.type == Authenticator.Type.TOTP else "seed"
        assert open_secret(row.data[field])
    app = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert open_secret(app.data["secret"]) == TEST_TOTP_SECRET


def test_rotate_mfa_keys_changes_nothing_when_a_secret_cannot_be_opened(settings):
    user = UserFactory(roles=["broker agent"])
    other = UserFactory(roles=["broker agent"], mfa=False)
    unreadable = Authenticator.objects.create(
        user=other,
        type=Authenticator.Type.TOTP,
        data={"secret": Fernet(Fernet.generate_key()).encrypt(b"x").decode()},
    )
    before = {row.pk: dict(row.data) for row in Authenticator.objects.all()}
    settings.MFA_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.MFA_ENCRYPTION_KEYS]

    with pytest.raises(CommandError, match=f"#{unreadable.pk}"):
        call_command("rotate_mfa_keys")

    assert {row.pk: dict(row.data) for row in Authenticator.objects.all()} == before
    assert user.pk
