"""What the search boxes match: one rule for an importer typed by name or business number.

Every list that takes a ``q`` (importers, delegations, payments, securities, statements, the
reconciliation worklist; pages and API alike) builds its ``Q`` here, so "find Acme" or "find
123 456 782" finds the same importers everywhere.
"""

from __future__ import annotations

from django.db.models import Q

from clients.models import ProgramAccount
from clients.validators import compact_identifier


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
