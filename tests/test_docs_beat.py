"""docs/architecture.md's beat table names every entry of the one beat schedule (it once listed 2
jobs of 4)."""

from __future__ import annotations

from pathlib import Path

from carm_portal.celery import app

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


def test_the_architecture_page_lists_every_periodic_job():
    text = DOC.read_text()

    for name, entry in app.conf.beat_schedule.items():
        assert f"`{name}`" in text, name
        assert f"`{entry['task']}`" in text, entry["task"]
