"""The broker's Today view: per role, per slice of the portfolio, linked to its worklists."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carm_portal.today.charts import age_chart, coordinate
from carm_portal.today.figures import Bucket, today_for
from clients import access
from clients.access import BrokerRole
from clients.models import Importer
from clients.portfolio import Portfolio, portfolio_from
from delegation.models import DelegationAlert, RenewalRequest
from payments.models import PaymentAlert, StatementBalance
from tests.factories import (
    ClientGroupFactory,
    DelegationFactory,
    ImporterFactory,
    ProgramAccountFactory,
    ReconciliationItemFactory,
    ReconciliationRunFactory,
    StatementFactory,
    UserFactory,
)
from tests.kit import persona_cases

TODAY = dt.date(2026, 12, 7)  # a Monday
NOW = dt.datetime(2026, 12, 7, 14, 0, tzinfo=dt.UTC)
HOME = reverse("home")
_days = itertools.count(300)


def other_day() -> dt.date:
    """A statement date no other statement of the test uses (one statement per account and day)."""
    return TODAY - dt.timedelta(days=next(_days))


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def owing(importer, *, days_late: int, outstanding: str):
    """A statement of ``importer`` due ``days_late`` days ago (negative: due later), owing."""
    account = importer.program_accounts.first() or ProgramAccountFactory(importer=importer)
    statement = StatementFactory(
        program_account=account,
        statement_date=TODAY - dt.timedelta(days=days_late + 20),
        due_date=TODAY - dt.timedelta(days=days_late),
        closing_balance=Decimal(outstanding),
    )
    StatementBalance.objects.create(
        statement=statement,
        importer=importer,
        due_date=statement.due_date,
        billed=Decimal(outstanding),
        outstanding=Decimal(outstanding),
        computed_at=timezone.now(),
    )
    return statement


def delegation_alert(importer, *, kind: str, severity: str, n: int = 0):
    delegation = DelegationFactory(importer=importer)
    return DelegationAlert.objects.create(
        importer=importer,
        delegation=delegation,
        kind=kind,
        severity=severity,
        message="Finding.",
        key=f"{kind}:{delegation.pk}:{n}",
        raised_on=TODAY,
        raised_at=NOW,
    )


def security_alert(importer, *, kind: str, amount: str):
    account = importer.program_accounts.first()
    return PaymentAlert.objects.create(
        importer=importer,
        program_account=account,
        kind=kind,
        severity="blocking",
        message="Security.",
        key=f"{kind}:{account.pk}",
        amount=Decimal(amount),
        raised_on=TODAY,
        raised_at=NOW,
    )


def exception(importer, *, difference: str, days_old: int, assigned_to=None):
    run = ReconciliationRunFactory(
        statement=StatementFactory(
            program_account=importer.program_accounts.first(), statement_date=other_day()
        ),
        finished_at=NOW - dt.timedelta(days=days_old),
    )
    return ReconciliationItemFactory(
        run=run,
        difference=Decimal(difference),
        assigned_to=assigned_to,
        first_seen_at=NOW - dt.timedelta(days=days_old),
    )


def figures_of(page):
    return {f.key: f for f in page.agent_figures + page.finance_figures}


# --- Who sees what ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, persona, expected",
    persona_cases(
        [
            ("/", (200, 200, 200, 200, 200, 200, 200)),
            ("/clients/onboarding/", (200, 200, 200, 403, 403, 403, 403)),
            ("/payments/forecast/", (200, 403, 200, 403, 403, 403, 403)),
        ]
    ),
)
def test_each_page_for_each_persona(personas, client_for, url, persona, expected):
    response = client_for(personas.all()[persona]).get(url)

    assert response.status_code == expected


@pytest.mark.django_db
def test_broker_home_is_today_and_importer_home_stays(personas, client_for):
    broker = client_for(personas.broker_finance).get(HOME)
    assert broker.templates[0].name == "today/today.html"

    importer = client_for(personas.bam_a).get(HOME)
    assert importer.templates[0].name == "clients/importer_home.html"


@pytest.mark.django_db
def test_each_role_gets_its_sections(personas):
    agent = today_for(user=personas.broker_agent, portfolio=Portfolio(), today=TODAY)
    finance = today_for(user=personas.broker_finance, portfolio=Portfolio(), today=TODAY)
    admin = today_for(user=personas.broker_admin, portfolio=Portfolio(), today=TODAY)

    assert (bool(agent.agent_figures), bool(agent.finance_figures), bool(agent.workload)) == (
        True,
        False,
        False,
    )
    assert (bool(finance.agent_figures), bool(finance.finance_figures), finance.workload) == (
        False,
        True,
        [],
    )
    assert bool(admin.agent_figures) and bool(admin.finance_figures)
    assert {row.agent for row in admin.workload} == {personas.broker_admin, personas.broker_agent}


@pytest.mark.django_db
def test_an_agent_starts_with_their_clients_and_finance_with_all(personas):
    agent = portfolio_from({}, user=personas.broker_agent, default="mine")
    assert (agent.kind, agent.agent) == ("mine", personas.broker_agent)
    assert portfolio_from({"show": "all"}, user=personas.broker_agent, default="mine").is_all
    assert portfolio_from({}, user=personas.bam_a, default="mine").is_all  # scoped by access


# --- The numbers ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_finance_figures_count_and_add_up(personas):
    a, b = personas.importer_a, personas.importer_b
    owing(a, days_late=-3, outstanding="100.00")  # due in 3 days
    owing(a, days_late=10, outstanding="2203.83")
    owing(b, days_late=45, outstanding="1000.00")
    owing(b, days_late=95, outstanding="50.00")
    owing(a, days_late=-30, outstanding="999.00")  # not due this week
    security_alert(a, kind="security_insufficient", amount="1500.00")
    security_alert(b, kind="bond_expiring", amount="5000.00")
    exception(a, difference="-40.00", days_old=2)
    exception(b, difference="12.50", days_old=40)

    page = today_for(user=personas.broker_finance, portfolio=Portfolio(), today=TODAY)
    figures = figures_of(page)

    assert (figures["due"].count, figures["due"].amount) == (1, Decimal("100.00"))
    assert (figures["overdue"].count, figures["overdue"].amount) == (3, Decimal("3253.83"))
    assert (figures["arrears"].count, figures["arrears"].amount) == (2, Decimal("1050.00"))
    assert (figures["shortfalls"].count, figures["shortfalls"].amount) == (1, Decimal("1500.00"))
    assert figures["bonds_expiring"].count == 1
    assert (figures["exceptions"].count, figures["exceptions"].amount) == (2, Decimal("52.50"))
    assert [(b.key, b.count, b.amount) for b in page.overdue_ages] == [
        ("1-29", 1, Decimal("2203.83")),
        ("30-59", 1, Decimal("1000.00")),
        ("60-89", 0, Decimal("0.00")),
        ("90+", 1, Decimal("50.00")),
    ]
    assert [(b.key, b.count, b.amount) for b in page.exception_ages] == [
        ("0-7", 1, Decimal("40.00")),
        ("8-30", 0, Decimal("0.00")),
        ("31-60", 1, Decimal("12.50")),
        ("61+", 0, Decimal("0.00")),
    ]


@pytest.mark.django_db
def test_a_line_charged_twice_weighs_its_amount_as_on_the_worklist(personas):
    """Each line charged twice matches our entry (a difference of 0.00) yet risks its amount."""
    for _n in range(2):
        item = exception(personas.importer_a, difference="0.00", days_old=2)
        item.status = "duplicate"
        item.statement_amount = item.entry_amount = Decimal("57.30")
        item.save()
    exception(personas.importer_b, difference="-40.00", days_old=2)

    page = today_for(user=personas.broker_finance, portfolio=Portfolio(), today=TODAY)

    assert figures_of(page)["exceptions"].amount == Decimal("154.60")  # 57.30 twice, and 40.00
    assert page.exception_ages[0].amount == Decimal("154.60")


@pytest.mark.django_db
def test_agent_figures_count_their_clients(personas):
    a, b = personas.importer_a, personas.importer_b  # a is the agent's
    delegation_alert(a, kind="expired", severity="blocking")
    delegation_alert(b, kind="expired", severity="blocking")
    delegation_alert(a, kind="expires_within_30", severity="warning")
    RenewalRequest.objects.create(
        delegation=DelegationFactory(importer=a), requested_expiry_date=dt.date(2027, 12, 31)
    )
    exception(a, difference="5.00", days_old=1, assigned_to=personas.broker_agent)
    exception(a, difference="5.00", days_old=1)
    StatementFactory(program_account=a.program_accounts.first(), statement_date=other_day())

    mine = today_for(
        user=personas.broker_agent,
        portfolio=portfolio_from({"mine": "1"}, user=personas.broker_agent),
        today=TODAY,
    )
    everyone = today_for(
        user=personas.broker_agent,
        portfolio=portfolio_from({"show": "all"}, user=personas.broker_agent),
        today=TODAY,
    )

    counts = {k: f.count for k, f in figures_of(mine).items()}
    assert counts == {
        "blocking_delegations": 1,
        "lapsing_delegations": 1,
        "renewals": 1,
        "stalled": 0,
        "my_exceptions": 1,
        "to_reconcile": 1,
    }
    assert figures_of(everyone)["blocking_delegations"].count == 2


@pytest.mark.django_db
def test_a_client_group_limits_every_figure(personas):
    group = ClientGroupFactory(name="Ontario")
    personas.importer_b.client_group = group
    personas.importer_b.save()
    owing(personas.importer_a, days_late=10, outstanding="10.00")
    owing(personas.importer_b, days_late=10, outstanding="20.00")

    page = today_for(
        user=personas.broker_admin,
        portfolio=portfolio_from({"group": str(group.pk)}, user=personas.broker_admin),
        today=TODAY,
    )

    assert figures_of(page)["overdue"].amount == Decimal("20.00")
    assert f"group={group.pk}" in figures_of(page)["overdue"].url


@pytest.mark.django_db
def test_workload_counts_group_clients_once(personas):
    agent = personas.broker_agent
    group = ClientGroupFactory(name="West")
    colleague = UserFactory(roles=[BrokerRole.AGENT])
    group.agents.add(agent, colleague)
    personas.importer_a.client_group = group  # assigned directly and through the group
    personas.importer_a.save()
    personas.importer_b.client_group = group
    personas.importer_b.save()
    exception(personas.importer_b, difference="1.00", days_old=1, assigned_to=agent)
    delegation_alert(personas.importer_a, kind="expired", severity="blocking")

    rows = {
        r.agent: r
        for r in today_for(user=personas.broker_admin, portfolio=Portfolio(), today=TODAY).workload
    }

    assert (rows[agent].importers, rows[agent].exceptions, rows[agent].delegation_findings) == (
        2,
        1,
        1,
    )
    assert (rows[personas.broker_admin].importers, rows[personas.broker_admin].exceptions) == (0, 0)
    # Through the group alone: both importers and their finding, none of the exceptions.
    assert (
        rows[colleague].importers,
        rows[colleague].exceptions,
        rows[colleague].delegation_findings,
    ) == (2, 0, 1)
    # The same count as the client list filtered to each agent (the page the number links to).
    for who in (agent, colleague):
        listed = Importer.objects.filter(access.my_clients_filter(who)).distinct().count()
        assert rows[who].importers == listed


# --- Every number links to its worklist -------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_link_to_lists_of_the_same_rows(personas, client_for):
    a, b = personas.importer_a, personas.importer_b
    owing(a, days_late=10, outstanding="10.00")
    owing(b, days_late=45, outstanding="20.00")
    owing(b, days_late=50, outstanding="30.00")
    exception(a, difference="3.00", days_old=40)
    security_alert(b, kind="security_insufficient", amount="1.00")
    delegation_alert(a, kind="expired", severity="blocking")
    client = client_for(personas.broker_admin)
    page = today_for(user=personas.broker_admin, portfolio=Portfolio(), today=TODAY)
    buckets = {b.key: b for b in page.overdue_ages}
    figures = figures_of(page)

    arrears = client.get(figures["arrears"].url)
    thirty = client.get(buckets["30-59"].url)
    shortfalls = client.get(figures["shortfalls"].url)
    blocking = client.get(figures["blocking_delegations"].url)
    old_exceptions = client.get(page.exception_ages[2].url)

    assert [x.statement.program_account.importer for x in arrears.context["items"]] == [b, b]
    assert len(thirty.context["items"]) == buckets["30-59"].count == 2
    assert [x.kind for x in shortfalls.context["items"]] == ["security_insufficient"]
    assert len(blocking.context["alerts"]) == figures["blocking_delegations"].count == 1
    assert len(old_exceptions.context["items"]) == page.exception_ages[2].count == 1


@pytest.mark.django_db
def test_the_group_filter_is_kept_in_the_worklist_url(personas, client_for):
    group = ClientGroupFactory(name="Quebec")
    personas.importer_b.client_group = group
    personas.importer_b.save()
    owing(personas.importer_a, days_late=10, outstanding="10.00")
    owing(personas.importer_b, days_late=10, outstanding="20.00")

    response = client_for(personas.broker_finance).get(
        reverse("payments:worklist"), {"list": "overdue", "group": group.pk}
    )

    assert [x.statement.program_account.importer for x in response.context["items"]] == [
        personas.importer_b
    ]


# --- The page: constant queries, charts that survive French -----------------------------------------


def _portfolio(n: int) -> None:
    for i in range(n):
        importer = ImporterFactory()
        ProgramAccountFactory(importer=importer)
        owing(importer, days_late=5 + i, outstanding="10.00")
        delegation_alert(importer, kind="expired", severity="blocking", n=i)
        exception(importer, difference="1.00", days_old=i % 70)


@pytest.mark.django_db
def test_today_costs_the_same_queries_for_1_and_50_importers(personas, client_for):
    client = client_for(personas.broker_admin)
    _portfolio(1)
    client.get(HOME)  # warm the per-process caches (sessions, content types)
    with CaptureQueriesContext(connection) as one:
        small = client.get(HOME)
    _portfolio(49)
    with CaptureQueriesContext(connection) as fifty:
        large = client.get(HOME)

    assert (small.status_code, large.status_code) == (200, 200)
    assert figures_of(small.context["page"])["overdue"].count == 1
    assert figures_of(large.context["page"])["overdue"].count == 50
    assert len(one.captured_queries) == len(fifty.captured_queries)


@pytest.mark.django_db
def test_chart_coordinates_never_use_a_decimal_comma(personas, client_for):
    owing(personas.importer_a, days_late=10, outstanding="2203.83")
    owing(personas.importer_a, days_late=40, outstanding="1000.01")
    client = client_for(personas.broker_finance)
    client.post(reverse("set_language"), {"language": "fr", "next": HOME})

    html = client.get(HOME).content.decode()

    widths = re.findall(
        r'<rect class="recon-chart__bar[^"]*" x="[^"]*" y="([^"]*)" width="([^"]*)"', html
    )
    assert widths and all("," not in y + w for y, w in widths)
    assert "2 203,83" in html.replace("\u00a0", " ").replace("\u202f", " ")  # amounts in French


def test_chart_bars_are_proportional_to_amounts():
    buckets = [
        Bucket("a", "A", 1, Decimal("100.00"), "/a"),
        Bucket("b", "B", 1, Decimal("25.00"), "/b"),
        Bucket("c", "C", 0, Decimal("0.00"), "/c"),
    ]

    chart = age_chart(buckets)

    assert [bar.width for bar in chart.bars] == ["360.0", "90.0", "0.0"]
    assert coordinate(Decimal("12.25")) == "12.3"


@pytest.mark.django_db
def test_exception_ages_banded_in_python_match_the_worklists_filter(personas):
    """Today bands exceptions by their local day first seen in Python; the worklist filters the
    same bands in SQL. Exceptions first seen at every edge, late in the evening Eastern time (the
    next day in UTC), land in the same band both ways."""
    from statements.reconciliation.selectors import open_exceptions
    from statements.reconciliation_forms import exception_age_q

    evening = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(23, 30)))  # Eastern time
    for days_old in (0, 1, 7, 8, 30, 31, 60, 61, 90):
        item = exception(personas.importer_a, difference="-2.50", days_old=days_old)
        item.first_seen_at = evening - dt.timedelta(days=days_old)
        item.save(update_fields=["first_seen_at"])
    with time_machine.travel(evening, tick=False):
        page = today_for(user=personas.broker_admin, portfolio=Portfolio(), today=TODAY)
    for bucket in page.exception_ages:
        listed = open_exceptions().filter(exception_age_q(bucket.key, TODAY))
        assert bucket.count == listed.count() > 0
        assert bucket.amount == Decimal("2.50") * bucket.count


@pytest.mark.django_db
def test_exception_age_bands_turn_at_eastern_midnight(personas):
    """The worklist's bands are ranges of instants between Eastern midnights (so the open
    exceptions' index serves them): an exception first seen at midnight Eastern starts that
    day's age, one a microsecond earlier is a day older, in SQL as in Python, whatever the
    server's time zone. Each edge of every band is checked."""
    from statements.reconciliation.selectors import open_exceptions
    from statements.reconciliation_forms import AGE_BUCKETS, exception_age, exception_age_q

    eastern = ZoneInfo("America/Toronto")
    for days_old in (0, 7, 8, 30, 31, 60, 61):
        day = TODAY - dt.timedelta(days=days_old)
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=eastern)
        for first_seen in (midnight, midnight - dt.timedelta(microseconds=1)):
            item = exception(personas.importer_a, difference="-1.00", days_old=days_old)
            item.first_seen_at = first_seen
            item.save(update_fields=["first_seen_at"])
    with timezone.override("UTC"):
        for key in AGE_BUCKETS:
            listed = open_exceptions().filter(exception_age_q(key, TODAY))
            seen_on = [i.first_seen_at.astimezone(eastern).date() for i in listed]
            expected = [
                i
                for i in open_exceptions()
                if exception_age(i.first_seen_at.astimezone(eastern).date(), TODAY) == key
            ]
            assert sorted(i.pk for i in listed) == sorted(i.pk for i in expected)
            assert all(exception_age(day, TODAY) == key for day in seen_on)
    # 0 to 7 days: today's midnight, the microsecond before it (a day old) and the midnight 7 days
    # ago; the microsecond before that is 8 days old.
    assert open_exceptions().filter(exception_age_q("0-7", TODAY)).count() == 3
