"""Two-factor authentication in tests: give a user an authenticator app, compute its codes.

Broker staff made by ``tests.factories.UserFactory`` already have an authenticator app (its
``mfa`` post-generation, secret ``TEST_TOTP_SECRET``), so ``client.force_login`` reaches every
page as before; ``UserFactory(..., mfa=False)`` makes one without, whom every page sends to the
setup. Codes are computed with allauth's own TOTP arithmetic, as the user's app would.
"""

from __future__ import annotations

import time

from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from carm_portal.mfa import seal
from tests.factories import TEST_TOTP_SECRET


def give_totp(user, secret: str = TEST_TOTP_SECRET) -> Authenticator:
    """``user`` has set up an authenticator app with ``secret`` (as allauth's setup stores it: encrypted)."""
    authenticator, _created = Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": seal(secret)}}
    )
    return authenticator


def give_recovery_codes(user) -> list[str]:
    """``user``'s recovery codes (created as allauth does after the app is set up)."""
    return RecoveryCodes.activate(user).get_unused_codes()


def totp_code(secret: str = TEST_TOTP_SECRET, at: float | None = None) -> str:
    """The code an authenticator app with ``secret`` shows now (or at Unix time ``at``)."""
    moment = time.time() if at is None else at
    return format_hotp_value(hotp_value(secret, int(moment) // app_settings.TOTP_PERIOD))
