"""What every browser test shares: its marks and the screenshots it leaves in var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page

# serialized_rollback: the flush after a live-server test would otherwise drop the broker role
# groups the data migration created, for the tests that run after this one.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"


def shoot(page: Page, name: str) -> None:
    """Save a full-page screenshot as var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base_url: str, email: str, password: str, *, totp: str = "") -> None:
    """Sign in through the real login form (and the two-factor step, for broker staff)."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if totp:
        page.get_by_label("Code").fill(totp)
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)  # signed in, on the first page


def console_errors(page: Page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions from now on (a live list)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def page_width(page: Page) -> tuple[int, int]:
    """(how wide the page is, how wide the screen is): the first larger means a sideways scroll."""
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    return scroll, inner
