"""The program accounts a file may write to: BN15 -> account, among those the user may manage.

An import names accounts by BN15 on every row; this directory answers each one once (cached), and
keeps the unknown ones (a valid BN15 we do not hold) for the batch page's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clients import access
from clients.access import Perm
from clients.models import ProgramAccount
from clients.validators import normalize_bn15
from statements.importing.problems import ErrorList
from statements.importing.values import Bad, Cache

if TYPE_CHECKING:
    from carm_portal.models import User

MAX_UNKNOWN_ACCOUNTS = 200


@dataclass
class Account:
    id: int
    importer_id: int
    bn15: str


class Directory:
    """BN15 -> program account, among those the user may manage statements of (all for a job).

    An account the user may not manage is reported exactly like one that does not exist.
    """

    def __init__(self, user: User | None):
        accounts = ProgramAccount.objects.all()
        if user is not None:
            accounts = access.scope_for(accounts, user, Perm.MANAGE_STATEMENTS)
        self.by_bn15 = {
            bn15: Account(pk, importer_id, bn15)
            for bn15, pk, importer_id in accounts.values_list("bn15", "pk", "importer_id")
        }
        self.cache = Cache()
        self.unknown: dict[str, dict[str, Any]] = {}
        self.used: set[int] = set()

    def lookup(self, raw: str) -> Account | Bad:
        """The account ``raw`` names, or why none (a valid BN15 we do not hold: the BN15)."""
        found = self.cache.get(raw)
        if found is None:
            try:
                bn15 = normalize_bn15(raw)
            except ValidationError as exc:
                found = self.cache.remember(raw, Bad(" ".join(exc.messages)))
            else:
                found = self.cache.remember(raw, self.by_bn15.get(bn15) or Bad(bn15))
        return found

    def resolve(self, raw: str, row: int, errors: ErrorList) -> Account | None:
        found = self.lookup(raw)
        if isinstance(found, Account):
            self.used.add(found.id)
            return found
        if raw and found.reason.isalnum():  # a valid BN15 that we do not hold
            bn15 = found.reason
            seen = self.unknown.get(bn15)
            if seen is None:
                if len(self.unknown) < MAX_UNKNOWN_ACCOUNTS:
                    self.unknown[bn15] = {"bn15": bn15, "first_row": row, "rows": 1}
                errors.add(
                    row,
                    "account_number",
                    raw,
                    _(
                        "No program account %(bn15)s in carm-portal: add it to its importer first, "
                        "or check the number."
                    )
                    % {"bn15": bn15},
                )
            else:
                seen["rows"] += 1
            return None
        errors.add(row, "account_number", raw, found.reason)
        return None
