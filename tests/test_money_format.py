"""Amounts and CBSA codes on English and French pages.

Money follows the active language (``carm_portal.money.format_money``): ``$1,234.56`` in English,
``1 234,56 $`` in Canadian French, with no-break spaces so an amount never wraps. CSV exports keep
plain ``1234.56`` for other programs. CBSA's codes (BAM, BMR, pBAM) stay as codes with their
translated name as the ``<abbr>`` title; the CCP roles that are words (Editor, Reader) are shown
as words, translated.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from carm_portal.money import format_money, format_money_whole
from clients.models import PortalUser
from statements import reports
from statements.models import ReconciliationItem, ReconciliationRun
from tests.factories import DelegationFactory, PaymentFactory, PortalUserFactory, StatementFactory

HOME = reverse("home")
NBSP = "\xa0"


@pytest.fixture(autouse=True)
def back_to_english():
    """The test client leaves the last request's language active in this thread: reset it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 10, 27, 15, tzinfo=dt.UTC))


def text_of(html: str) -> str:
    """The page's text, ASCII whitespace collapsed (``str.split`` would eat the no-break spaces)."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def in_french(client) -> None:
    client.post(reverse("set_language"), {"language": "fr", "next": HOME})


# --- format_money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "english", "french"),
    [
        (Decimal("412.40"), "$412.40", "412,40 $"),
        (Decimal("1234.56"), "$1,234.56", "1 234,56 $"),
        (Decimal("-5"), "\u2212$5.00", "\u22125,00 $"),
        (Decimal("-1234.56"), "\u2212$1,234.56", "\u22121 234,56 $"),
        (Decimal("0"), "$0.00", "0,00 $"),
        (Decimal("-0.001"), "$0.00", "0,00 $"),  # rounds to zero: no "-0"
        (Decimal("1234567890.12"), "$1,234,567,890.12", "1 234 567 890,12 $"),
        (Decimal("2.675"), "$2.68", "2,68 $"),  # half up, as everywhere in money.py
        (Decimal("2.665"), "$2.67", "2,67 $"),
        (Decimal("-2.675"), "\u2212$2.68", "\u22122,68 $"),
        (1000, "$1,000.00", "1 000,00 $"),
        ("99.9", "$99.90", "99,90 $"),
        (None, "—", "—"),
    ],
)
def test_format_money_follows_the_active_language(value, english, french):
    with translation.override("en"):
        assert format_money(value) == english
    with translation.override("fr"):
        assert format_money(value) == french.replace(" ", NBSP)


def test_french_spaces_are_no_break_spaces_so_an_amount_never_wraps():
    with translation.override("fr"):
        formatted = format_money(Decimal("1234.56"))

    assert " " not in formatted
    assert formatted == "1\xa0234,56\xa0$"


def test_a_regional_french_and_no_language_at_all():
    with translation.override("fr-ca"):
        assert format_money(Decimal("1234.5")) == f"1{NBSP}234,50{NBSP}$"
    with translation.override(None):  # tasks and the shell: English
        assert format_money(Decimal("1234.5")) == "$1,234.50"


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        format_money(412.4)


@pytest.mark.parametrize(
    ("value", "english", "french"),
    [
        (Decimal("23000"), "$23,000", "23 000 $"),
        (Decimal("2500.50"), "$2,501", "2 501 $"),  # half up
        (Decimal("0"), "$0", "0 $"),
        (Decimal("-1500"), "\u2212$1,500", "\u22121 500 $"),
        (None, "—", "—"),
    ],
)
def test_whole_dollars_for_chart_axes(value, english, french):
    with translation.override("en"):
        assert format_money_whole(value) == english
    with translation.override("fr"):
        assert format_money_whole(value) == french.replace(" ", NBSP)


def test_the_template_filters_follow_the_language():
    template = Template("{% load payments_ui %}{{ a|money }} | {{ t|money_whole }}")
    context = {"a": Decimal("1234.56"), "t": Decimal("7500")}

    with translation.override("en"):
        assert template.render(Context(context)) == "$1,234.56 | $7,500"
    with translation.override("fr"):
        assert template.render(Context(context)) == f"1{NBSP}234,56{NBSP}$ | 7{NBSP}500{NBSP}$"


# --- Pages -----------------------------------------------------------------------------------------


def seed(importer) -> None:
    account = importer.program_accounts.order_by("pk").first()
    StatementFactory(
        program_account=account,
        statement_date=dt.date(2026, 10, 25),
        closing_balance=Decimal("1234.56"),
        status="open",
    )
    PaymentFactory(program_account=account, amount=Decimal("4321.10"), paid_on=dt.date(2026, 10, 2))


def test_the_bams_home_shows_french_amounts_in_french(personas, client_for):
    seed(personas.importer_a)
    client = client_for(personas.bam_a)
    in_french(client)

    text = text_of(client.get(HOME).content.decode())

    assert f"1{NBSP}234,56{NBSP}$" in text  # the statement's balance
    assert f"4{NBSP}321,10{NBSP}$" in text  # the latest payment
    assert "$1,234.56" not in text
    assert "$4,321.10" not in text


def test_the_bams_home_is_unchanged_in_english(personas, client_for):
    seed(personas.importer_a)

    text = text_of(client_for(personas.bam_a).get(HOME).content.decode())

    assert "$1,234.56" in text
    assert "$4,321.10" in text
    assert "234,56" not in text


def test_the_security_chart_axis_is_in_french(personas, client_for):
    seed(personas.importer_a)
    client = client_for(personas.bam_a)
    in_french(client)

    html = client.get(HOME).content.decode()

    ticks = re.findall(r'<text class="pay-chart__tick"[^>]*>([^<]*)</text>', html)
    assert ticks, "no security chart on the home page"
    assert all(tick.endswith(f"{NBSP}$") and "," not in tick for tick in ticks), ticks


def test_the_csv_export_keeps_plain_amounts_in_french(personas):
    account = personas.importer_a.program_accounts.order_by("pk").first()
    statement = StatementFactory(program_account=account, closing_balance=Decimal("1234.56"))
    run = ReconciliationRun.objects.create(
        statement=statement, status=ReconciliationRun.Status.SUCCEEDED, is_current=True
    )
    ReconciliationItem.objects.create(
        run=run,
        statement=statement,
        importer_id=personas.importer_a.pk,
        position=0,
        status=ReconciliationItem.Code.AMOUNT_MISMATCH,
        is_exception=True,
        key="tx0",
        statement_amount=Decimal("1234.56"),
        entry_amount=Decimal("1200.00"),
        difference=Decimal("34.56"),
        first_seen_at=dt.datetime(2026, 10, 26, tzinfo=dt.UTC),
    )

    with translation.override("fr"):
        rows = list(reports.csv_rows(run))

    assert [
        rows[1][rows[0].index(name)] for name in ("statement_amount", "entry_amount", "difference")
    ] == ["1234.56", "1200.00", "34.56"]


# --- CBSA codes and CCP roles ------------------------------------------------------------------------


def test_ccp_roles_that_are_words_are_translated_and_codes_are_abbreviations(personas, client_for):
    importer = personas.importer_a
    PortalUserFactory(importer=importer, full_name="Eve Editor", ccp_role=PortalUser.CcpRole.EDITOR)
    PortalUserFactory(importer=importer, full_name="Rob Reader", ccp_role=PortalUser.CcpRole.READER)
    PortalUserFactory(importer=importer, full_name="Bea Bam", ccp_role=PortalUser.CcpRole.BAM)
    client = client_for(personas.bam_a)
    in_french(client)

    for url in (HOME, importer.get_absolute_url()):
        html = unescape(client.get(url).content.decode())
        assert '<span class="badge badge--role">Éditeur</span>' in html, url
        assert '<span class="badge badge--role">Lecteur</span>' in html, url
        assert (
            '<abbr class="badge badge--role" '
            'title="Gestionnaire de compte d\'entreprise (GCE)">BAM</abbr>'
        ) in html, url
        assert ">EDITOR<" not in html and ">READER<" not in html, url


def test_ccp_roles_in_english(personas, client_for):
    PortalUserFactory(importer=personas.importer_a, ccp_role=PortalUser.CcpRole.READER)

    html = client_for(personas.bam_a).get(HOME).content.decode()

    assert '<span class="badge badge--role">Reader</span>' in html


def test_delegation_codes_carry_their_translated_names(personas, client_for):
    delegation = DelegationFactory(importer=personas.importer_a, relationship="BMR")
    client = client_for(personas.broker_agent)
    in_french(client)

    pages = [
        personas.importer_a.get_absolute_url(),  # the importer's delegation panel
        reverse("delegation:list"),
        delegation.get_absolute_url(),  # the breadcrumb
    ]
    for url in pages:
        html = unescape(client.get(url).content.decode())
        assert (
            '<abbr title="Relation de gestion d\'entreprise (RGE, tous les comptes)">BMR</abbr>'
        ) in html, url
        assert (
            '<abbr title="gestionnaire de compte d\'entreprise mandataire (GCEm)">pBAM</abbr>'
        ) in html, url
