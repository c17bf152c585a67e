"""Production settings refuse to start without a real secret; check --deploy is clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DJANGO_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_stops_with_a_clear_message():
    result = run_manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="carm.example.com")
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs a real SECRET_KEY" in result.stderr


def test_production_with_the_development_key_is_refused():
    from carm_portal.settings import DEV_SECRET_KEY

    result = run_manage(
        "check", DJANGO_ENV="production", SECRET_KEY=DEV_SECRET_KEY, ALLOWED_HOSTS="x.example.com"
    )
    assert result.returncode != 0
    assert "SECRET_KEY is missing or is the development default" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        PAYMENTS_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="carm.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_unknown_environment_name_is_refused():
    result = run_manage("check", DJANGO_ENV="prod")
    assert result.returncode != 0
    assert "DJANGO_ENV must be development, production or test" in result.stderr
