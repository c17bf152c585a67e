"""Step 1 of the onboarding checklist (financial security), derived from the security records.

``clients.onboarding`` owns the checklist and sits below this app, so it does not import this
module: ``PaymentsConfig.ready`` registers ``financial_security`` as step 1's deriver. The daily
security check (``payments/checks.py``) calls ``derive_financial_security`` with the facts it
already holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from carm_portal import stored_text as later
from carm_portal.calendar import cbsa_today
from clients.models import Importer, OnboardingStep, ProgramAccount
from clients.onboarding import Derivation
from payments.rules import SecurityFacts

Status = OnboardingStep.Status

# What ``financial_security`` reads, prefetched with the checklist.
PREFETCH = ("program_accounts__securities",)


def derive_financial_security(
    securities: Iterable[SecurityFacts], active_accounts: dict[int, str], today: dt.date
) -> Derivation:
    """Step 1 follows the security records: done when every active RM account has a bond or a
    cash deposit in force today (whether it is *enough* is the daily security check's finding).

    Takes plain facts (``payments.rules.SecurityFacts``; ``active_accounts`` is id -> BN15).
    """
    securities = list(securities)
    in_force = [s for s in securities if s.in_force(today)]
    covered = {s.program_account_id for s in in_force}
    uncovered = [
        bn15
        for pk, bn15 in sorted(active_accounts.items(), key=lambda a: a[1])
        if pk not in covered
    ]
    if in_force and not uncovered:
        if len(in_force) == 1:
            s = in_force[0]
            if s.kind == "surety_bond":
                what = later.gettext(
                    "Surety bond %(number)s of %(amount)s with %(surety)s",
                    {
                        "number": s.bond_number or "—",
                        "amount": later.money(s.amount),
                        "surety": s.surety_company or "—",
                    },
                )
            else:
                what = later.gettext(
                    "Cash deposit of %(amount)s", {"amount": later.money(s.amount)}
                )
            if s.expiry_date:
                until = later.gettext(
                    "in force until %(day)s.", {"day": later.date(s.expiry_date, iso=True)}
                )
            else:
                until = later.gettext("in force.")
            return Derivation(Status.DONE, later.concat(what, until, sep=", "))
        return Derivation(
            Status.DONE,
            later.gettext(
                "Security in force on every RM account (%(n)d records).", {"n": len(in_force)}
            ),
        )
    pending = [s for s in securities if s.status == "pending"]
    if pending:
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext(
                "Security submitted (%(what)s); waiting for CBSA to accept it.",
                {"what": pending[0].surety_company or later.gettext("cash deposit")},
            ),
        )
    if in_force:
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext(
                "No security in force yet on %(accounts)s.", {"accounts": ", ".join(uncovered)}
            ),
        )
    ended = [
        s
        for s in securities
        if s.expiry_date
        and (s.status == "expired" or (s.status == "active" and s.expiry_date < today))
    ]
    if ended:
        last = max(s.expiry_date for s in ended if s.expiry_date is not None)  # all of them
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext(
                "The security expired on %(day)s: post a new bond or cash deposit.",
                {"day": later.date(last, iso=True)},
            ),
        )
    return Derivation(
        Status.NOT_STARTED, later.gettext("No surety bond or cash deposit recorded yet.")
    )


def financial_security(importer: Importer) -> Derivation:
    """Step 1 from the importer's prefetched program accounts and their securities."""
    accounts = list(importer.program_accounts.all())
    facts = [
        SecurityFacts(
            id=s.pk,
            program_account_id=s.program_account_id,
            kind=s.kind,
            amount=s.amount,
            status=s.status,
            effective_date=s.effective_date,
            expiry_date=s.expiry_date,
            surety_company=s.surety_company,
            bond_number=s.bond_number,
        )
        for account in accounts
        for s in account.securities.all()
    ]
    active = {a.pk: a.bn15 for a in accounts if a.status == ProgramAccount.Status.ACTIVE}
    return derive_financial_security(facts, active, cbsa_today())
