"""clients.search.importer_search: the one rule behind every search box (pages and API)."""

from __future__ import annotations

import pytest

from clients.models import Importer
from clients.search import importer_search
from delegation.models import Delegation
from statements.models import Statement
from tests.factories import (
    DelegationFactory,
    ImporterFactory,
    ProgramAccountFactory,
    StatementFactory,
)


@pytest.fixture
def acme(db):
    importer = ImporterFactory(legal_name="Acme Imports Inc.", operating_name="Roadrunner Goods")
    first = ProgramAccountFactory(importer=importer, bn15=f"{importer.bn9}RM0001")
    second = ProgramAccountFactory(importer=importer, bn15=f"{importer.bn9}RM0002")
    ImporterFactory(legal_name="Other Ltd.")
    return importer, first, second


def dashed(bn9: str) -> str:
    return f"{bn9[:3]} {bn9[3:6]}-{bn9[6:]}"


def matching_importers(q: str) -> list[Importer]:
    return list(Importer.objects.filter(importer_search(q)))


@pytest.mark.parametrize("typed", ["acme", "ROADRUNNER", " Imports "])
def test_matches_legal_or_operating_name_in_any_case(acme, typed):
    assert matching_importers(typed) == [acme[0]]


def test_matches_a_bn9_or_bn15_typed_with_spaces_and_dashes(acme):
    importer = acme[0]

    assert matching_importers(dashed(importer.bn9)) == [importer]
    assert matching_importers(f"{dashed(importer.bn9)}-rm-0002") == [importer]
    assert matching_importers(importer.bn9[:5]) == [importer]


def test_a_number_matches_from_its_start_only(acme):
    """A fragment from the middle of a number ("RM0001", the BN9's last digits) is not a search
    for an importer: it would match most of the portfolio. The importer list page searched BN15s
    by "contains" and the API BN9s and BN15s by "contains"; every box now matches from the start."""
    importer, _, _ = acme

    assert matching_importers("RM0001") == []
    assert matching_importers(importer.bn9[4:]) == []


def test_with_an_account_a_bn15_narrows_to_that_accounts_rows(acme):
    importer, first, second = acme
    on_first = StatementFactory(program_account=first)
    StatementFactory(program_account=second)
    search = importer_search(
        f"{importer.bn9}rm0001", importer="program_account__importer__", account="program_account__"
    )

    assert list(Statement.objects.filter(search)) == [on_first]


def test_without_an_account_any_of_the_importers_numbers_matches(acme):
    importer, _, second = acme
    delegation = DelegationFactory(importer=importer)
    DelegationFactory(importer=Importer.objects.get(legal_name="Other Ltd."))

    by_bn15 = importer_search(second.bn15, importer="importer__")
    by_bn9 = importer_search(dashed(importer.bn9), importer="importer__")

    assert list(Delegation.objects.filter(by_bn15)) == [delegation]
    assert list(Delegation.objects.filter(by_bn9)) == [delegation]


def test_delegations_page_finds_a_bn9_typed_with_dashes(personas, client_for):
    """The delegations page kept dashes in a typed BN9 and found nothing; it uses the shared rule."""
    delegation = DelegationFactory(importer=personas.importer_b)
    DelegationFactory(importer=personas.importer_a)

    response = client_for(personas.broker_agent).get(
        "/delegations/", {"q": dashed(personas.importer_b.bn9)}
    )

    assert response.status_code == 200
    assert list(response.context["delegations"]) == [delegation]
