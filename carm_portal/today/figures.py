"""The numbers of the broker's Today view, each read with the rule that owns it.

Every figure is one aggregate query over a slice of the portfolio (``clients.portfolio``), so
the page costs the same number of queries for one importer or ten thousand. Each figure carries
the URL of the worklist behind it, with the same filters, so a number is never a dead end.

- agent: blocking and lapsing delegations, renewals waiting on the importer, stalled
  onboarding, exceptions assigned to me, statements waiting for a reconciliation;
- finance: payments due this week, overdue ones by age and those in arrears, security
  shortfalls and expiring bonds, open exceptions by age with the amount at risk, the
  reconciliation runs finished since yesterday;
- admin: all of that, and each agent's workload.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import Abs, TruncDate
from django.urls import reverse
from django.utils.translation import gettext as _

from carm_portal.calendar import cbsa_zone, start_of_day
from carm_portal.money import ZERO, from_cents, sum_cents
from carm_portal.severity import Severity
from clients import access
from clients.access import Perm
from clients.models import ClientGroup, Importer
from clients.onboarding import stalled_onboarding
from clients.portfolio import AGENT, Portfolio
from delegation.models import DelegationAlert, RenewalRequest
from delegation.rules import Kind as DelegationKind
from delegation.selectors import family_match
from payments.models import PaymentAlert, StatementBalance
from payments.rules import SHORTFALL_KINDS
from payments.rules import Kind as PaymentKind
from statements.due import OVERDUE_AGES, arrears_days, due_soon_days, is_days_late, is_due_soon
from statements.models import Statement
from statements.reconciliation.selectors import (
    amount_at_risk,
    open_exceptions,
    pending_count,
    reconciled_since,
)
from statements.reconciliation_forms import AGE_BUCKETS, exception_age


@dataclass(frozen=True)
class Figure:
    """One number on the page, what it counts, and the worklist that lists it."""

    key: str
    label: str
    count: int
    url: str
    amount: Decimal | None = None
    severity: str = ""  # blocking, warning or "" (the tile's colour)
    note: str = ""


@dataclass(frozen=True)
class Bucket:
    """One age band of a chart: its count, its amount and the worklist of that band."""

    key: str
    label: str
    count: int
    amount: Decimal
    url: str


@dataclass
class Workload:
    """One agent's portfolio and open work."""

    agent: Any
    importers: int
    exceptions: int
    delegation_findings: int
    importers_url: str = ""
    exceptions_url: str = ""
    delegations_url: str = ""


@dataclass
class Today:
    """What one broker staff member sees this morning, for one slice of the portfolio."""

    portfolio: Portfolio
    agent_figures: list[Figure] = field(default_factory=list)
    finance_figures: list[Figure] = field(default_factory=list)
    overdue_ages: list[Bucket] = field(default_factory=list)
    exception_ages: list[Bucket] = field(default_factory=list)
    workload: list[Workload] = field(default_factory=list)


def link(name: str, portfolio: Portfolio, **params: Any) -> str:
    """The worklist ``name`` filtered by ``params`` and the portfolio slice (a bookmarkable URL)."""
    query = {k: v for k, v in params.items() if v not in (None, "")} | portfolio.params
    return f"{reverse(name)}?{urlencode(query)}"


# --- Agent ------------------------------------------------------------------------------------------


def agent_figures(*, user: Any, portfolio: Portfolio, today: dt.date) -> list[Figure]:
    """Delegations, renewals, onboarding, my exceptions, statements to reconcile (5 queries)."""
    alerts = portfolio.apply(
        access.scope(DelegationAlert.objects.filter(resolved_at=None), user)
    ).aggregate(
        blocking=Count("id", filter=Q(severity=Severity.BLOCKING)),
        lapsing=Count("id", filter=family_match(DelegationKind.EXPIRES_SOON)),
    )
    renewals = portfolio.apply(
        access.scope(RenewalRequest.objects.filter(status=RenewalRequest.Status.OPEN), user),
        importer_field="delegation__importer",
    ).count()
    stalled_days = settings.ONBOARDING_STALLED_DAYS
    stalled = stalled_onboarding(
        portfolio.apply(access.visible_importers(user), importer_field="pk"),
        today=today,
        days=stalled_days,
    ).count()
    exceptions = access.scope_for(open_exceptions(), user, Perm.VIEW_FINANCE)
    mine = portfolio.apply(exceptions.filter(assigned_to=user)).count()
    statements = access.scope_for(
        Statement.objects.all(), user, Perm.VIEW_FINANCE, importer_field="program_account__importer"
    )
    pending = pending_count(portfolio.apply(statements, importer_field="program_account__importer"))
    return [
        Figure(
            "blocking_delegations",
            _("Blocking delegation findings"),
            alerts["blocking"],
            link("delegation:alerts", portfolio, severity=Severity.BLOCKING),
            severity="blocking",
        ),
        Figure(
            "lapsing_delegations",
            _("Delegations about to lapse"),
            alerts["lapsing"],
            link("delegation:alerts", portfolio, kind=DelegationKind.EXPIRES_SOON),
            severity="warning",
        ),
        Figure(
            "renewals",
            _("Renewals waiting on the importer"),
            renewals,
            link("delegation:list", portfolio, renewal="open"),
            severity="warning",
        ),
        Figure(
            "stalled",
            _("Onboarding stalled"),
            stalled,
            link("clients:importer_list", portfolio, stalled=stalled_days),
            severity="warning",
            note=_("No step done in %(n)d days") % {"n": stalled_days},
        ),
        Figure(
            "my_exceptions",
            _("Exceptions assigned to me"),
            mine,
            link("statements:worklist", portfolio, assignee="mine"),
        ),
        Figure(
            "to_reconcile",
            _("Statements waiting for reconciliation"),
            pending,
            link("statements:list", portfolio, reconcile="pending"),
        ),
    ]


# --- Finance ----------------------------------------------------------------------------------------


def _balances(user: Any, portfolio: Portfolio):
    """Balances still owing in the slice, through their copies of the importer (no join)."""
    owing = StatementBalance.objects.filter(outstanding__gt=0)
    owing = access.scope_for(owing, user, Perm.VIEW_FINANCE, importer_field="importer")
    return portfolio.apply(owing, importer_field="importer")


# (local day first seen, assignee id or None, exceptions, cents at risk)
ExceptionSubtotal = tuple[dt.date, int | None, int, int]


def open_exception_subtotals(*, user: Any, portfolio: Portfolio) -> list[ExceptionSubtotal]:
    """The open exceptions the user may see in the slice, counted and weighed (by their amount at
    risk, as the worklist weighs them) per day first seen and assignee: a few thousand rows at
    most, from which the age chart and each agent's workload are both added up (one pass over
    the open exceptions instead of two)."""
    exceptions = portfolio.apply(access.scope_for(open_exceptions(), user, Perm.VIEW_FINANCE))
    return [
        (day, assignee, n, int(cents or 0))
        for day, assignee, n, cents in exceptions.order_by()
        .annotate(
            abs_at_risk=Abs(amount_at_risk()), day=TruncDate("first_seen_at", tzinfo=cbsa_zone())
        )
        .values("day", "assigned_to")
        .annotate(n=Count("id"), c=sum_cents("abs_at_risk"))
        .values_list("day", "assigned_to", "n", "c")
    ]


def finance_figures(
    *,
    user: Any,
    portfolio: Portfolio,
    today: dt.date,
    exceptions: list[ExceptionSubtotal] | None = None,
) -> tuple[list[Figure], list[Bucket], list[Bucket]]:
    """Payments, security, exceptions and runs (4 queries), with the two ageing charts."""
    # Count and total per due date (statements share a few due dates: a dozen rows), then the
    # bands over those subtotals in Python, with the rule's Python twin of the worklist's Q.
    per_due_date = list(
        _balances(user, portfolio)
        .order_by()
        .values(due=F("due_date"))
        .annotate(n=Count("pk"), c=sum_cents("outstanding"))
        .values_list("due", "n", "c")
    )
    bands: dict[str, Callable[[dt.date], bool]] = {
        "due": lambda due: is_due_soon(due, today=today),
        "arrears": lambda due: is_days_late(due, today=today, low=arrears_days(), high=None),
    } | {
        f"o{key}": functools.partial(is_days_late, today=today, low=low, high=high)
        for key, (low, high) in OVERDUE_AGES.items()
    }
    owing: dict[str, Any] = {}
    for band, holds in bands.items():
        rows = [(n, cents) for due, n, cents in per_due_date if holds(due)]
        owing[f"{band}_n"] = sum(n for n, _cents in rows)
        owing[f"{band}_c"] = sum((cents or 0 for _n, cents in rows), 0)
    overdue_ages = [
        Bucket(
            key,
            _("%(low)s to %(high)s days") % {"low": low, "high": high}
            if high is not None
            else _("%(low)s days or more") % {"low": low},
            owing[f"o{key}_n"],
            from_cents(owing[f"o{key}_c"]),
            link("payments:worklist", portfolio, list="overdue", age=key),
        )
        for key, (low, high) in OVERDUE_AGES.items()
    ]

    # Only the kinds the figures count: the open-alert index (kind first) then reads those alone.
    security_kinds = [*SHORTFALL_KINDS, PaymentKind.BOND_EXPIRING]
    open_security = PaymentAlert.objects.filter(resolved_at=None, kind__in=security_kinds)
    security = portfolio.apply(access.scope_for(open_security, user, Perm.VIEW_FINANCE)).aggregate(
        short_n=Count("id", filter=Q(kind__in=list(SHORTFALL_KINDS))),
        short_c=sum_cents("amount", filter=Q(kind__in=list(SHORTFALL_KINDS))),
        bonds_n=Count("id", filter=Q(kind=PaymentKind.BOND_EXPIRING)),
    )

    if exceptions is None:
        exceptions = open_exception_subtotals(user=user, portfolio=portfolio)
    ages: dict[str, Any] = defaultdict(int)
    for day, _assignee, n, cents in exceptions:
        key = exception_age(day, today)
        ages[f"e{key}_n"] += n
        ages[f"e{key}_c"] += cents
    exception_ages = [
        Bucket(
            key,
            _("%(low)s to %(high)s days") % {"low": low, "high": high}
            if high is not None
            else _("%(low)s days or more") % {"low": low},
            ages[f"e{key}_n"],
            from_cents(ages[f"e{key}_c"]),
            link("statements:worklist", portfolio, age=key),
        )
        for key, (low, high) in AGE_BUCKETS.items()
    ]

    statements = access.scope_for(
        Statement.objects.all(), user, Perm.VIEW_FINANCE, importer_field="program_account__importer"
    )
    statements = portfolio.apply(statements, importer_field="program_account__importer")
    finished = reconciled_since(statements, yesterday_start(today)).count()

    overdue_n = sum(b.count for b in overdue_ages)
    overdue_c = sum((b.amount for b in overdue_ages), ZERO)
    figures = [
        Figure(
            "due",
            _("Payments due in the next %(n)d days") % {"n": due_soon_days()},
            owing["due_n"],
            link("payments:worklist", portfolio, list="due"),
            amount=from_cents(owing["due_c"]),
            severity="warning",
        ),
        Figure(
            "overdue",
            _("Payments overdue"),
            overdue_n,
            link("payments:worklist", portfolio, list="overdue"),
            amount=overdue_c,
            severity="blocking",
        ),
        Figure(
            "arrears",
            _("In arrears"),
            owing["arrears_n"],
            link("payments:worklist", portfolio, list="overdue", age="arrears"),
            amount=from_cents(owing["arrears_c"]),
            severity="blocking",
            note=_("%(n)d days or more past due") % {"n": arrears_days()},
        ),
        Figure(
            "shortfalls",
            _("Security shortfalls"),
            security["short_n"],
            link("payments:worklist", portfolio, list="security", kind="shortfall"),
            amount=from_cents(security["short_c"]),
            severity="blocking",
        ),
        Figure(
            "bonds_expiring",
            _("Bonds expiring"),
            security["bonds_n"],
            link("payments:worklist", portfolio, list="security", kind=PaymentKind.BOND_EXPIRING),
            severity="warning",
        ),
        Figure(
            "exceptions",
            _("Open reconciliation exceptions"),
            sum(b.count for b in exception_ages),
            link("statements:worklist", portfolio),
            amount=sum((b.amount for b in exception_ages), ZERO),
            note=_("Amount at risk, added up as the worklist adds it"),
        ),
        Figure(
            "runs",
            _("Statements reconciled since yesterday"),
            finished,
            link("statements:list", portfolio, reconciled_since=(today - dt.timedelta(days=1))),
        ),
    ]
    return figures, overdue_ages, exception_ages


def yesterday_start(today: dt.date) -> dt.datetime:
    """Midnight at the start of yesterday, Eastern time (CBSA's day), as an aware datetime."""
    return start_of_day(today - dt.timedelta(days=1))


# --- Admin: each agent's workload ---------------------------------------------------------------


def _group_agents() -> dict[int, set[int]]:
    """client group id -> the agents assigned to it (one query over the small link table)."""
    agents: dict[int, set[int]] = defaultdict(set)
    links = ClientGroup.agents.through.objects.values_list("clientgroup_id", "user_id")
    for group_id, agent_id in links:
        agents[group_id].add(agent_id)
    return agents


def _per_agent(rows: Any, *, importer: str, group_agents: dict[int, set[int]]) -> dict[int, int]:
    """agent id -> rows of the importers the agent looks after, directly or through a client
    group, each row counted once per agent.

    One grouped query: rows per (assigned agent, client group), a few hundred pairs at most
    whatever the portfolio's size; each pair's rows then go to its agent and to its group's
    agents in Python. (Joining the rows to the group-agent link table instead made PostgreSQL
    hash every open finding three times.)"""
    agent_field, group_field = f"{importer}assigned_agent", f"{importer}client_group"
    pairs = (
        rows.order_by()
        .values(agent_field, group_field)
        .annotate(n=Count("pk"))
        .values_list(agent_field, group_field, "n")
    )
    counts: dict[int, int] = defaultdict(int)
    for agent_id, group_id, n in pairs:
        looking_after = set(group_agents.get(group_id, ())) if group_id is not None else set()
        if agent_id is not None:
            looking_after.add(agent_id)
        for who in looking_after:
            counts[who] += n
    return counts


def workload(*, portfolio: Portfolio, exceptions: list[ExceptionSubtotal]) -> list[Workload]:
    """Every agent's importers, exceptions assigned (from ``open_exception_subtotals``) and
    open delegation findings (four queries, whatever the number of agents or importers)."""
    group_agents = _group_agents()
    importers = _per_agent(
        portfolio.apply(Importer.objects.all(), importer_field="pk"),
        importer="",
        group_agents=group_agents,
    )
    findings = _per_agent(
        portfolio.apply(DelegationAlert.objects.filter(resolved_at=None)),
        importer="importer__",
        group_agents=group_agents,
    )
    assigned: dict[int, int] = defaultdict(int)
    for _day, assignee, n, _cents in exceptions:
        if assignee is not None:
            assigned[assignee] += n
    rows = []
    for agent in access.assignable_agents():
        theirs = Portfolio(kind=AGENT, agent=agent)
        rows.append(
            Workload(
                agent=agent,
                importers=importers.get(agent.pk, 0),
                exceptions=assigned.get(agent.pk, 0),
                delegation_findings=findings.get(agent.pk, 0),
                importers_url=link("clients:importer_list", theirs),
                exceptions_url=link("statements:worklist", portfolio, assignee=agent.pk),
                delegations_url=link("delegation:alerts", theirs),
            )
        )
    return rows


def today_for(*, user: Any, portfolio: Portfolio, today: dt.date) -> Today:
    """The sections the user's role calls for (``clients.access`` decides which)."""
    page = Today(portfolio=portfolio)
    finance = access.holds_anywhere(user, Perm.MANAGE_PAYMENTS)
    admin = access.can_global(user, access.GlobalPerm.MANAGE_USERS)
    # Read once for the age chart and the workload (an admin sees every importer's exceptions).
    exceptions = (
        open_exception_subtotals(user=user, portfolio=portfolio) if finance or admin else None
    )
    if access.holds_anywhere(user, Perm.MANAGE_DELEGATION):
        page.agent_figures = agent_figures(user=user, portfolio=portfolio, today=today)
    if finance:
        page.finance_figures, page.overdue_ages, page.exception_ages = finance_figures(
            user=user, portfolio=portfolio, today=today, exceptions=exceptions
        )
    if admin:
        page.workload = workload(portfolio=portfolio, exceptions=exceptions or [])
    return page
