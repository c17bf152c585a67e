"""Demo statements: a few months for a few importers, the realistic differences, idempotent."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db.models import Count

from carm_portal.money import from_cents, sum_cents
from statements.demo import issue_dates, seed_statements
from statements.models import BrokerEntry, ImportBatch, Statement, StatementLine
from tests.factories import ImporterFactory, ProgramAccountFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def importers():
    importers = [ImporterFactory() for _ in range(3)]
    for importer in importers:
        ProgramAccountFactory(importer=importer)
    return importers


@pytest.fixture
def seeded(importers, settings):
    settings.BROKER_ASECS = ["12345"]
    from clients.access import BrokerRole

    by = UserFactory(roles=[BrokerRole.FINANCE])
    return seed_statements(importers=importers, by=by, today=TODAY)


@pytest.mark.parametrize(
    ("today", "dates"),
    [
        (dt.date(2026, 11, 23), ["2026-08-25", "2026-09-25", "2026-10-25"]),
        (dt.date(2026, 11, 25), ["2026-09-25", "2026-10-25", "2026-11-25"]),
        (dt.date(2027, 1, 10), ["2026-10-25", "2026-11-25", "2026-12-25"]),
    ],
)
def test_issue_dates_are_the_last_three_25ths(today, dates):
    assert [d.isoformat() for d in issue_dates(today)] == dates


def test_three_months_for_each_importer(seeded, importers):
    assert seeded.refused == []
    assert Statement.objects.count() == 9
    per_account = Statement.objects.values("program_account").annotate(n=Count("pk"))
    assert {row["n"] for row in per_account} == {3}


def test_each_statement_balances_and_opens_with_the_last_closing(seeded):
    for account in Statement.objects.values_list("program_account", flat=True).distinct():
        statements = list(
            Statement.objects.filter(program_account=account).order_by("statement_date")
        )
        for earlier, later in itertools.pairwise(statements):
            assert later.opening_balance == earlier.closing_balance
        for statement in statements:
            total = statement.lines.exclude(line_type="OPENING_BALANCE").aggregate(
                t=sum_cents("amount")
            )
            assert statement.opening_balance + from_cents(total["t"]) == statement.closing_balance


def test_another_brokers_cad_is_on_a_statement(seeded):
    lines = StatementLine.objects.filter(line_type="CAD").exclude(
        transaction_number__startswith="12345"
    )
    assert lines.exists()
    assert {line.transaction_number[:5] for line in lines} == {"54321"}
    assert not BrokerEntry.objects.filter(
        transaction_number__in=[line.transaction_number for line in lines]
    ).exists()


def test_another_brokers_asec_is_never_ours(importers, settings):
    settings.BROKER_ASECS = ["12345", "54321"]

    seed_statements(importers=importers, by=None, today=TODAY)

    others = StatementLine.objects.filter(line_type="CAD").exclude(
        transaction_number__startswith="12345"
    )
    assert {line.transaction_number[:5] for line in others} == {"67890"}


def test_amended_cads_have_two_versions_and_the_statement_charges_the_latest(seeded, importers):
    account = importers[0].program_accounts.get()
    # Amendments in the open period (no statement issued yet) depend on the random month plan.
    last_stated = Statement.objects.filter(program_account=account).latest("statement_date")
    amended = BrokerEntry.objects.filter(
        program_account=account, version=2, accounted_on__lte=last_stated.period_end
    )
    assert amended.count() == 3
    for v2 in amended:
        v1 = BrokerEntry.objects.get(
            program_account=account, transaction_number=v2.transaction_number, version=1
        )
        assert v2.amount == v1.amount + Decimal("15.00")
        charged = StatementLine.objects.get(
            statement__program_account=account, transaction_number=v2.transaction_number
        )
        assert charged.amount == v2.amount


def test_an_amendment_after_the_17th_belongs_to_the_next_period(seeded, importers):
    account = importers[1].program_accounts.get()
    for v2 in BrokerEntry.objects.filter(program_account=account, version=2):
        statement = Statement.objects.get(
            program_account=account, lines__transaction_number=v2.transaction_number
        )
        assert v2.accounted_on == statement.period_end + dt.timedelta(days=1)
        line = statement.lines.get(transaction_number=v2.transaction_number)
        v1 = BrokerEntry.objects.get(
            program_account=account, transaction_number=v2.transaction_number, version=1
        )
        assert line.amount == v1.amount != v2.amount


def test_interest_penalty_and_a_duplicate_charge(seeded, importers):
    second, third = (i.program_accounts.get() for i in importers[1:])
    assert (
        StatementLine.objects.filter(
            statement__program_account=second, line_type="INTEREST"
        ).count()
        == 3
    )
    assert (
        StatementLine.objects.filter(statement__program_account=second, line_type="PENALTY").count()
        == 3
    )
    twice = (
        StatementLine.objects.filter(statement__program_account=third, line_type="CAD")
        .values("statement", "transaction_number")
        .annotate(n=Count("pk"))
        .filter(n=2)
    )
    assert twice.count() == 3


def test_statements_are_paid_but_one_importers_latest(seeded, importers):
    unpaid = Statement.objects.exclude(status="paid")
    assert [(s.program_account.importer, s.statement_date) for s in unpaid] == [
        (importers[1], dt.date(2026, 10, 25))
    ]


def test_a_refused_file_shows_the_error_table(seeded):
    refused = ImportBatch.objects.get(status="refused")
    assert [e["column"] for e in refused.errors] == [
        "transaction_number",
        "amount",
        "gst",
        "posted_on",
        "amount",
        "account_number",
        "amount",
    ]
    assert refused.unknown_accounts[0]["bn15"].endswith("RM0009")


def test_seeding_twice_changes_nothing(seeded, importers):
    counts = (
        Statement.objects.count(),
        StatementLine.objects.count(),
        BrokerEntry.objects.count(),
        ImportBatch.objects.count(),
        Statement.history.count(),
    )

    again = seed_statements(importers=importers, by=None, today=TODAY)

    assert again.imported == 0
    assert (
        Statement.objects.count(),
        StatementLine.objects.count(),
        BrokerEntry.objects.count(),
        ImportBatch.objects.count(),
        Statement.history.count(),
    ) == counts


def test_next_month_adds_the_new_statement_only(seeded, importers):
    again = seed_statements(importers=importers, by=None, today=dt.date(2026, 11, 26))

    assert again.refused == []
    assert Statement.objects.count() == 12


def test_the_demo_statements_state_their_closing_balance_and_balance(seeded):
    from statements import balance

    statements = Statement.objects.all()

    assert statements.exists() and not statements.filter(stated_closing_balance=None).exists()
    assert list(balance.differing(statements)) == []
