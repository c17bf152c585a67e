"""Step 7 of the onboarding checklist (broker delegation), derived from the delegation records.

``clients.onboarding`` owns the checklist and sits below this app, so it does not import this
module: ``DelegationConfig.ready`` registers ``broker_delegation`` as step 7's deriver. The daily
sweep (``delegation/checks.py``) calls ``derive_broker_delegation`` with the facts it already holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from carm_portal import stored_text as later
from carm_portal.calendar import cbsa_today
from clients.models import Importer, OnboardingStep, ProgramAccount
from clients.onboarding import Derivation
from delegation.rules import DelegationFacts

Status = OnboardingStep.Status

# What ``broker_delegation`` reads, prefetched with the checklist.
PREFETCH = ("delegations__program_accounts",)


def derive_broker_delegation(
    delegations: Iterable[DelegationFacts], active_accounts: Collection[int], today: dt.date
) -> Derivation:
    """Step 7 follows the delegation records: done only when the broker can really act today.

    Takes plain facts (``delegation.rules.DelegationFacts``) so the daily delegation sweep, which
    already holds them for every importer, re-derives step 7 without loading anything again.
    """
    by_status: dict[str, list[DelegationFacts]] = {}
    for d in delegations:
        by_status.setdefault(d.status, []).append(d)
    active = by_status.get("active", [])
    usable = [
        d
        for d in active
        if d.expiry_date is not None
        and d.expiry_date >= today
        and (d.relationship == "BMR" or set(active_accounts) <= d.account_ids)
    ]
    if usable:
        best = max(usable, key=lambda d: d.expiry_date or dt.date.min)  # never None: kept above
        assert best.expiry_date is not None  # usable ones all have an expiry date
        return Derivation(
            Status.DONE,
            later.gettext(
                "%(relationship)s with %(authority)s, valid until %(day)s.",
                {
                    "relationship": best.relationship,
                    "authority": best.authority,
                    "day": later.date(best.expiry_date, iso=True),
                },
            ),
        )
    if any(d.expiry_date is None for d in active):
        return Derivation(
            Status.BLOCKED,
            later.gettext(
                "Approved with a blank expiry date: the broker cannot access the account until the BAM enters one."
            ),
        )
    # No active one is left without an expiry date here (returned just above).
    if active and all(d.expiry_date is not None and d.expiry_date >= today for d in active):
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext(
                "The delegation does not cover every active RM account; ask the BAM to widen it."
            ),
        )
    if by_status.get("requested") or by_status.get("pending"):
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext("Request sent; waiting for the importer's BAM to approve it in the CCP."),
        )
    if by_status.get("expired") or active:
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext("The delegation expired; the importer must grant access again."),
        )
    return Derivation(
        Status.NOT_STARTED, later.gettext("No delegation to the broker on record yet.")
    )


def broker_delegation(importer: Importer) -> Derivation:
    """Step 7 from the importer's prefetched delegations."""
    facts = [
        DelegationFacts(
            id=d.pk,
            importer_id=importer.pk,
            relationship=d.relationship,
            authority=d.authority,
            status=d.status,
            expiry_date=d.expiry_date,
            requested_on=d.requested_on,
            account_ids=frozenset(a.pk for a in d.program_accounts.all()),
        )
        for d in importer.delegations.all()
    ]
    accounts = {
        a.pk for a in importer.program_accounts.all() if a.status == ProgramAccount.Status.ACTIVE
    }
    return derive_broker_delegation(facts, accounts, cbsa_today())
