"""The test kit: the fixed personas of style.md, clients signed in as them, persona tables.

Loaded as a pytest plugin by tests/conftest.py, so its fixtures (``personas``, ``client_for``,
``api``, ``api_as``) are available everywhere; import its names (``PERSONAS``, ``persona_cases``,
``by_persona``, ``known_bug``) from ``tests.kit``.

An access table gives one expected status per persona, either as a tuple in ``PERSONAS`` order
(``(200, 200, 403, 200, 200, 403, 404)``) or as a dict over ``PERSONAS``. ``persona_cases`` turns
rows of such a table into ``pytest.param``s, one per (row, persona); a cell written as
``known_bug(200, reason=...)`` is the intended status of a behaviour the app gets wrong today, run
as ``xfail(strict=True)`` so that the fix makes it fail until the mark is removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from carm_portal.models import User
from clients.access import BrokerRole
from clients.models import Importer, Membership
from tests.factories import ImporterFactory, MembershipFactory, ProgramAccountFactory, UserFactory

# Every access table has one column per persona, in this order: broker staff, then importer A's
# people from the most to the least rights, then importer B's BAM (the outsider).
PERSONAS: tuple[str, ...] = (
    "broker_admin",
    "broker_agent",
    "broker_finance",
    "bam_a",
    "finance_a",
    "employee_a",
    "bam_b",
)
BROKER_STAFF = frozenset({"broker_admin", "broker_agent", "broker_finance"})


@dataclass
class Personas:
    """The fixed cast: three broker roles, importer A's BAM, finance member and employee, B's BAM."""

    importer_a: Importer
    importer_b: Importer
    broker_admin: User
    broker_agent: User
    broker_finance: User
    bam_a: User
    finance_a: User
    employee_a: User
    bam_b: User

    def all(self) -> dict[str, User]:
        """persona name -> user, in ``PERSONAS`` order."""
        return {name: getattr(self, name) for name in PERSONAS}


def make_personas() -> Personas:
    importer_a = ImporterFactory(legal_name="Alpha Imports Inc.")
    importer_b = ImporterFactory(legal_name="Bravo Trading Ltd.")
    ProgramAccountFactory(importer=importer_a)
    ProgramAccountFactory(importer=importer_b)
    bam_a = UserFactory(email="bam@alpha.example.com")
    finance_a = UserFactory(email="finance@alpha.example.com", full_name="Fiona Finance")
    employee_a = UserFactory(email="employee@alpha.example.com")
    bam_b = UserFactory(email="bam@bravo.example.com")
    MembershipFactory(user=bam_a, importer=importer_a, role=Membership.Role.BAM)
    MembershipFactory(user=finance_a, importer=importer_a, role=Membership.Role.FINANCE)
    MembershipFactory(user=employee_a, importer=importer_a, role=Membership.Role.EMPLOYEE)
    MembershipFactory(user=bam_b, importer=importer_b, role=Membership.Role.BAM)
    agent = UserFactory(email="agent@broker.example.com", roles=[BrokerRole.AGENT])
    importer_a.assigned_agent = agent
    importer_a.save()
    return Personas(
        importer_a=importer_a,
        importer_b=importer_b,
        broker_admin=UserFactory(email="admin@broker.example.com", roles=[BrokerRole.ADMIN]),
        broker_agent=agent,
        broker_finance=UserFactory(email="finance@broker.example.com", roles=[BrokerRole.FINANCE]),
        bam_a=bam_a,
        finance_a=finance_a,
        employee_a=employee_a,
        bam_b=bam_b,
    )


# --- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def personas(db) -> Personas:
    return make_personas()


@pytest.fixture
def client_for(client):
    """``client_for(user)`` is the test client signed in as that user."""

    def sign_in(user: User):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def api() -> APIClient:
    """An API client signed in as nobody."""
    return APIClient()


@pytest.fixture
def api_as(personas):
    """``api_as("bam_a")`` is a new API client signed in (session) as that persona."""

    def sign_in(persona: str) -> APIClient:
        client = APIClient()
        client.force_login(personas.all()[persona])
        return client

    return sign_in


def bearer(user: User, *, days: int | None = None) -> str:
    """An ``Authorization`` header value with a new personal API token of ``user``."""
    from carm_portal import api_tokens

    _token, raw = api_tokens.issue(user=user, name="test", days=days)
    return f"Bearer {raw}"


# --- Persona tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownBug:
    """The intended status of a cell the app gets wrong today (see ``known_bug``)."""

    status: int
    reason: str


def known_bug(status: int, *, reason: str) -> KnownBug:
    """A table cell: ``status`` is what the access matrix says; the app answers otherwise today."""
    return KnownBug(status, reason)


Cell = int | KnownBug


def by_persona(statuses: Sequence[Cell] | Mapping[str, Cell]) -> dict[str, Cell]:
    """One table row as persona -> status: a tuple in ``PERSONAS`` order, or a dict naming each."""
    if isinstance(statuses, Mapping):
        if set(statuses) != set(PERSONAS):
            raise ValueError(f"a row must name every persona: {sorted(statuses)}")
        return {persona: statuses[persona] for persona in PERSONAS}
    return dict(zip(PERSONAS, statuses, strict=True))


def _param(values: tuple, cell: Cell, ident: str):
    if isinstance(cell, KnownBug):
        mark = pytest.mark.xfail(strict=True, reason=cell.reason)
        return pytest.param(*values, cell.status, id=ident, marks=mark)
    return pytest.param(*values, cell, id=ident)


def persona_cases(rows: Iterable[tuple] | Mapping[object, Sequence[Cell] | Mapping[str, Cell]]):
    """Parametrize rows ``(*key, persona, expected)`` from a persona table.

    ``rows`` is either a list of ``(*key, statuses)`` tuples or a dict ``key -> statuses``;
    ``statuses`` as in ``by_persona``.
    """
    items = rows.items() if isinstance(rows, Mapping) else ((r[:-1], r[-1]) for r in rows)
    cases = []
    for key, statuses in items:
        key = key if isinstance(key, tuple) else (key,)
        for persona, cell in by_persona(statuses).items():
            ident = "-".join([*map(str, key), persona])
            cases.append(_param((*key, persona), cell, ident))
    return cases


def cells(statuses: Mapping[str, Cell]) -> list:
    """``(persona, expected)`` params of one dict row (for a test parametrized by persona only)."""
    return [_param((persona,), cell, persona) for persona, cell in by_persona(statuses).items()]
