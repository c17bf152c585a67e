"""Secrets kept in the database, encrypted at rest with Fernet under keys from the settings.

Each kind of secret names its own setting (``PAYMENTS_ENCRYPTION_KEYS`` for bank account
numbers, ``MFA_ENCRYPTION_KEYS`` for authenticator-app secrets): a comma-separated list of
Fernet keys, newest first. The first encrypts and every one decrypts (``MultiFernet``), so a key
is rotated by putting the new one first and re-encrypting with ``rotate`` (each kind has a
command for it); the old key is removed once nothing is left under it.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UnreadableToken(ValueError):
    """A stored token no configured key opens (a key removed too early, or tampering)."""


@lru_cache(maxsize=8)
def _fernet(setting: str, keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(f"{setting} is empty: the secrets it protects cannot be read.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{setting} holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from exc


def fernet(setting: str) -> MultiFernet:
    """The keys of ``setting`` (read at each call, so a test's settings override applies)."""
    return _fernet(setting, tuple(getattr(settings, setting)))


def encrypt(setting: str, plain: str) -> str:
    return fernet(setting).encrypt(plain.encode()).decode()


def decrypt(setting: str, token: str) -> str:
    try:
        return fernet(setting).decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableToken(f"No key in {setting} opens this value.") from None


def rotate(setting: str, token: str) -> str:
    """The same secret under the first (newest) key of ``setting``."""
    try:
        return fernet(setting).rotate(token.encode()).decode()
    except InvalidToken:
        raise UnreadableToken(f"No key in {setting} opens this value.") from None


def is_token(setting: str, value: str) -> bool:
    """Whether ``value`` is a token one of the keys opens (not a secret stored in the clear)."""
    try:
        fernet(setting).decrypt(value.encode())
    except InvalidToken:
        return False
    return True
