"""The custom User: email is the login, from the first migration on."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: broker staff (by Django group) or an importer's people (by Membership)."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    # Saved by the footer's language switcher (carm_portal/user_language.py); emails sent by
    # background jobs have no request to read a language from, so they use this one.
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("For pages after signing in and for emails. Empty: the site default."),
    )
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Can sign in to the Django admin.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email.split("@")[0]


class WorkerHeartbeat(models.Model):
    """The last time a worker ran the heartbeat job from one queue (``carm_portal/worker_health.py``).

    Beat sends the job to every queue each minute, so a fresh row proves the whole chain works for
    that queue: beat, the broker, a worker consuming it and its database connection. One row per
    queue, overwritten: the page needs only the latest.
    """

    queue = models.CharField(_("queue"), max_length=100, unique=True)
    hostname = models.CharField(_("worker"), max_length=255, blank=True)
    seen_at = models.DateTimeField(_("last seen at"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.queue}: {self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """A personal API token: named, expiring, revocable, stored as a SHA-256 hash.

    The secret is shown once, when the token is made (``carm_portal.api_tokens.issue``); only its
    hash and a short public ``prefix`` (to find the row without scanning every hash) are kept. The
    person sees their tokens by name, prefix, expiry and last use, and revokes them; changing the
    password or deactivating the account revokes them all.
    """

    class RevokedBecause(models.TextChoices):
        USER = "user", _("revoked by its owner")
        PASSWORD = "password", _("password changed")
        DEACTIVATED = "deactivated", _("account deactivated")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_because = models.CharField(
        _("revoked because"), max_length=20, choices=RevokedBecause.choices, blank=True
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_live")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_live(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and (now or timezone.now()) < self.expires_at


# The inbox, e-mail preferences and calendar feeds: their own module, registered with this app.
from carm_portal.notification_models import (  # noqa: E402
    CalendarFeed,
    Notification,
    NotificationPreference,
)

__all__ = [
    "ApiToken",
    "CalendarFeed",
    "Notification",
    "NotificationPreference",
    "User",
    "UserManager",
    "WorkerHeartbeat",
]
