"""The cross-cutting safety net: crawl the demo data as every persona, and guess other importers' URLs.

Per-app persona tests check the pages each app knows about. This module checks what a real user
meets: signed in as each demo login, it follows every same-site link the pages show (GET only,
breadth first, bounded) and asserts that no page fails, that every link shown can be followed,
and that an importer's people never see another importer's name, business number or objects.

It then guesses: for every URL pattern that takes an object id, an importer's user asks for the
objects of other importers and must get a 404 (``clients.access``: we do not confirm that they
exist), never a page. The table ``ROUTES`` maps each pattern to the model its ids name; a new
pattern with an id that is not in the table fails ``test_every_url_with_an_id_is_mapped``, so
the guess test covers it as soon as it is written. Pages and API lists without arguments are
asked for with ``?importer=`` another importer's id, and, as broker staff, the page of every
demo object (30 importers at every onboarding stage) must open without a server error.

Filter forms (GET) are submitted as filled in, with each choice of each select, and with
garbage in every field: bad input must be refused politely, never a 500.
"""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import timezone

from carm_portal.models import User
from carm_portal.onboarding_wizard.steps import STEPS
from clients.models import (
    Importer,
    Invitation,
    Membership,
    OnboardingStep,
    OnboardingWizard,
    PortalUser,
    ProgramAccount,
)
from delegation.models import Delegation, DelegationAlert, RenewalRequest
from payments.models import BankAccount, FinancialSecurity, InterestRate, Payment, PaymentAlert
from services.compliance.documents import file_document
from services.compliance.readiness import take_check
from services.compliance.training import record_completion
from services.models import (
    Booking,
    ComplianceDocument,
    Correction,
    Course,
    Prospect,
    ReadinessCheck,
    ReadinessGap,
    Registration,
    ServiceRequest,
    TrainingCompletion,
    WalkthroughSlot,
    WebinarSession,
)
from statements.models import (
    BrokerEntry,
    ImportBatch,
    ReconciliationItem,
    ReconciliationRun,
    Statement,
)
from tests.factories import BankAccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DOMAIN = "demo.carm-portal.local"

BROKER_LOGINS = ["admin", "agent", "finance"]
IMPORTER_LOGINS = ["bam.rideau", "finance.rideau", "staff.rideau", "bam.bowriver", "bam.bluenose"]

MAX_PAGES = 400  # per persona
MAX_PER_ROUTE = 4  # distinct URLs of one named route (e.g. four statements, not all of them)
MAX_QUERY_VARIANTS = 8  # distinct query strings of one path (filters, sort orders, pages)
# Pages, exports, feeds and the compliance documents as filed (a .txt or .csv keeps its type).
CONTENT_TYPES = {"text/html", "text/csv", "application/pdf", "text/calendar", "text/plain"}
SKIP_PREFIXES = ("/admin/", "/api/", "/accounts/logout/", "/static/", "/media/")


# --- Which object each id in a URL names, and whose it is -----------------------------------------


@dataclass(frozen=True)
class Const:
    """A URL argument that is not an object id (a step number, a wizard page)."""

    value: object


@dataclass(frozen=True)
class Route:
    """A URL pattern's arguments, read off one ``model`` object: kwarg -> attribute (or Const)."""

    model: type[models.Model]
    kwargs: dict[str, str | Const]

    def url_kwargs(self, obj: models.Model) -> dict[str, object]:
        return {
            k: (v.value if isinstance(v, Const) else getattr(obj, v))
            for k, v in self.kwargs.items()
        }

    def owners(self, kwargs: dict[str, object]) -> set[int | None]:
        """The importers that own the object these URL arguments name (empty if there is none)."""
        lookups = {v: kwargs[k] for k, v in self.kwargs.items() if not isinstance(v, Const)}
        path = OWNER[self.model]
        if path is None:
            return {None}
        return set(self.model.objects.filter(**lookups).values_list(path, flat=True))


# Model -> the lookup to its importer; None for broker-side objects no importer user may open.
OWNER: dict[type[models.Model], str | None] = {
    Importer: "pk",
    ProgramAccount: "importer",
    PortalUser: "importer",
    OnboardingStep: "importer",
    Invitation: "importer",
    Delegation: "importer",
    DelegationAlert: "importer",
    RenewalRequest: "delegation__importer",
    Statement: "program_account__importer",
    BrokerEntry: "program_account__importer",
    ReconciliationRun: "statement__program_account__importer",
    ReconciliationItem: "statement__program_account__importer",
    Payment: "importer",
    PaymentAlert: "importer",
    FinancialSecurity: "program_account__importer",
    BankAccount: "importer",
    ImportBatch: None,
    ServiceRequest: "importer",
    Booking: "importer",
    Prospect: None,
    Registration: None,
    Correction: "importer",
    ComplianceDocument: "importer",
    Course: None,  # the broker's courses: staff pages only
    TrainingCompletion: "importer",
    ReadinessCheck: "importer",
    ReadinessGap: "importer",
}

# Reference data everybody signed in may read: not guessed.
PUBLIC_MODELS = {InterestRate, WebinarSession, WalkthroughSlot}

FIRST_STEP = Const(1)
FIRST_WIZARD_PAGE = Const(STEPS[0].slug)


def _importer(kwarg: str) -> Route:
    return Route(Importer, {kwarg: "pk"})


ROUTES: dict[str, Route] = {
    # clients
    "clients:importer_detail": _importer("pk"),
    "clients:importer_edit": _importer("pk"),
    "clients:account_create": _importer("pk"),
    "clients:account_edit": Route(ProgramAccount, {"pk": "importer_id", "account_id": "pk"}),
    "clients:person_create": _importer("pk"),
    "clients:person_edit": Route(PortalUser, {"pk": "importer_id", "person_id": "pk"}),
    "clients:step_update": Route(Importer, {"pk": "pk", "step": FIRST_STEP}),
    "invitations:importer": _importer("importer_pk"),
    "invitations:resend": Route(Invitation, {"pk": "pk"}),
    "invitations:revoke": Route(Invitation, {"pk": "pk"}),
    "invitations:confirm": Route(Invitation, {"pk": "pk"}),
    "onboarding:wizard": _importer("importer_pk"),
    "onboarding:done": _importer("importer_pk"),
    "onboarding:statement": _importer("importer_pk"),
    "onboarding:validate": _importer("importer_pk"),
    "onboarding:step": Route(Importer, {"importer_pk": "pk", "step_slug": FIRST_WIZARD_PAGE}),
    # delegation
    "delegation:create": _importer("importer_pk"),
    "delegation:detail": Route(Delegation, {"pk": "pk"}),
    "delegation:edit": Route(Delegation, {"pk": "pk"}),
    "delegation:renewal_request": Route(Delegation, {"pk": "pk"}),
    "delegation:renewal_confirm": Route(RenewalRequest, {"pk": "pk"}),
    "delegation:renewal_cancel": Route(RenewalRequest, {"pk": "pk"}),
    # statements and reconciliation
    "statements:importer": _importer("importer_pk"),
    "statements:detail": Route(Statement, {"pk": "pk"}),
    "statements:batch_detail": Route(ImportBatch, {"pk": "pk"}),
    "statements:batch_errors": Route(ImportBatch, {"pk": "pk"}),
    "statements:reconcile": Route(Statement, {"statement_pk": "pk"}),
    "statements:reconciliation_current": Route(Statement, {"statement_pk": "pk"}),
    **{
        f"statements:{name}": Route(
            ReconciliationRun, {"statement_pk": "statement_id", "run_pk": "pk"}
        )
        for name in [
            "reconciliation",
            "reconciliation_progress",
            "reconciliation_pdf",
            "reconciliation_csv",
        ]
    },
    "statements:reconciliation_item": Route(
        ReconciliationItem, {"statement_pk": "statement_id", "item_pk": "pk"}
    ),
    # payments, security, bank accounts
    "payments:create": _importer("importer_pk"),
    "payments:detail": Route(Payment, {"pk": "pk"}),
    "payments:status": Route(Payment, {"pk": "pk"}),
    "payments:allocate": Route(Payment, {"pk": "pk"}),
    "payments:security_create": _importer("importer_pk"),
    "payments:security_detail": Route(FinancialSecurity, {"pk": "pk"}),
    "payments:security_edit": Route(FinancialSecurity, {"pk": "pk"}),
    "payments:security_review": Route(ProgramAccount, {"pk": "pk"}),
    "payments:bank_accounts": _importer("importer_pk"),
    "payments:bank_account_create": _importer("importer_pk"),
    **{
        f"payments:bank_account_{name}": Route(BankAccount, {"pk": "pk"})
        for name in ["detail", "reveal", "edit", "deactivate", "reactivate"]
    },
    # compliance
    "compliance:correction_detail": Route(Correction, {"pk": "pk"}),
    "compliance:correction_status": Route(Correction, {"pk": "pk"}),
    "compliance:correction_create": _importer("importer_pk"),
    "compliance:importer": _importer("importer_pk"),
    "compliance:documents": _importer("importer_pk"),
    "compliance:document_download": Route(ComplianceDocument, {"pk": "pk"}),
    "compliance:document_hold": Route(ComplianceDocument, {"pk": "pk"}),
    "compliance:training_course": Route(Course, {"pk": "pk"}),
    "compliance:training_session_create": Route(Course, {"pk": "pk"}),
    **{
        f"compliance:training_course_{name}": Route(Course, {"pk": "pk"})
        for name in ["edit", "retire", "offer", "delete"]
    },
    "compliance:training_certificate": Route(TrainingCompletion, {"pk": "pk"}),
    "compliance:training_importer": _importer("importer_pk"),
    "compliance:training_record": _importer("importer_pk"),
    "compliance:readiness": _importer("importer_pk"),
    "compliance:readiness_take": _importer("importer_pk"),
    "compliance:readiness_answer": _importer("importer_pk"),
    "compliance:readiness_pdf": Route(ReadinessCheck, {"importer_pk": "importer_id"}),
    "compliance:readiness_gap_done": Route(ReadinessGap, {"pk": "pk"}),
    "compliance:readiness_gap_update": Route(ReadinessGap, {"pk": "pk"}),
    # the REST API (router names; the ".json" suffix variants run the same views)
    "importer-detail": _importer("pk"),
    "program-account-detail": Route(ProgramAccount, {"pk": "pk"}),
    "invitation-detail": Route(Invitation, {"pk": "pk"}),
    "invitation-resend": Route(Invitation, {"pk": "pk"}),
    "invitation-revoke": Route(Invitation, {"pk": "pk"}),
    "invitation-confirm": Route(Invitation, {"pk": "pk"}),
    "invitation-decline": Route(Invitation, {"pk": "pk"}),
    "delegation-detail": Route(Delegation, {"pk": "pk"}),
    "delegation-alert-detail": Route(DelegationAlert, {"pk": "pk"}),
    "statement-detail": Route(Statement, {"pk": "pk"}),
    "statement-lines": Route(Statement, {"pk": "pk"}),
    "broker-entry-detail": Route(BrokerEntry, {"pk": "pk"}),
    "import-batch-detail": Route(ImportBatch, {"pk": "pk"}),
    "reconciliation-run-detail": Route(ReconciliationRun, {"pk": "pk"}),
    "reconciliation-run-items": Route(ReconciliationRun, {"pk": "pk"}),
    "payment-detail": Route(Payment, {"pk": "pk"}),
    "payment-allocate": Route(Payment, {"pk": "pk"}),
    "payment-set-status": Route(Payment, {"pk": "pk"}),
    "payment-alert-detail": Route(PaymentAlert, {"pk": "pk"}),
    "financial-security-detail": Route(FinancialSecurity, {"pk": "pk"}),
    "interest-rate-detail": Route(InterestRate, {"pk": "pk"}),
    "bank-account-detail": Route(BankAccount, {"pk": "pk"}),
    "bank-account-reveal": Route(BankAccount, {"pk": "pk"}),
    "service-request-detail": Route(ServiceRequest, {"pk": "pk"}),
    "booking-detail": Route(Booking, {"pk": "pk"}),
    "booking-cancel": Route(Booking, {"pk": "pk"}),
    # services
    "services:importer_services": _importer("importer_pk"),
    "services:book": _importer("importer_pk"),
    "services:request_create": Route(Importer, {"importer_pk": "pk", "kind": Const("help")}),
    **{
        f"services:booking_{name}": Route(Booking, {"pk": "pk"})
        for name in ["detail", "ics", "cancel", "move", "record"]
    },
    **{
        f"services:request_{name}": Route(ServiceRequest, {"pk": "pk"})
        for name in ["detail", "reply", "advance", "assign", "bond_edit", "approve", "attach"]
    },
    **{
        f"services:{name}": Route(Prospect, {"pk": "pk"})
        for name in ["prospect_detail", "prospect_convert"]
    },
    **{
        f"services:{name}": Route(WebinarSession, {"pk": "pk"})
        for name in [
            "webinar_register",
            "register_me",
            "session_detail",
            "session_edit",
            "session_attendance",
            "session_cancel",
            "session_csv",
        ]
    },
    "services:registration_cancel": Route(Registration, {"pk": "pk"}),
    "correction-detail": Route(Correction, {"pk": "pk"}),
    "compliance-document-detail": Route(ComplianceDocument, {"pk": "pk"}),
    "compliance-document-download": Route(ComplianceDocument, {"pk": "pk"}),
    "training-completion-detail": Route(TrainingCompletion, {"pk": "pk"}),
    "readiness-check-detail": Route(ReadinessCheck, {"pk": "pk"}),
    "onboarding-step-detail": Route(OnboardingStep, {"pk": "pk"}),
    "onboarding-step-mark": Route(OnboardingStep, {"pk": "pk"}),
    "portal-user-detail": Route(PortalUser, {"pk": "pk"}),
    **{
        f"renewal-request-{name}": Route(RenewalRequest, {"pk": "pk"})
        for name in ["detail", "confirm", "cancel"]
    },
    **{
        f"reconciliation-item-{name}": Route(ReconciliationItem, {"pk": "pk"})
        for name in ["detail", "assign", "comments", "resolve", "reopen"]
    },
}

# Patterns with arguments that name no object an importer owns, and why.
NOT_OBJECT_URLS = {
    "invitations:accept": "a one-time secret token; knowing it is the permission",
    "invitations:confirm_by_contact": "a one-time secret token sent to the importer's contact",
    "notifications:open": "a notification is its recipient's own: anyone else gets a 404",
    "notifications:mark_read": "a notification is its recipient's own: anyone else gets a 404",
    "deadlines:feed": "a secret calendar token; knowing it is the permission (revocable)",
    "services:interest_confirm": "a signed one-time link e-mailed to the person who signed up",
    "services:webinar_confirm": "a signed link e-mailed to the visitor who registered",
    "staff:detail": "a broker staff account: broker admins only (GlobalPerm.MANAGE_USERS)",
    "clients:group_edit": "the broker's own client group: broker admins only (MANAGE_USERS)",
    "api_token_revoke": "a person's own API token: another person's is a 404 (tests/api)",
}
IGNORED_ARGS = {"format"}  # DRF's format suffix: the same view as the plain route
GUESS_CANDIDATES = 30  # objects of other importers tried per pattern to find one that exists


def project_patterns() -> list[tuple[str, str | None, list[str]]]:
    """(route, name, argument names) of every URL pattern of this project's apps and API."""

    def walk(resolver: URLResolver, prefix: str, namespace: str | None):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace and (f"{namespace}:{p.namespace}" if namespace else p.namespace)
                yield from walk(p, prefix + str(p.pattern), ns or namespace)
            elif isinstance(p, URLPattern):
                view = getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None)
                module = (view or p.callback).__module__
                if module.split(".")[0] not in {
                    "clients",
                    "statements",
                    "payments",
                    "delegation",
                    "services",
                }:
                    continue
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                yield prefix + str(p.pattern), name, list(p.pattern.regex.groupindex)

    return list(walk(get_resolver(), "/", None))


# --- The demo data, seeded once for the module ----------------------------------------------------


DEMO_MEDIA: list[str] = []  # where the module's demo keeps its files


def _storages(location: str) -> dict:
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> None:
    """Seed the demo once, in a transaction rolled back at the module's end (see test_seed_demo).

    Its compliance documents go to a directory of the module's (``demo_media``), not var/media.
    """
    DEMO_MEDIA.append(str(tmp_path_factory.mktemp("demo-media")))
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS, STORAGES=_storages(DEMO_MEDIA[-1])),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def login(email_local: str) -> tuple[User, Client]:
    user = User.objects.get(email=f"{email_local}@{DOMAIN}")
    client = Client()
    client.force_login(user)
    return user, client


def own_importers(user: User) -> set[int]:
    return set(Membership.objects.filter(user=user).values_list("importer_id", flat=True))


def forbidden_words(user: User) -> dict[str, re.Pattern[str]]:
    """Legal names, operating names and BN9s of every importer the user does not belong to."""
    words: dict[str, re.Pattern[str]] = {}
    others = Importer.objects.exclude(pk__in=own_importers(user))
    for legal, operating, bn9 in others.values_list("legal_name", "operating_name", "bn9"):
        for name in filter(None, [legal, operating]):
            # Whole words only: a short operating name ("DPI") also turns up inside random
            # tokens (the CSRF token of a form), which is not a leak.
            words[name] = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
        if bn9:  # a new client (a converted prospect) may have no BN9 yet
            words[bn9] = re.compile(rf"(?<!\d){bn9}(?!\d)")
    return words


# --- The crawler ----------------------------------------------------------------------------------


@dataclass
class _GetForm:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # as the page fills them in
    choices: dict[str, list[str]] = field(default_factory=dict)  # select name -> option values


class _Links(HTMLParser):
    """Links a click or HTMX would GET, and the URLs the page's GET forms (filters) submit."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, bool]] = []  # (link, asked for by HTMX)
        self.forms: list[_GetForm] = []
        self._form: _GetForm | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        href = found.get("href") if tag == "a" else None
        for link, hx in ((href, False), (found.get("hx-get"), True)):
            if link:
                self.hrefs.append((link, hx))
        form, name = self._form, found.get("name")
        if tag == "form":
            if found.get("method", "get").lower() == "get":
                self._form = _GetForm(found.get("action", ""))
        elif form is None or not name:
            return
        elif tag == "input" and found.get("type", "text") not in {"submit", "button", "file"}:
            if found.get("type") not in {"checkbox", "radio"} or "checked" in found:
                form.fields.append((name, found.get("value", "")))
        elif tag == "select":
            self._select = name
            form.choices[name] = []
        elif tag == "option" and self._select:
            form.choices[self._select].append(found.get("value", ""))
            if "selected" in found:
                form.fields.append((self._select, found.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def links_in(body: str) -> list[tuple[str, bool]]:
    """Every link, then each GET form as filled in, with each choice of each select, and garbage.

    The garbage (every field set to a value no filter accepts) checks that a filter given bad
    input says so rather than failing with a 500.
    """
    parser = _Links()
    parser.feed(body)
    links = list(parser.hrefs)
    for form in parser.forms:
        defaults = dict(form.fields)
        variants = [defaults]
        for name, values in form.choices.items():
            variants += [{**defaults, name: value} for value in values if value]
        names = set(defaults) | set(form.choices)
        variants.append({name: "-1'<x>" for name in names if name != "csrfmiddlewaretoken"})
        for variant in variants:
            query = urlencode({k: v for k, v in variant.items() if v})
            links.append((f"{form.action.split('?')[0]}?{query}" if query else form.action, False))
    return links


def normalise(href: str, base: str) -> str | None:
    """The same-site path + sorted query of a link, or None for what the crawl does not follow."""
    href, _fragment = urldefrag(href.strip())
    if not href or href.startswith(("mailto:", "tel:", "javascript:")):
        return None
    parts = urlsplit(href)
    if (parts.scheme or parts.netloc) and parts.netloc not in {"testserver", ""}:
        return None
    path = parts.path or urlsplit(base).path
    if not path.startswith("/"):
        path = base.rsplit("/", 1)[0] + "/" + path
    if path.startswith(SKIP_PREFIXES):
        return None
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{path}?{query}" if query else path


def route_of(url: str) -> tuple[str, dict[str, object]] | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name, match.kwargs


@dataclass
class Crawl:
    pages: dict[str, int] = field(default_factory=dict)  # url -> status
    shown_on: dict[str, str] = field(default_factory=dict)  # url -> the page that linked to it
    leaks: list[str] = field(default_factory=list)
    foreign_links: list[str] = field(default_factory=list)
    odd_types: list[str] = field(default_factory=list)  # downloads that are not what they say

    def failures(self) -> list[str]:
        return [
            f"{status} {url} (linked from {self.shown_on.get(url)})"
            for url, status in self.pages.items()
            if status not in (200, 302)
        ]


def crawl(client: Client, forbidden: dict[str, re.Pattern[str]], mine: set[int] | None) -> Crawl:
    """Breadth first from "/", GET only, bounded per route, per path's queries, and in total.

    Pages are searched for the ``forbidden`` words; with ``mine`` (an importer user's importers),
    links to objects of other importers are recorded, not followed.
    """
    result = Crawl()
    importer_user = mine is not None
    queue: deque[str] = deque(["/"])
    seen = {"/"}
    htmx: set[str] = set()  # URLs asked for with the HX-Request header
    per_route: Counter[str] = Counter()
    per_path: Counter[str] = Counter()
    owner_cache: dict[str, set[int | None]] = {}

    def owners(url: str) -> set[int | None]:
        found = route_of(url)
        if not found or found[0] not in ROUTES:
            return set()
        key = urlsplit(url).path
        if key not in owner_cache:
            owner_cache[key] = ROUTES[found[0]].owners(found[1])
        return owner_cache[key]

    def enqueue(url: str, source: str, hx: bool = False) -> None:
        if url in seen:
            return
        if hx:
            htmx.add(url)
        seen.add(url)
        if importer_user and owners(url) - mine:
            result.foreign_links.append(f"{url} (linked from {source})")
            return
        path = urlsplit(url).path
        found = route_of(url)
        name = found[0] if found else path
        if "?" in url and per_path[path] >= MAX_QUERY_VARIANTS:
            return
        if "?" not in url and per_route[name] >= MAX_PER_ROUTE:
            return
        per_path[path] += 1
        if "?" not in url:
            per_route[name] += 1
        result.shown_on[url] = source
        queue.append(url)

    while queue and len(result.pages) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url, headers={"HX-Request": "true"} if url in htmx else {})
        result.pages[url] = response.status_code
        if response.status_code in (301, 302):
            if urlsplit(response["Location"]).path == reverse("account_login"):
                result.pages[url] = 401  # a signed-in user sent to sign in: the page refused them
            target = normalise(response["Location"], url)
            if target:
                enqueue(target, url)
            continue
        content_type = response.get("Content-Type", "").split(";")[0]
        if response.status_code == 200 and content_type not in CONTENT_TYPES:
            result.odd_types.append(f"{content_type} {url}")
        if response.status_code != 200 or content_type != "text/html":
            continue
        body = response.content.decode()
        if forbidden:
            text = html.unescape(body)
            for word, pattern in forbidden.items():
                if pattern.search(text):
                    result.leaks.append(f"{word!r} on {url}")
        for href, hx in links_in(body):
            target = normalise(href, url)
            if target:
                enqueue(target, url, hx)
    return result


@pytest.mark.parametrize("login_name", BROKER_LOGINS + IMPORTER_LOGINS)
def test_every_link_a_persona_is_shown_opens_and_shows_only_their_importers(demo, login_name):
    user, client = login(login_name)
    importer_user = login_name in IMPORTER_LOGINS
    # For broker staff, who see every importer, the words hidden from Rideau's BAM must show up:
    # proof that the leak check below can see a leak.
    others_of = user if importer_user else User.objects.get(email=f"bam.rideau@{DOMAIN}")

    result = crawl(
        client, forbidden_words(others_of), own_importers(user) if importer_user else None
    )

    assert len(result.pages) > 5, result.pages  # the crawl got somewhere
    assert not [u for u, s in result.pages.items() if s >= 500]
    assert result.failures() == []
    assert result.odd_types == []
    if importer_user:
        assert result.leaks == []
        assert result.foreign_links == []
    else:
        assert len(result.leaks) > 10


# --- Guessing other importers' URLs ---------------------------------------------------------------


def test_every_url_with_an_id_is_mapped():
    """A new URL pattern with an object id must say here which model the id names."""
    unmapped = [
        (route, name)
        for route, name, args in project_patterns()
        if set(args) - IGNORED_ARGS and name not in ROUTES and name not in NOT_OBJECT_URLS
    ]

    assert unmapped == []
    for name, route in ROUTES.items():
        assert route.model in OWNER or route.model in PUBLIC_MODELS, name
        assert reverse(
            name,
            kwargs={k: 1 if not isinstance(v, Const) else v.value for k, v in route.kwargs.items()},
        )


@pytest.fixture
def stranger(demo, settings) -> Importer:
    """A demo importer nobody of the demo logins belongs to, given what the demo lacks.

    The demo has no invitation, renewal request, correction, compliance document, readiness
    check or uploaded wizard statement, and only its persona importers have bank accounts; this
    importer gets one of each (rolled back after).
    """
    settings.STORAGES = _storages(DEMO_MEDIA[-1])  # beside the demo's own documents
    importer = (
        Importer.objects.filter(memberships=None, delegations__isnull=False).order_by("pk").first()
    )
    admin = User.objects.get(email=f"admin@{DOMAIN}")
    Invitation.objects.create(
        importer=importer,
        email="guess@stranger.example.com",
        role=Membership.Role.BAM,
        token_hash="0" * 64,
        invited_by=admin,
        expires_at=timezone.now() + timedelta(days=7),
    )
    RenewalRequest.objects.create(
        delegation=importer.delegations.order_by("pk").first(),
        requested_expiry_date=date(2027, 12, 31),
        requested_by=admin,
    )
    BankAccountFactory(importer=importer)
    # The services: a help request, a walk-through booking, a prospect and a webinar sign-up.
    ServiceRequest.objects.create(
        importer=importer, kind="help", status="open", topic="payments", message="Help"
    )
    slot = WalkthroughSlot.objects.create(agent=admin, starts_at=timezone.now() + timedelta(days=5))
    Booking.objects.create(slot=slot, importer=importer, contact_email="guess@stranger.example.com")
    Prospect.objects.create(
        name="Guess",
        company="Guess Co",
        email="guess@prospect.example.com",
        consent_at=timezone.now(),
        confirmed_at=timezone.now(),
    )
    session = WebinarSession.objects.create(
        title="Prepare for CARM", starts_at=timezone.now() + timedelta(days=9)
    )
    Registration.objects.create(
        session=session, name="Guess", email="guess@stranger.example.com", status="confirmed"
    )
    account = importer.program_accounts.order_by("pk").first()
    Correction.objects.create(
        importer=importer,
        program_account=account,
        transaction_number="12345000099999",
        reason=Correction.Reason.VALUE,
        reason_to_believe_on=date(2026, 11, 2),
        deadline=date(2027, 1, 31),
        accounted_on=date(2026, 10, 2),
    )
    file_document(
        importer=importer,
        document_type="ruling",
        name="ruling.pdf",
        data=b"%PDF-1.4\n%%EOF\n",
        record_date=date(2026, 10, 1),
        by=admin,
    )
    trainee = UserFactory(email="trainee@stranger.example.com")
    MembershipFactory(user=trainee, importer=importer, role=Membership.Role.EMPLOYEE)
    record_completion(
        membership=Membership.objects.get(user=trainee, importer=importer),
        course=Course.objects.order_by("pk").first(),
        completed_on=date(2026, 10, 1),
        by=admin,
        today=date(2026, 11, 5),
    )
    take_check(importer, manual={"release_documentation": False}, by=admin)
    stored = default_storage.save("wizard/soa.csv", ContentFile(b"account_number,amount\n"))
    OnboardingWizard.objects.update_or_create(
        importer=importer,
        defaults={"data": {"business": {"statement_file": {"name": "soa.csv", "path": stored}}}},
    )
    return importer


def real_url(admin: Client, name: str, route: Route, objects: models.QuerySet) -> str | None:
    """The URL of the first of ``objects`` that the broker admin can open (it is not a 404).

    So the importer user's 404 below says "not yours", not "no such page" (a wizard without an
    uploaded statement, say, has no statement file for anyone).
    """
    for obj in objects.order_by("pk")[:GUESS_CANDIDATES]:
        url = reverse(name, kwargs=route.url_kwargs(obj))
        if admin.get(url).status_code != 404:
            return url
    return None


@pytest.mark.parametrize("login_name", IMPORTER_LOGINS)
def test_an_importer_user_guessing_another_importers_urls_gets_404(stranger, login_name):
    user, client = login(login_name)
    mine = own_importers(user)
    _admin, admin_client = login("admin")
    missing, shown = [], []
    for name, route in ROUTES.items():
        if route.model in PUBLIC_MODELS:
            continue
        path = OWNER[route.model]
        others = route.model.objects.all()
        if path is not None:
            others = others.exclude(**{f"{path}__in": mine})
        url = real_url(admin_client, name, route, others)
        if url is None:
            missing.append(name)
            continue
        allowed = {404} if path is not None else {403, 404}
        for method in (client.get, client.post):
            status = method(url).status_code
            if status not in allowed | {405}:
                shown.append(f"{method.__name__.upper()} {url} ({name}): {status}")

    assert shown == []
    assert missing == [], missing


@pytest.mark.parametrize("login_name", IMPORTER_LOGINS)
def test_an_importer_user_filtering_a_list_by_another_importer_sees_none_of_it(
    stranger, login_name
):
    """Every page and API list without arguments, asked for with ``?importer=`` another's id."""
    user, client = login(login_name)
    forbidden = forbidden_words(user)
    leaks = []
    for _route, name, args in project_patterns():
        if args or not name:
            continue
        for query in ({}, {"importer": stranger.pk}):
            response = client.get(reverse(name), query)
            assert response.status_code < 500, name
            if response.get("Content-Type", "").startswith(("text/html", "application/json")):
                text = html.unescape(response.content.decode())
                leaks += [f"{word!r} on {name}" for word, p in forbidden.items() if p.search(text)]

    assert leaks == []


MAX_OBJECTS_PER_ROUTE = 40  # all 30 demo importers; a sample of the 70-odd people and items


@pytest.mark.parametrize("name", sorted(n for n in ROUTES if ":" in n))
def test_every_demo_object_page_opens_for_broker_staff_without_a_server_error(demo, name):
    """The crawl follows a few links per route; this opens the page of every demo object.

    The demo's 30 importers sit at every onboarding stage, so each importer page is rendered in
    each state the data can be in. A GET of a POST-only route must say 405, never fail.
    """
    route = ROUTES[name]
    failures = []
    finance_page = name.startswith(("statements:", "payments:"))
    limit = 3 if name.endswith("_pdf") else MAX_OBJECTS_PER_ROUTE  # a PDF renders in ~0.5 s
    for login_name in ("admin", "finance") if finance_page else ("admin",):
        _user, client = login(login_name)
        for obj in route.model.objects.order_by("pk")[:limit]:
            url = reverse(name, kwargs=route.url_kwargs(obj))
            status = client.get(url).status_code
            if status >= 500:
                failures.append(f"{login_name} {url}: {status}")

    assert failures == []
