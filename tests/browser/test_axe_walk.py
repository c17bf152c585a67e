"""Issue #16's "done when": every page, for every persona, in English and French, on a wide
screen (1440 px) and a phone (390 px), in headless Chromium over the demo data, shows no console
error, does not scroll sideways, has no untranslated chrome in French and no axe-core violation
above "moderate" (serious or critical).

The pages are found as a person finds them: starting at "/", every same-site link the pages
show is followed (GET only, one URL per named route, so "a statement" is one page, not fifty).
The walk is found once per persona in English on the wide screen, then repeated in French and at
390 px. axe-core (tests/browser/vendor, from its npm package) is injected by Playwright, not
served, and the strict CSP stays on: a blocked script or style is a console error.

Cost, measured on the 2 shared cores: 273 pages (6 personas), 1092 checks (each page in 2
languages x 2 widths), ~290 s for the walk plus ~60 s to seed the demo: over the 3 minutes
hoped for, so it is one test to run on its own CI job (`-m browser -k axe_walk`). To keep it
there: one browser context per persona and language (the session cookie set once), one load per
page for both widths (the viewport resized), axe once per page and language (English on the wide
screen, French on the phone), and screenshots only of the pages with a finding (plus each
persona's home), under var/screenshots/axe-*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, resolve
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from carm_portal.demo.seed import DEMO_DOMAIN, seed_demo
from carm_portal.models import User
from tests.browser.helpers import BROWSER_MARKS, shoot

pytestmark = BROWSER_MARKS

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()

PERSONAS = {
    "broker-admin": "admin",
    "agent": "agent",
    "finance": "finance",
    "importer-bam": "bam.rideau",
    "importer-finance": "finance.rideau",
    "employee": "staff.rideau",
}
WIDTHS: dict[str, ViewportSize] = {
    "wide": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
# Not pages: the admin and API have their own tests, logout ends the session, and downloads
# (PDF, CSV, calendar feeds) are not HTML.
SKIP_PREFIXES = ("/admin/", "/api/", "/accounts/logout/", "/static/", "/media/")
SKIP_ROUTES = {
    "notifications:open",  # marks the notification read and redirects: the target is walked
    "notifications:unread_count",  # JSON for the header's badge
    "statements:batch_errors",  # downloads (CSV, PDF, calendar, documents as filed)
    "statements:reconciliation_pdf",
    "statements:reconciliation_csv",
    "services:session_csv",
    "services:booking_ics",
    "services:charge_csv",
    "compliance:document_download",
    "compliance:readiness_pdf",
    "compliance:training_certificate",
    "deadlines:feed",
    "mfa_download_recovery_codes",
}
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
MAX_PAGES = 150  # routes per persona: a guard (the demo shows a broker admin 72)
SERIOUS = {"serious", "critical"}
TIMES = {"goto": 0.0, "axe": 0.0}
SHOT: set[tuple[str, str]] = set()
AXED: set[tuple[str, bool]] = set()

# Words of the interface that a French page must not show in its chrome (headings, labels,
# table headers, buttons, navigation): whole words, case-sensitive as the templates write them.
ENGLISH = re.compile(  # not inside a file name or an identifier ("...-from-excel.csv")
    r"(?<![\w.-])(Dashboard|Statements|Payments|Delegations|Reconciliation|Sign out|Settings|Search|"
    r"Status|Amount|Due date|Save|Cancel|Back|Next|Previous|Filter|Download|Close|"
    r"Language|Help|Email|Balance|View|Edit|Delete|Add|Show|Details|Account|Yes|of|the|"
    r"and|with|your|from|for|to|is|are|not|all|none|Paid|Open|Resolved|Assigned)(?![\w.-])"
)
CHROME = "h1, h2, h3, h4, legend, label, th, caption, button, summary, nav a, .btn, [role=tab]"

LINKS = """() => Array.from(document.querySelectorAll("a[href]"), (a) => a.getAttribute("href"))"""
WIDER = """() => [document.scrollingElement.scrollWidth, window.innerWidth]"""
# The outermost elements sticking out on the right, for the failure message.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement && el.parentElement.getBoundingClientRect();
    if (box.right > width + 1 && (!parent || parent.right <= width + 1)) {
      wide.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(box.right)}px`);
    }
  }
  return wide.slice(0, 5);
}"""
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")), count: v.nodes.length,
  }));
}"""
# Text marked as another language (the switcher's "English", a webinar given in English: its
# lang attribute) is not untranslated: it is left out.
CHROME_TEXT = f"""() => Array.from(document.querySelectorAll({CHROME!r}))
    .filter((el) => el.closest("[lang]").lang.startsWith("fr"))
    .map((el) => {{
      const copy = el.cloneNode(true);
      copy.querySelectorAll("[lang]:not([lang^=fr])").forEach((part) => part.remove());
      return copy.textContent.replace(/\\s+/g, " ").trim();
    }}).filter(Boolean)"""


@dataclass
class Findings:
    """What the walk found, by kind; the test prints them all before failing."""

    console: list[str] = field(default_factory=list)
    scroll: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    moderate: list[str] = field(default_factory=list)  # reported, not (yet) failing
    english: list[str] = field(default_factory=list)
    pages: int = 0

    def failing(self) -> dict[str, list[str]]:
        return {
            kind: items
            for kind, items in {
                "console errors": self.console,
                "sideways scroll": self.scroll,
                "axe serious/critical": self.axe,
                "English in French": self.english,
            }.items()
            if items
        }


@pytest.fixture
def demo():
    seed_demo()


def session_cookie(email: str) -> str:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def context_for(browser: Browser, base: str, cookie: str, language: str) -> BrowserContext:
    context = browser.new_context(locale="fr-CA" if language == "fr" else "en-CA")
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base},
        ]
    )
    context.add_init_script(script=AXE)  # by the DevTools protocol: the page's CSP does not apply
    return context


def page_key(path: str) -> str | None:
    """The named route of a path, or None for what the walk does not visit."""
    if path.startswith(SKIP_PREFIXES):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    name = match.view_name
    return None if name in SKIP_ROUTES else name


def same_site(href: str, base: str, here: str) -> str | None:
    href, _fragment = urldefrag(href.strip())
    if not href or href.startswith(("mailto:", "tel:", "javascript:")):
        return None
    parts = urlsplit(href)
    if parts.netloc and parts.netloc != urlsplit(base).netloc:
        return None
    path = parts.path or urlsplit(here).path
    return path if path.startswith("/") else None


def note(kind: list[str], line: str) -> None:
    """Record a finding, and print it as it comes (the walk takes minutes)."""
    kind.append(line)
    print("FINDING", line, flush=True)


def check(page: Page, errors: list[str], found: Findings, where: str, fr: bool) -> None:
    """Every assertion of the walk on the page as loaded; findings recorded, not raised."""
    for error in errors:
        note(found.console, f"{where}: {error}")
    errors.clear()
    scroll, inner = page.evaluate(WIDER)
    if scroll > inner + 1:
        note(found.scroll, f"{where}: {scroll}px on {inner}px: {page.evaluate(OVERFLOW)}")
    violations = []
    route, width = where.split(" ")[-1], where.split(" ")[1]
    if (route, fr) not in AXED and (width == "phone") == fr:
        # axe once per page and language, English on the wide screen and French on the phone:
        # the templates are the personas' same; both widths and both languages are covered.
        AXED.add((route, fr))
        t = time.monotonic()
        violations = page.evaluate(RUN_AXE)
        TIMES["axe"] += time.monotonic() - t
    for v in violations:
        line = f"{where}: {v['impact']} {v['id']} x{v['count']} ({v['help']}) {v['nodes']}"
        if v["impact"] in SERIOUS and (where.split(" ")[-1], v["id"]) not in ALLOWED:
            note(found.axe, line)
        elif v["impact"] == "moderate":
            note(found.moderate, line)
    if fr:
        lang = page.evaluate("() => document.documentElement.lang")
        if not lang.startswith("fr"):
            note(found.english, f"{where}: <html lang={lang!r}>")
        for text in page.evaluate(CHROME_TEXT):
            hit = ENGLISH.search(text)
            if hit and (where.split(" ")[-1], hit.group(0)) not in ALLOWED:
                note(found.english, f"{where}: {hit.group(0)!r} in {text[:80]!r}")


# (route name, axe rule) pairs known to fail, each with the reason it is not fixed yet. Empty is
# the goal; an entry here is reported by the test's output, never silently skipped.
# English words found in French chrome are listed the same way: (route name, word).
ALLOWED: dict[tuple[str, str], str] = {}


def walk(
    context: BrowserContext, base: str, paths: list[str] | None, found: Findings, label: str
) -> Iterator[str]:
    """Visit ``paths`` (or discover them from "/") at each width; yield each path visited."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text[:200]) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"[:200]))
    fr = label.startswith("fr")
    discover = paths is None
    queue = list(paths) if paths is not None else ["/"]
    seen_routes: set[str] = set()
    seen_paths: set[str] = set(queue)
    while queue and len(seen_routes) < MAX_PAGES:
        path = queue.pop(0)
        t = time.monotonic()
        response = page.goto(base + path)
        TIMES["goto"] += time.monotonic() - t
        final = urlsplit(page.url).path
        key = page_key(final)
        if response is None or key is None or (discover and key in seen_routes):
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        seen_routes.add(key)
        yield final
        for width_name, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.evaluate(NEXT_FRAME)  # the page's resize handlers (scrollers.js) have run
            where = f"{label} {width_name} {final} {key}"
            before = len(found.console) + len(found.scroll) + len(found.axe) + len(found.english)
            check(page, errors, found, where, fr)
            found.pages += 1
            after = len(found.console) + len(found.scroll) + len(found.axe) + len(found.english)
            shot = f"axe-{label}-{width_name}-{key.replace(':', '-')}"
            if final == "/" or (after > before and (key, width_name) not in SHOT):
                SHOT.add((key, width_name))  # a finding's page once per width: they cost
                shoot(page, shot)
            if width_name == "wide" and discover:
                for href in page.evaluate(LINKS):
                    target = same_site(href, base, final)
                    if target and target not in seen_paths and page_key(target):
                        seen_paths.add(target)
                        queue.append(target)
    page.close()


FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return [el.tagName.toLowerCase(), (el.innerText || el.value || "").trim().slice(0, 40),
          style.outlineStyle, style.outlineWidth];
}"""


def keyboard_walk(context: BrowserContext, base: str) -> list[list[str]]:
    """The first tab stops of the home page: the skip link first, and each one visibly focused
    (the :focus-visible outline of static/css/app.css)."""
    page = context.new_page()
    page.set_viewport_size(WIDTHS["wide"])
    page.goto(base + "/")
    stops = []
    for _ in range(6):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
    page.close()
    return stops


def test_every_page_for_every_persona_in_both_languages_and_widths(
    browser: Browser, live_server, demo
):
    found = Findings()
    started = time.monotonic()
    walked: dict[str, list[str]] = {}
    stops: list[list[str]] = []
    for persona, login in PERSONAS.items():
        cookie = session_cookie(f"{login}@{DEMO_DOMAIN}")
        for language in ("en", "fr"):
            context = context_for(browser, live_server.url, cookie, language)
            label = f"{language}-{persona}"
            visited = list(walk(context, live_server.url, walked.get(persona), found, label))
            walked.setdefault(persona, visited)
            if persona == "importer-bam" and language == "en":
                stops = keyboard_walk(context, live_server.url)
            context.close()
    elapsed = time.monotonic() - started
    report = [f"{found.pages} page views in {elapsed:.0f}s {TIMES}"]
    report += [f"{p}: {len(v)} pages" for p, v in walked.items()]
    report += [f"moderate (reported): {line}" for line in found.moderate]
    print("\n".join(report))
    assert all(len(v) > 5 for v in walked.values()), walked
    assert stops[0][:2] == ["a", "Skip to main content"], stops
    # Every stop visible: a 3 px outline (not the browser's thin default, nor none).
    assert all(stop[2] == "solid" and stop[3] == "3px" for stop in stops), stops
    assert found.failing() == {}, "\n".join(
        f"{kind}:\n  " + "\n  ".join(items) for kind, items in found.failing().items()
    )
