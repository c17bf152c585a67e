"""What the search boxes match: one rule for an importer typed by name or business number.

Every list that takes a ``q`` (importers, delegations, payments, securities, statements, the
reconciliation worklist; pages and API alike) builds its ``Q`` here, so "find Acme" or "find
123 456 782" finds the same importers everywhere.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.db.models.functions import Greatest

from carm_portal import trigram
from clients.models import ProgramAccount
from clients.validators import compact_identifier

M = TypeVar("M", bound=Model)


def importer_search(q: str, *, importer: str = "", account: str | None = None) -> Q:
    """Rows whose importer matches ``q``: its legal or operating name contains it (any case), or a
    business number starts with it (spaces and dashes ignored, so BN9 or BN15 typed any way).

    ``importer`` is the lookup path to the importer with its ``__`` (``""`` on an importer
    queryset, ``"importer__"``, ``"program_account__importer__"``). ``account`` is the path to the
    row's own program account: a BN15 then narrows to that account's rows. Without it, the
    importer's BN9 or any of its program accounts' BN15 matches.
    """
    q = q.strip()
    match = Q(**{f"{importer}legal_name__icontains": q}) | Q(
        **{f"{importer}operating_name__icontains": q}
    )
    number = compact_identifier(q)
    if not number:
        return match
    if account is not None:
        return match | Q(**{f"{account}bn15__startswith": number})
    accounts = ProgramAccount.objects.filter(bn15__startswith=number).values("importer_id")
    return (
        match | Q(**{f"{importer}bn9__startswith": number}) | Q(**{f"{importer}pk__in": accounts})
    )


def contains_text(q: str, *fields: str) -> Q:
    """Rows where any of ``fields`` contains ``q``, in any case.

    On PostgreSQL the GIN trigram indexes on ``UPPER(field)`` (migration
    ``clients.0006_search_trigram_indexes``) serve this ``UPPER(…) LIKE UPPER('%q%')`` without
    reading the table; SQLite, for development, scans.
    """
    q = q.strip()
    match = Q()
    for name in fields:
        match |= Q(**{f"{name}__icontains": q})
    return match


def best_first(queryset: QuerySet[M], q: str, *fields: str) -> QuerySet[M]:
    """Order matches by how closely a word of ``fields`` resembles ``q`` (trigram word
    similarity) on PostgreSQL with pg_trgm, then by the first field; by the first field alone
    elsewhere (SQLite, or a database whose role could not create pg_trgm)."""
    if fields and trigram.installed(connection):
        scores = [TrigramWordSimilarity(q.strip(), name) for name in fields]
        closeness = Greatest(*scores) if len(scores) > 1 else scores[0]
        return queryset.annotate(closeness=closeness).order_by("-closeness", fields[0], "pk")
    return queryset.order_by(*fields[:1], "pk")
