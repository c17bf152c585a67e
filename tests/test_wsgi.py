"""The WSGI entry point gunicorn loads: the URLconf imported at start (a broken view fails the
worker's boot, not its first request) and what Django loaded frozen out of the collector."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, sys
import carm_portal.wsgi as wsgi
print(callable(wsgi.application), "carm_portal.urls" in sys.modules, gc.get_freeze_count())
"""


def test_the_urlconf_is_loaded_and_djangos_objects_are_frozen():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "carm_portal.settings", "DEBUG": "false"}
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    is_app, urls_loaded, frozen = done.stdout.split()
    assert is_app == "True"
    assert urls_loaded == "True"
    assert int(frozen) > 50_000  # Django, the apps and their views: about 200,000 objects
