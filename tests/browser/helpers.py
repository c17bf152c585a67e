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
