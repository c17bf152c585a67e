"""The plain facts the security rules read: active RM accounts and their securities (two queries).

Shared by the daily security check (``payments/checks.py``) and the forecast snapshot
(``payments/forecast.py``), so both read the same accounts the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from clients.models import Importer, ProgramAccount
from payments.models import FinancialSecurity
from payments.rules import AccountFacts, SecurityFacts


def load_security_facts(
    importer_ids: Collection[int] | None, *, account_ids: Collection[int] | None = None
) -> tuple[list[AccountFacts], dict[int, list[SecurityFacts]]]:
    """Active RM accounts (of these importers, or these accounts; None: all), and the securities
    (in force or on the way) of each."""
    accounts = ProgramAccount.objects.filter(status=ProgramAccount.Status.ACTIVE)
    securities = FinancialSecurity.objects.filter(
        status__in=[FinancialSecurity.Status.ACTIVE, FinancialSecurity.Status.PENDING]
    )
    if importer_ids is not None:
        accounts = accounts.filter(importer_id__in=list(importer_ids))
        securities = securities.filter(program_account__importer_id__in=list(importer_ids))
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
        securities = securities.filter(program_account_id__in=list(account_ids))
    account_facts = [
        AccountFacts(
            id=pk,
            importer_id=importer_id,
            bn15=bn15,
            importer_active=status == Importer.Status.ACTIVE,
        )
        for pk, importer_id, bn15, status in accounts.values_list(
            "id", "importer_id", "bn15", "importer__status"
        ).iterator(chunk_size=5000)
    ]
    by_account: dict[int, list[SecurityFacts]] = defaultdict(list)
    for row in securities.values_list(
        "id",
        "program_account_id",
        "kind",
        "amount",
        "status",
        "effective_date",
        "expiry_date",
        "surety_company",
        "bond_number",
    ).iterator(chunk_size=5000):
        by_account[row[1]].append(SecurityFacts(*row))
    return account_facts, by_account
