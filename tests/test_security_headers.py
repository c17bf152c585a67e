"""Every dynamic answer carries a strict Content-Security-Policy, a Permissions-Policy and
``Cache-Control: no-store``: checked on real responses (pages, a PDF, CSVs, the API, sign-in) in
the test settings, and once on a live server under production settings."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.statements.reconciliation_fixtures import reconciled_statement

ROOT = Path(__file__).resolve().parent.parent


def assert_strict(response_headers) -> None:
    csp = response_headers["Content-Security-Policy"]
    directives = dict(
        [*part.split(" ", 1), ""][:2] for part in (p.strip() for p in csp.split(";")) if part
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert "camera=()" in response_headers["Permissions-Policy"]
    assert "geolocation=()" in response_headers["Permissions-Policy"]
    assert "no-store" in response_headers["Cache-Control"]


@pytest.mark.django_db
def test_pages_downloads_and_the_api_carry_the_headers(personas, client_for):
    from tests.factories import ProgramAccountFactory

    run = reconciled_statement(ProgramAccountFactory(importer=personas.importer_a))
    client = client_for(personas.broker_finance)
    urls = [
        "/",
        "/statements/",
        f"/statements/{run.statement_id}/",
        "/payments/",
        f"/statements/{run.statement_id}/reconciliation/{run.pk}/report.pdf",
        f"/statements/{run.statement_id}/reconciliation/{run.pk}/items.csv",
        "/api/v1/statements/",
    ]
    for url in urls:
        response = client.get(url)
        if response.status_code == 404:  # a URL name differs: say which
            pytest.fail(f"{url} is not a page here")
        assert response.status_code == 200, url
        assert_strict(response.headers)


@pytest.mark.django_db
def test_the_sign_in_page_carries_the_headers(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert_strict(response.headers)


def test_no_template_has_inline_script_or_style():
    """What the CSP would refuse: an inline <script>, a <style> block or a style attribute in
    a page template (emails and the PDF template are not pages)."""
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        rel = path.relative_to(ROOT).as_posix()
        if "/email/" in rel or "/pdf/" in rel:
            continue
        text = path.read_text()
        for match in re.finditer(
            r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"", text
        ):
            found.append(f"{rel}: {match.group(0)}")
    assert found == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_production_settings_send_the_headers_on_a_live_server(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"} and not k.startswith("PYTEST")
    }
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY="x" * 64 + "production-headers-test",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        PAYMENTS_ENCRYPTION_KEYS="zmVkz8aJ4x4Cq2Ue1wq1B3oHc8n2Hq9S0bS5lR0o8aU=",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "carm_portal.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 30
        log = tmp_path / "gunicorn.log"
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                ) as response:
                    status, headers = response.status, response.headers
                    break
            except urllib.error.HTTPError as error:  # an answer all the same: look at it
                status, headers = error.code, error.headers
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(log.read_text()[-2000:]) from None
                time.sleep(0.3)
        assert status == 200, log.read_text()[-3000:]
        assert_strict(headers)
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
    finally:
        server.terminate()
        server.wait(timeout=10)
