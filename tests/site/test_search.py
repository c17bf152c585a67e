"""GET /search/?q=: one box over importers, BN15s, transactions, payments and people, scoped."""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carm_portal import trigram
from carm_portal.site_search.finders import LIMIT, search
from clients.models import Membership, PortalUser
from tests.factories import (
    BrokerEntryFactory,
    ImporterFactory,
    MembershipFactory,
    PaymentFactory,
    PortalUserFactory,
    ProgramAccountFactory,
    StatementFactory,
    StatementLineFactory,
    UserFactory,
)
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas):
    """Matching rows for both importers, all findable by the word "zephyr" or their numbers."""
    rows = {}
    for tag, importer in (("a", personas.importer_a), ("b", personas.importer_b)):
        account = importer.program_accounts.get()
        rows[tag] = {
            "account": account,
            "entry": BrokerEntryFactory(
                program_account=account,
                transaction_number=f"1234500000000{1 if tag == 'a' else 2}",
            ),
            "payment": PaymentFactory(
                program_account=account, reference=f"ZEPHYR-PAY-{tag.upper()}"
            ),
            "ccp": PortalUserFactory(
                importer=importer,
                full_name=f"Zephyr Person {tag.upper()}",
                email=f"zp@{tag}.example.com",
            ),
        }
    return rows


def kinds_and_labels(user, q):
    return {g.kind: [h.label for h in g.hits] for g in search(q, user)}


def test_an_importers_people_never_see_another_importers_rows(personas, world):
    found = kinds_and_labels(personas.bam_a, "zephyr")
    assert found["payments"] == ["ZEPHYR-PAY-A"]
    assert found["people"] == ["Zephyr Person A"]
    assert kinds_and_labels(personas.bam_a, "Bravo") == {}
    assert kinds_and_labels(personas.bam_a, personas.importer_b.bn9) == {}
    assert kinds_and_labels(personas.bam_a, world["b"]["account"].bn15) == {}
    assert kinds_and_labels(personas.bam_a, "12345000000002") == {}
    assert kinds_and_labels(personas.bam_a, "12345000000001")["transactions"] == [
        "12345000000001 v1"
    ]


@pytest.fixture
def lines(personas):
    """A CAD on each importer's statement, both numbers starting with 98765, and a line that
    carries no number."""
    found = {}
    for tag, importer in (("a", personas.importer_a), ("b", personas.importer_b)):
        statement = StatementFactory(program_account=importer.program_accounts.get())
        found[tag] = StatementLineFactory(
            statement=statement, transaction_number=f"9876500000000{1 if tag == 'a' else 2}"
        )
        StatementLineFactory(statement=statement, line_type="INTEREST", transaction_number="")
    return found


def test_statement_lines_are_found_by_transaction_number_within_the_importer(personas, lines):
    assert kinds_and_labels(personas.bam_a, "98765") == {
        "statement_lines": ["98765000000001 · CAD"]
    }
    assert kinds_and_labels(personas.finance_a, "987 6500 000002") == {}
    assert kinds_and_labels(personas.bam_b, "98765000000001") == {}
    assert kinds_and_labels(personas.employee_a, "98765") == {}  # no finance permission
    assert kinds_and_labels(personas.broker_agent, "98765") == {
        "statement_lines": ["98765000000001 · CAD", "98765000000002 · CAD"]
    }


def test_a_statement_line_hit_opens_its_statement_on_that_line(personas, client_for, lines):
    line = lines["a"]
    [group] = search("98765000000001", personas.bam_a)
    [hit] = group.hits
    assert hit.url == f"/statements/{line.statement_id}/?transaction=98765000000001"
    assert hit.detail == (
        f"Alpha Imports Inc. · {line.statement.program_account.bn15} · 2026-10-25"
    )
    html = client_for(personas.bam_a).get(hit.url).content.decode()
    assert html.count("98765000000001") >= 1
    other = StatementLineFactory(statement=line.statement, transaction_number="11111000000009")
    assert other.transaction_number not in html


def test_another_importers_statement_line_is_not_found_nor_opened(personas, client_for, lines):
    html = (
        client_for(personas.bam_a)
        .get(reverse("site_search:search"), {"q": "98765000000002"})
        .content.decode()
    )
    url = reverse("statements:detail", args=[lines["b"].statement_id])
    assert "Nothing matches “98765000000002”." in html
    assert url not in html
    assert client_for(personas.bam_a).get(url).status_code == 404


def test_an_employee_finds_no_finance_rows(personas, world):
    found = kinds_and_labels(personas.employee_a, "zephyr")
    assert "payments" not in found
    assert found["people"] == ["Zephyr Person A"]
    assert kinds_and_labels(personas.employee_a, "12345000000001") == {}


def test_broker_staff_search_the_whole_portfolio(personas, world):
    found = kinds_and_labels(personas.broker_agent, "zephyr")
    assert found["payments"] == ["ZEPHYR-PAY-A", "ZEPHYR-PAY-B"]
    assert sorted(kinds_and_labels(personas.broker_agent, "imports")["importers"]) == [
        "Alpha Imports Inc."
    ]
    account = world["b"]["account"]
    assert kinds_and_labels(personas.broker_agent, account.bn15)["accounts"] == [account.bn15]


def test_importers_match_by_bn9_typed_any_way(personas):
    bn9 = personas.importer_a.bn9
    found = kinds_and_labels(personas.broker_admin, f"{bn9[:3]} {bn9[3:6]}-{bn9[6:]}")
    assert found["importers"] == ["Alpha Imports Inc."]


def test_members_are_found_by_name_or_address(personas):
    found = kinds_and_labels(personas.broker_admin, "fiona")
    assert found["people"] == ["Fiona Finance"]
    assert kinds_and_labels(personas.bam_b, "fiona") == {}


def test_short_queries_find_nothing(personas, world):
    assert search("z", personas.broker_admin) == []


def test_results_are_limited_per_kind(personas):
    account = personas.importer_a.program_accounts.get()
    for n in range(LIMIT + 3):
        PaymentFactory(program_account=account, reference=f"BULK-{n:03d}")
    [group] = search("bulk", personas.broker_admin)
    assert (len(group.hits), group.more) == (LIMIT, True)


TABLE = [("site_search:search", (200,) * 7)]


@pytest.mark.parametrize(("name", "persona", "expected"), persona_cases(TABLE))
def test_every_persona_may_search(personas, client_for, name, persona, expected):
    response = client_for(personas.all()[persona]).get(reverse(name), {"q": "alpha"})
    assert response.status_code == expected


def test_the_page_is_a_search_form_with_grouped_links(personas, client_for, world):
    html = (
        client_for(personas.bam_a)
        .get(reverse("site_search:search"), {"q": "zephyr"})
        .content.decode()
    )
    assert '<form method="get" class="filters" role="search"' in html
    assert f'href="{world["a"]["payment"].get_absolute_url()}"' in html
    assert "ZEPHYR-PAY-B" not in html


def test_the_header_has_the_search_box(personas, client_for):
    html = client_for(personas.bam_a).get(reverse("home")).content.decode()
    assert 'class="header-search" role="search"' in html


def _populate(count):
    for n in range(count):
        importer = ImporterFactory(legal_name=f"Quasar Trading {n}")
        account = ProgramAccountFactory(importer=importer)
        PaymentFactory(program_account=account, reference=f"QUASAR-{n}")
        PortalUserFactory(
            importer=importer, full_name=f"Quasar Person {n}", ccp_role=PortalUser.CcpRole.BAM
        )
        MembershipFactory(
            user=UserFactory(full_name=f"Quasar Member {n}"),
            importer=importer,
            role=Membership.Role.FINANCE,
        )
        StatementLineFactory(
            statement=StatementFactory(program_account=account),
            transaction_number=f"55555{n:09d}",
        )


def test_constant_queries_between_1_and_50_importers(personas, client_for):
    client = client_for(personas.broker_admin)
    counts = []
    for count in (1, 49):
        _populate(count)
        for q in ("quasar", "55555"):
            client.get(reverse("site_search:search"), {"q": q})
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse("site_search:search"), {"q": q})
            assert response.status_code == 200
            shown = {g.kind: len(g.hits) for g in response.context["groups"]}
            n = min(count, LIMIT)
            assert shown == (
                {"importers": n, "payments": n, "people": min(2 * count, LIMIT)}
                if q == "quasar"
                else {"statement_lines": n}
            )
            counts.append((q, len(queries)))
    assert counts[:2] == counts[2:]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_postgresql_has_the_trigram_indexes_the_search_uses():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search_%%'")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "search_clients_importer_legal_name_trgm",
        "search_clients_portaluser_full_name_trgm",
        "search_carm_portal_user_full_name_trgm",
        "search_payment_reference_trgm",
        "search_brokerentry_txn_prefix",
        "search_statementline_txn_prefix",
        "search_clients_programaccount_bn15_prefix",
    } <= names


def test_a_role_that_may_not_create_pg_trgm_skips_the_indexes_with_a_message(capsys):
    """The migration goes on (returns False, says why and what to do) instead of failing."""

    class Refusing:
        connection = connection

        def execute(self, sql):
            raise ProgrammingError('permission denied to create extension "pg_trgm"')

    if connection.vendor != "postgresql":
        assert trigram.create_extension(Refusing()) is False
        return
    with connection.cursor() as cursor:  # as on a managed database: not there yet
        cursor.execute("DROP EXTENSION IF EXISTS pg_trgm CASCADE")
    trigram.forget()
    try:
        assert trigram.create_extension(Refusing()) is False
        assert "CREATE EXTENSION pg_trgm;" in capsys.readouterr().err
        assert trigram.installed(connection) is False
    finally:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        trigram.forget()


def test_the_search_works_without_pg_trgm(personas, world, monkeypatch):
    """Names still match and are ordered by name when the similarity function is missing."""
    monkeypatch.setattr(trigram, "installed", lambda connection: False)
    found = kinds_and_labels(personas.broker_agent, "zephyr")
    assert found["payments"] == ["ZEPHYR-PAY-A", "ZEPHYR-PAY-B"]
    assert found["people"] == ["Zephyr Person A", "Zephyr Person B"]
