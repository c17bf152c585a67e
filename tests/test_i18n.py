"""English and French: the language switcher in every page's footer, and the French catalogue.

The switcher is a plain POST to Django's ``set_language`` (no JavaScript): it stores the choice in
the language cookie and sends the user back to the page they were on. The catalogue checks keep
``locale/fr`` shippable: no fuzzy guesses, ``msgfmt -c`` clean, and every string of the pages an
importer's people use translated.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from clients.models import OnboardingStep
from delegation.models import RenewalRequest
from statements.models import ReconciliationItem, ReconciliationRun
from tests.factories import DelegationFactory, PaymentFactory, PortalUserFactory, StatementFactory

HOME = reverse("home")
SET_LANGUAGE = reverse("set_language")
PO_FILE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"


@pytest.fixture(autouse=True)
def back_to_english():
    """The test client leaves the last request's language active in this thread: reset it, or
    every test after this one would run in French."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 10, 27, 15, tzinfo=dt.UTC))


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def switch(client, language: str, next_url: str = HOME):
    return client.post(SET_LANGUAGE, {"language": language, "next": next_url})


# --- The switcher --------------------------------------------------------------------------------


def test_the_switcher_is_on_the_sign_in_page(client, db):
    login = reverse("account_login")
    html = client.get(login).content.decode()
    form = re.search(r'<form class="language-switcher"[^>]*>(.*?)</form>', html, re.S)
    assert form, "no language switcher on the sign-in page"
    assert f'action="{SET_LANGUAGE}"' in form.group(0)
    assert 'method="post"' in form.group(0)
    switcher = form.group(1)
    assert "csrfmiddlewaretoken" in switcher
    assert f'name="next" value="{login}"' in switcher
    assert re.search(r'<button[^>]*value="en"[^>]*lang="en"[^>]*aria-pressed="true"', switcher)
    assert re.search(r'<button[^>]*value="fr"[^>]*lang="fr"[^>]*aria-pressed="false"', switcher)
    assert ">English</button>" in switcher
    assert ">Français</button>" in switcher


def test_an_anonymous_visitor_can_switch_the_sign_in_page_to_french(client, db):
    login = reverse("account_login")
    response = switch(client, "fr", login)
    assert response.status_code == 302
    assert response["Location"] == login
    html = client.get(login).content.decode()
    assert '<html lang="fr"' in html
    assert "Se connecter" in html
    assert re.search(r'value="fr"[^>]*aria-pressed="true"', html)
    assert ">English</button>" in html  # each language named in itself
    assert ">Français</button>" in html


def test_switching_to_french_and_back_on_home_and_the_wizard(personas, client_for):
    client = client_for(personas.bam_a)
    wizard = reverse("onboarding:step", args=[personas.importer_a.pk, "bams"])

    response = switch(client, "fr", HOME)
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"

    home = client.get(HOME).content.decode()
    assert '<html lang="fr"' in home
    assert "Accueil" in home and "Vos personnes" in home
    step = client.get(wizard).content.decode()
    assert "Enregistrer et continuer" in step  # the choice persists from page to page

    switch(client, "en", wizard)
    home = client.get(HOME).content.decode()
    assert '<html lang="en"' in home
    assert "Your people" in home and "Vos personnes" not in home
    assert "Save and continue" in client.get(wizard).content.decode()


def test_the_switcher_keeps_the_page_and_its_query(personas, client_for):
    client = client_for(personas.bam_a)
    here = reverse("statements:list") + "?page=1"
    html = client.get(here).content.decode()
    assert 'name="next" value="/statements/?page=1"' in html
    response = switch(client, "fr", here)
    assert response["Location"] == here


def test_the_switcher_never_sends_the_user_to_another_site(client, db):
    response = switch(client, "fr", "https://evil.example.com/")
    assert response.status_code == 302
    assert "evil.example.com" not in response["Location"]


# --- The importer home in French ------------------------------------------------------------------


def seed(importer) -> None:
    """A little of everything the home page shows: steps, statements, a reconciliation with an
    open exception, a renewal request, CCP users and a payment."""
    account = importer.program_accounts.order_by("pk").first()
    OnboardingStep.objects.update_or_create(
        importer=importer,
        step=OnboardingStep.Step.values[0],
        defaults={"status": OnboardingStep.Status.DONE},
    )
    statement = StatementFactory(
        program_account=account,
        statement_date=dt.date(2026, 10, 25),
        closing_balance=Decimal("412.40"),
        status="open",
    )
    run = ReconciliationRun.objects.create(
        statement=statement, status=ReconciliationRun.Status.SUCCEEDED, is_current=True
    )
    ReconciliationItem.objects.create(
        run=run,
        statement=statement,
        importer_id=importer.pk,
        position=0,
        status=ReconciliationItem.Code.AMOUNT_MISMATCH,
        is_exception=True,
        key="tx0",
        first_seen_at=dt.datetime(2026, 10, 26, tzinfo=dt.UTC),
    )
    delegation = DelegationFactory(importer=importer, expiry_date=dt.date(2026, 11, 5))
    RenewalRequest.objects.create(delegation=delegation, requested_expiry_date=dt.date(2027, 11, 5))
    PortalUserFactory(importer=importer, full_name="Alice Alpha")
    PaymentFactory(program_account=account, amount=Decimal("77.70"), paid_on=dt.date(2026, 10, 2))


FRENCH_ON_HOME = [
    "Accueil",
    "Délégations",
    "Paiements",
    "Se déconnecter",
    "Liste de contrôle d'intégration à la GCRA",
    "étapes sur",
    "Demande votre attention",
    "Renouvellement demandé",
    "Confirmer que c'est fait",
    "Vos relevés",
    "Tous les relevés",
    "Rapports de rapprochement",
    "exception ouverte",
    "Paiements et garantie financière",
    "Derniers paiements",
    "Vos personnes",
    "Utilisateurs du Portail client de la GCRA (PC-GCRA)",
    "Délégation au courtier",
    "Comptes de programme RM",
    "Langue",
]

ENGLISH_OF_HOME = [
    "Home",
    "Sign out",
    "Skip to main content",
    "Delegations",
    "Statements",
    "Payments",
    "steps done",
    "The seven steps",
    "Needs your attention",
    "Renewal requested",
    "Confirm it is done",
    "New expiry date",
    "Your statements",
    "All statements",
    "Balance",
    "still owing",
    "Reconciliation reports",
    "open exception",
    "PDF report",
    "Payments and financial security",
    "Latest payments",
    "Record a payment",
    "Your people",
    "Who signs in here",
    "Users in the CARM Client Portal",
    "Delegation to the broker",
    "RM program accounts",
    "Not started",
    "Done",
    "Your role",
    "Business Account Manager",
    "Language",
    "Open",
    "Online banking",
    "In transit",
    "Total owed",
    "The figures",
    "Covered?",
]


def test_the_importer_home_of_a_bam_in_french(personas, client_for):
    seed(personas.importer_a)
    client = client_for(personas.bam_a)
    switch(client, "fr")
    html = client.get(HOME).content.decode()
    text = text_of(html)

    assert '<html lang="fr"' in html
    missing = [phrase for phrase in FRENCH_ON_HOME if phrase not in text]
    assert not missing, f"French missing on the home page: {missing}"
    english = [phrase for phrase in ENGLISH_OF_HOME if re.search(rf"\b{re.escape(phrase)}\b", text)]
    assert not english, f"English left on the French home page: {english}"


def test_the_pages_an_importer_opens_from_home_are_in_french(personas, client_for):
    """Lists, filters and choices too: labels built once at import must stay lazy."""
    seed(personas.importer_a)
    client = client_for(personas.bam_a)
    switch(client, "fr")
    pages = {
        reverse("statements:list"): ["Relevés de compte", "Appliquer les filtres", "Ouvert"],
        reverse("payments:list"): ["Paiements, du plus récent au plus ancien", "En transit"],
        reverse("delegation:list"): ["Demande non approuvée", "Date d'expiration vide"],
    }
    english = ["Apply filters", "Request not approved", "Blank expiry date", "In transit", "Open"]
    for url, french in pages.items():
        text = text_of(client.get(url).content.decode())
        assert [phrase for phrase in french if phrase not in text] == [], url
        left = [phrase for phrase in english if re.search(rf"\b{re.escape(phrase)}\b", text)]
        assert left == [], url


# --- The catalogue ---------------------------------------------------------------------------------


def gettext_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        pytest.skip(f"{name} (gettext) is not installed")
    return tool


def test_the_french_catalogue_has_no_fuzzy_entries():
    fuzzy = [
        line
        for line in PO_FILE.read_text().splitlines()
        if line.startswith("#,") and "fuzzy" in line
    ]
    assert not fuzzy, "fuzzy entries are guesses by makemessages: translate them or clear them"


def test_the_french_catalogue_passes_msgfmt_check():
    msgfmt = gettext_tool("msgfmt")
    result = subprocess.run(  # noqa: S603
        [msgfmt, "-c", "--check-format", "-o", "/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# Where the strings an importer's people read come from: the layout, the sign-in pages, the home
# page and the panels it includes, and the labels (steps, statuses, alert kinds) shown there.
IMPORTER_FACING = (
    "templates/base.html",
    "templates/includes/",
    "templates/403.html",
    "templates/404.html",
    "templates/account/",
    "templates/clients/home/",
    "templates/clients/importer_home.html",
    "templates/clients/_accounts.html",
    "templates/clients/_checklist.html",
    "templates/clients/no_access.html",
    "templates/clients/wizard/",
    "templates/clients/invitations/",
    "templates/delegation/_importer_panel.html",
    "templates/payments/_importer_panel.html",
    "carm_portal/importer_home/",
    "clients/models.py",
    "clients/templatetags/",
    "carm_portal/onboarding_wizard/",
    "delegation/templatetags/",
    "delegation/rules.py",
    "payments/templatetags/",
    "payments/rules.py",
)


def test_every_importer_facing_string_is_translated():
    msgattrib = gettext_tool("msgattrib")
    untranslated = subprocess.run(  # noqa: S603
        [msgattrib, "--untranslated", "--no-obsolete", "--no-wrap", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    missing = []
    for entry in untranslated.split("\n\n"):
        places = [
            p for line in entry.splitlines() if line.startswith("#: ") for p in line[3:].split()
        ]
        if any(place.startswith(IMPORTER_FACING) for place in places):
            msgid = re.search(r'^msgid "(.*)"$', entry, re.M)
            missing.append((places[0], msgid.group(1) if msgid else entry))
    assert not missing, f"untranslated importer-facing strings (run `make messages`): {missing}"


def test_every_string_in_the_catalogue_is_translated():
    """All of them, not only the importer's pages: broker staff work in French too."""
    msgattrib = gettext_tool("msgattrib")
    untranslated = subprocess.run(  # noqa: S603
        [msgattrib, "--untranslated", "--no-obsolete", "--no-wrap", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    missing = re.findall(r'^msgid "(.+)"$', untranslated, re.M)
    assert not missing, f"untranslated msgids (run `make messages` and translate): {missing}"


EAGER_GETTEXT = ("gettext", "ngettext", "pgettext")
APP_PACKAGES = ("carm_portal", "clients", "delegation", "statements", "payments", "services")


def eager_gettext_at_import(source: str) -> list[int]:
    """Lines calling ``gettext`` (not the lazy one) outside any function: translated once, in the
    language of whoever imported the module first, and shown in English on every French page."""
    import ast

    tree = ast.parse(source)
    names = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in EAGER_GETTEXT
    }
    lines: list[int] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            in_function = True
        if (
            not in_function
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in names
        ):
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return lines


def test_no_module_translates_a_label_when_it_is_imported():
    found = {}
    for package in APP_PACKAGES:
        for path in (Path(settings.BASE_DIR) / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if lines := eager_gettext_at_import(path.read_text()):
                found[str(path.relative_to(settings.BASE_DIR))] = lines
    assert not found, f"use gettext_lazy for labels made at import: {found}"


def test_the_eager_gettext_check_can_fail():
    source = (
        "from django.utils.translation import gettext as _\n"
        "TABS = {'due': _('Due this week')}\n"
        "def view():\n    return _('fine here')\n"
    )
    assert eager_gettext_at_import(source) == [2]
