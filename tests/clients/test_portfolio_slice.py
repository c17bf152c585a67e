"""A portfolio slice builds its importer subquery once and applies it to many querysets (Today
applies one slice to a dozen), with the same SQL and rows as a slice built afresh each time."""

from __future__ import annotations

import pytest

from clients.models import Importer, ProgramAccount
from clients.portfolio import AGENT, MINE, Portfolio
from delegation.models import Delegation
from tests.factories import ClientGroupFactory, DelegationFactory, ImporterFactory


@pytest.fixture
def agents_clients(personas):
    """The agent's importers: one assigned directly, one through a client group; and one not."""
    agent = personas.broker_agent
    direct = ImporterFactory(assigned_agent=agent)
    group = ClientGroupFactory()
    group.agents.add(agent)
    through_group = ImporterFactory(client_group=group)
    other = ImporterFactory()
    for importer in (direct, through_group, other):
        DelegationFactory(importer=importer)
    # The rule worked out in Python over every importer (the personas bring their own too).
    groups = set(agent.client_groups.values_list("pk", flat=True))
    theirs = {
        i.pk
        for i in Importer.objects.all()
        if i.assigned_agent_id == agent.pk or i.client_group_id in groups
    }
    assert {direct.pk, through_group.pk} <= theirs
    assert other.pk not in theirs
    return agent, theirs


def with_theirs(rows, theirs: set[int]) -> set[int]:
    return {row.pk for row in rows if row.importer_id in theirs}


def sql(queryset) -> str:
    query, params = queryset.query.sql_with_params()
    return query % tuple(repr(p) for p in params)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [MINE, AGENT])
def test_one_slice_applied_many_times_matches_fresh_slices(agents_clients, kind):
    agent, theirs = agents_clients
    shared = Portfolio(kind=kind, agent=agent)
    for _ in range(2):  # the second round reuses the subquery the first built
        importers = shared.apply(Importer.objects.all(), importer_field="pk")
        delegations = shared.apply(Delegation.objects.all())
        accounts = shared.apply(ProgramAccount.objects.all())
        q_filtered = Delegation.objects.filter(shared.q())

        assert sql(importers) == sql(
            Portfolio(kind=kind, agent=agent).apply(Importer.objects.all(), importer_field="pk")
        )
        assert sql(delegations) == sql(
            Portfolio(kind=kind, agent=agent).apply(Delegation.objects.all())
        )
        assert {i.pk for i in importers} == theirs
        assert {d.pk for d in delegations} == with_theirs(Delegation.objects.all(), theirs)
        assert {d.pk for d in q_filtered} == with_theirs(Delegation.objects.all(), theirs)
        assert {a.pk for a in accounts} == with_theirs(ProgramAccount.objects.all(), theirs)

    # Built once, and never run on its own: each filter copies it into its own SQL.
    assert shared._importer_ids is shared._importer_ids
    assert shared._importer_ids._result_cache is None


@pytest.mark.django_db
def test_the_whole_portfolio_is_not_filtered(agents_clients):
    everything = Portfolio()
    assert everything._importer_ids is None
    assert sql(everything.apply(Delegation.objects.all())) == sql(Delegation.objects.all())
    assert everything.q() == everything.q().__class__()
