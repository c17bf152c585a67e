"""The reconciliation PDF gives user text no way into CSS and the renderer nothing to fetch.

A legal name is set by an importer's BAM (wizard) or an agent (API). Before the fix, a form feed
(a CSS newline) ended the margin box's string, so a name could add ``@font-face`` rules that made
the server fetch any URL, and hide the item tables. These tests render real PDFs with such names
against a real HTTP server on loopback and read the PDFs back.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from carm_portal import pdf
from statements import reports
from tests.factories import ImporterFactory, ProgramAccountFactory
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "font/ttf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener():
    """An HTTP server on loopback that records every request it receives."""
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def pdf_text(data: bytes) -> str:
    """The PDF's text with white space removed, read by poppler's pdftotext (pypdf loses the
    glyph mapping after a control character's .notdef glyph; poppler reads on correctly)."""
    pdftotext = shutil.which("pdftotext") or "pdftotext"  # Debian's poppler-utils (bin/setup)
    text = subprocess.run(  # noqa: S603 (a fixed command reading our own PDF)
        [pdftotext, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", text)


def _payload(port: int) -> str:
    # The probe's name: a form feed closes the CSS string, then rules that fetch and hide.
    return (
        f"Rideau Imports\x0c}} }} @font-face{{font-family:z;src:url(http://127.0.0.1:{port}/x)}} "
        f'.items tbody{{display:none}} @import "http://127.0.0.1:{port}/y"; .x{{"'
    )


# No NUL: no input accepts one (carm_portal.nul_guard), and PostgreSQL cannot store it.
@pytest.mark.parametrize("control", ["\x0c", "\n", "\r", "\\", "\x01", "\x1b", "\x7f"])
def test_a_legal_name_cannot_make_the_pdf_fetch_a_url_or_hide_the_items(listener, control):
    port = listener.server_address[1]
    name = _payload(port).replace("\x0c", control)
    importer = ImporterFactory(legal_name=name, bn9="123456782")
    run = reconciled_statement(ProgramAccountFactory(importer=importer, bn15="123456782RM0001"))

    text = pdf_text(reports.render_pdf(run))

    assert _Recorder.hits == []
    assert "font-family:z" in text  # the name is printed as text, on the page and in the margin
    assert text.count("RideauImports") >= 2
    assert "Amountdiffers" in text and "Transaction" in text  # the item tables are there
    assert "12345000000033" in text  # an item row


def test_the_renderer_fetches_nothing_even_when_the_html_asks(listener):
    port = listener.server_address[1]
    html = (
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">'
        f"<style>@import url(http://127.0.0.1:{port}/b.css);"
        f" p {{ background: url(http://127.0.0.1:{port}/c.png) }}</style></head>"
        f'<body><p>hello</p><img src="http://127.0.0.1:{port}/d.png">'
        f'<img src="file:///etc/passwd"></body></html>'
    )

    data = pdf.render_pdf(html)

    assert data.startswith(b"%PDF")
    assert _Recorder.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8299/x",
        "https://example.com/font.ttf",
        "ftp://127.0.0.1/x",
        "data:text/css,p{color:red}",
        "file:///etc/passwd",
        "file://otherhost/" + str(Path(settings.BASE_DIR) / "static" / "css" / "app.css"),
        (Path(settings.BASE_DIR) / "static" / "css" / ".." / ".." / "manage.py").as_uri(),
        (Path(settings.BASE_DIR) / "static" / "css" / "missing.css").as_uri(),
        (Path(settings.BASE_DIR) / "static").as_uri(),
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file(url):
    assert pdf.StaticOnlyFetcher.allowed_path(url) is None
    with pytest.raises(ValueError, match="may not fetch"):
        pdf.StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_the_apps_static_files():
    url = (Path(settings.BASE_DIR) / "static" / "css" / "app.css").as_uri()

    response = pdf.StaticOnlyFetcher().fetch(url)

    assert response.read() == (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_bytes()
    assert response.content_type == "text/css"


def _css_unescape(literal: str) -> str:
    assert literal[0] == literal[-1] == '"'
    return re.sub(r"\\([0-9a-f]{6})", lambda m: chr(int(m[1], 16)), literal[1:-1])


@pytest.mark.parametrize(
    "text",
    [
        "".join(chr(c) for c in range(0x20)),  # every C0 control
        "\x7f\x85\u2028\u2029\ufeff",
        "\" ' \\ { } ; < > / * @ url( ) ! &",
        "\\22 \\0c \\\n",  # escapes already in the text stay text
        "Société Générale d'Import · 1 234,56 $",
    ],
)
def test_css_string_leaves_only_plain_characters_and_six_digit_escapes(text):
    literal = pdf.css_string(text)

    body = re.sub(r"\\[0-9a-f]{6}", "", literal[1:-1])
    assert set(body) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:-_()/#%+"
    )
    assert _css_unescape(literal) == text
