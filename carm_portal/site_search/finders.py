"""What the header's search box finds, kind by kind, within what the user may see.

Each kind is one query (``select_related`` for what its result line shows), limited to
``LIMIT + 1`` rows so the page can say "more"; the matching rules are ``clients.search``'s and the
scoping is ``clients.access``'s, so a search never returns a row its page would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from carm_portal.models import User
from clients import access
from clients.access import Perm
from clients.models import Importer, Membership, PortalUser, ProgramAccount
from clients.search import best_first, contains_text, importer_search
from clients.validators import compact_identifier
from payments.models import Payment
from statements.models import BrokerEntry, StatementLine

LIMIT = 10
MIN_LENGTH = 2
MAX_LENGTH = 100


@dataclass
class Hit:
    label: str
    url: str
    detail: str = ""


@dataclass
class Group:
    kind: str
    title: str
    hits: list[Hit] = field(default_factory=list)
    more: bool = False


def _importers(q: str, user: User) -> list[Hit]:
    rows = access.scope(Importer.objects.filter(importer_search(q)), user, importer_field="pk")
    rows = best_first(rows, q, "legal_name", "operating_name")[: LIMIT + 1]
    return [Hit(i.legal_name, i.get_absolute_url(), f"BN {i.bn9}") for i in rows]


def _accounts(q: str, user: User) -> list[Hit]:
    number = compact_identifier(q)
    if len(number) < 9:  # a BN15 begins with the BN9: fewer characters find importers instead
        return []
    rows = access.scope(
        ProgramAccount.objects.filter(bn15__startswith=number).select_related("importer"), user
    ).order_by("bn15")[: LIMIT + 1]
    return [Hit(a.bn15, a.importer.get_absolute_url(), a.importer.legal_name) for a in rows]


def _transaction_prefix(q: str) -> str:
    """The digits of a transaction number typed any way, or "" when ``q`` cannot be one.

    Transaction numbers (14 digits) match by prefix, on the broker's entries and on CBSA's
    statement lines alike; fewer than 5 digits would match nearly every row.
    """
    number = compact_identifier(q)
    return number if len(number) >= 5 and number.isdigit() else ""


def _transactions(q: str, user: User) -> list[Hit]:
    """The broker's declarations (each version) whose number starts with ``q``."""
    number = _transaction_prefix(q)
    if not number:
        return []
    rows = access.scope_for(
        BrokerEntry.objects.filter(transaction_number__startswith=number).select_related(
            "program_account__importer"
        ),
        user,
        Perm.VIEW_FINANCE,
        importer_field="program_account__importer",
    ).order_by("transaction_number", "version")[: LIMIT + 1]
    return [
        Hit(
            f"{e.transaction_number} v{e.version}",
            reverse("statements:importer", args=[e.program_account.importer_id]),
            f"{e.program_account.importer.legal_name} · {e.program_account.bn15}",
        )
        for e in rows
    ]


def _statement_lines(q: str, user: User) -> list[Hit]:
    """CBSA's statement lines (CADs and others) whose number starts with ``q``: a transaction the
    broker never declared is found here only.

    Lines without a number are left out in the query itself, so PostgreSQL's partial index
    (``statements.0011``) serves the prefix match. The link filters the statement's lines to
    that number.
    """
    number = _transaction_prefix(q)
    if not number:
        return []
    importer_field = "statement__program_account__importer"
    rows = access.scope_for(
        StatementLine.objects.exclude(transaction_number="")
        .filter(transaction_number__startswith=number)
        .select_related("statement__program_account__importer"),
        user,
        Perm.VIEW_FINANCE,
        importer_field=importer_field,
    ).order_by("transaction_number", "pk")[: LIMIT + 1]
    hits = []
    for line in rows:
        statement = line.statement
        url = reverse("statements:detail", args=[statement.pk])
        hits.append(
            Hit(
                f"{line.transaction_number} · {line.get_line_type_display()}",
                f"{url}?{urlencode({'transaction': line.transaction_number})}",
                f"{statement.program_account.importer.legal_name} · "
                f"{statement.program_account.bn15} · {statement.statement_date.isoformat()}",
            )
        )
    return hits


def _payments(q: str, user: User) -> list[Hit]:
    rows = access.scope_for(
        Payment.objects.filter(contains_text(q, "reference")).select_related("importer"),
        user,
        Perm.VIEW_FINANCE,
    )
    rows = best_first(rows, q, "reference")[: LIMIT + 1]
    return [
        Hit(p.reference, p.get_absolute_url(), f"{p.importer.legal_name} · {p.paid_on:%Y-%m-%d}")
        for p in rows
    ]


def _people(q: str, user: User) -> list[Hit]:
    """The importer's CCP people and the members who sign in here, by name or address."""
    ccp = access.scope(
        PortalUser.objects.filter(contains_text(q, "full_name", "email")).select_related(
            "importer"
        ),
        user,
    )
    members = access.scope(
        Membership.objects.filter(
            contains_text(q, "user__full_name", "user__email")
        ).select_related("user", "importer"),
        user,
    )
    hits = [
        Hit(p.full_name, p.importer.get_absolute_url(), f"{p.importer.legal_name} · {p.email}")
        for p in best_first(ccp, q, "full_name", "email")[: LIMIT + 1]
    ]
    hits += [
        Hit(
            m.user.get_full_name(),
            m.importer.get_absolute_url(),
            f"{m.importer.legal_name} · {m.get_role_display()}",
        )
        for m in best_first(members, q, "user__full_name", "user__email")[: LIMIT + 1]
    ]
    return hits


FINDERS: list[tuple[str, object, Callable[[str, User], list[Hit]]]] = [
    ("importers", _("Importers"), _importers),
    ("accounts", _("Program accounts (BN15)"), _accounts),
    ("transactions", _("Transactions"), _transactions),
    ("statement_lines", _("Statement lines"), _statement_lines),
    ("payments", _("Payments"), _payments),
    ("people", _("People"), _people),
]


def search(q: str, user: User) -> list[Group]:
    """Every kind's matches for ``q`` (empty when ``q`` is too short), kinds with none left out."""
    q = q.strip()[:MAX_LENGTH]
    if len(q) < MIN_LENGTH:
        return []
    groups = []
    for kind, title, finder in FINDERS:
        hits = finder(q, user)
        if hits:
            groups.append(Group(kind, str(title), hits[:LIMIT], more=len(hits) > LIMIT))
    return groups
