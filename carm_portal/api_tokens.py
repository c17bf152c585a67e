"""Personal API tokens: issued, found, revoked; the rules live here, pages and DRF call them.

A token reads ``carm_<prefix>_<secret>``: the prefix (10 characters, public) finds the row, the
secret (256 bits) is never stored; the row keeps the SHA-256 of the whole token. A leaked database
therefore gives no usable token, and a token shown once at creation cannot be shown again.

A token works until it expires (``API_TOKEN_DEFAULT_DAYS`` when made, at most
``API_TOKEN_MAX_DAYS``), is revoked by its owner, or its owner's password changes or the account
is deactivated (``revoke_on_credential_change``, connected in ``CarmPortalConfig.ready`` to the
user's ``pre_save``: it catches allauth's change and reset pages, the admin and
``changepassword`` alike, where allauth's own signals would miss the last two).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from carm_portal.models import ApiToken, User

TOKEN_PREFIX = "carm"  # noqa: S105  (a public label, not a secret)
PREFIX_LENGTH = 10
# Writing ``last_used_at`` on every request would turn each read into a write; once a minute
# tells the owner the same thing.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def default_days() -> int:
    return int(getattr(settings, "API_TOKEN_DEFAULT_DAYS", 90))


def max_days() -> int:
    return int(getattr(settings, "API_TOKEN_MAX_DAYS", 365))


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def issue(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the raw token, which exists nowhere else.

    ``days`` must be 1 to ``max_days()`` (the form and any caller check it; a wrong value here is
    a programming error).
    """
    days = default_days() if days is None else days
    if not 1 <= days <= max_days():
        raise ValueError(f"a token lives 1 to {max_days()} days, not {days}")
    prefix = _new_prefix()
    while ApiToken.objects.filter(prefix=prefix).exists():  # 36**10: practically never
        prefix = _new_prefix()
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=prefix,
        key_hash=hash_key(raw),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return token, raw


def find(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token ``raw`` is, with its user; None for anything else (unknown, wrong secret,
    expired, revoked, or an inactive user). Notes the use (at most once a minute)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != PREFIX_LENGTH:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.key_hash, hash_key(raw)):
        return None
    now = now or timezone.now()
    if not token.is_live(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first: never anyone else's, whatever the role."""
    return ApiToken.objects.filter(user=user)


def revoke(token: ApiToken, *, because: str = ApiToken.RevokedBecause.USER) -> None:
    """End one token now; revoking twice is the same as once."""
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(
        revoked_at=timezone.now(), revoked_because=because
    )


def revoke_all(user_id: int, *, because: str) -> int:
    """End every live token of a user; returns how many."""
    return ApiToken.objects.filter(user_id=user_id, revoked_at=None).update(
        revoked_at=timezone.now(), revoked_because=because
    )


def revoke_on_credential_change(sender: Any, instance: User, **kwargs: Any) -> None:
    """``pre_save`` of the user: a new password or a deactivation revokes every token."""
    if instance.pk is None or kwargs.get("raw"):
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on each sign-in: nothing to compare
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    if old["password"] != instance.password:
        revoke_all(instance.pk, because=ApiToken.RevokedBecause.PASSWORD)
    elif old["is_active"] and not instance.is_active:
        revoke_all(instance.pk, because=ApiToken.RevokedBecause.DEACTIVATED)
