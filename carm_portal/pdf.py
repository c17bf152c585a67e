"""PDF rendering with nothing to fetch: WeasyPrint reads only the app's own static files.

WeasyPrint's default URL fetcher opens any URL a document names (http, https, ftp, file, data).
A document built from user text must not be able to make the server fetch anything: one injected
``url(...)`` would be a server-side request to any host, or a read of any local file. So every
render goes through ``StaticOnlyFetcher``, which answers ``file:`` URLs inside the app's static
folders and refuses everything else (logged, so an attempt is visible). Templates keep user text
out of CSS altogether (page margins take their text from HTML attributes with ``string-set``);
``css_string`` is for the app's own words (translated page counters) and escapes all but a few
plain characters, so even a translation cannot leave its string.

WeasyPrint is imported here, at module level: import this module lazily where a PDF may not be
needed (it takes a moment to load).
"""

from __future__ import annotations

import logging
import mimetypes
import string
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

# Characters a CSS string may hold as they are; everything else becomes a 6-digit hex escape.
_CSS_PLAIN = frozenset(string.ascii_letters + string.digits + " .,:-_()/#%+")


def static_roots() -> tuple[Path, ...]:
    """The folders a PDF may read from: the app's static sources (and the collected copy)."""
    roots = [Path(p) for p in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return tuple(root.resolve() for root in roots)


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves files under ``static_roots()`` and nothing else."""

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        path = self.allowed_path(url)
        if path is None:
            log.warning("pdf: refused to fetch %r (only the app's static files are served)", url)
            raise ValueError(f"PDF renderer may not fetch {url!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    @staticmethod
    def allowed_path(url: str) -> Path | None:
        """The local file ``url`` names if it is an existing file under a static root, else None."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        try:
            path = Path(unquote(parts.path)).resolve()
        except (OSError, ValueError):
            return None
        if not path.is_file():
            return None
        if not any(path.is_relative_to(root) for root in static_roots()):
            return None
        return path


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string in which only letters, digits, space and ``.,:-_()/#%+``
    stand as they are: every other character (quotes, backslash, braces, ``<``, every C0 control
    including the form feed that ends a CSS string, non-ASCII) is a 6-digit hex escape, which
    needs no terminating space and cannot be read as anything but one character."""
    return '"' + "".join(c if c in _CSS_PLAIN else f"\\{ord(c):06x}" for c in str(text)) + '"'


def render_pdf(html: str) -> bytes:
    """The PDF of ``html``; relative URLs resolve against the first static root."""
    base_url = static_roots()[0].as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyFetcher()).write_pdf()
