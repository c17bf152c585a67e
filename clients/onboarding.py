"""The CARM onboarding checklist: the seven preparedness steps, derived from data where we can.

Steps the importer's records prove (1 financial security, from the securities of
``payments``; 2 BAMs, 3 CCP profiles, 4 business information, 6 employee access; 7 broker
delegation, from ``delegation``) are derived here every time those records change; the step
nobody can observe from here (5 registration) is confirmed by a person. A person may also mark any step *blocked*, with a note,
which wins over the derivation until it is cleared: a broker must be able to say "waiting on
the surety" even when the data looks fine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from carm_portal import stored_text as later
from carm_portal.bulk import snapshot_history, update_rows
from carm_portal.calendar import cbsa_today
from carm_portal.models import User
from clients.models import Importer, OnboardingStep, PortalUser, ProgramAccount
from delegation.rules import DelegationFacts
from payments.rules import SecurityFacts

Step = OnboardingStep.Step
Status = OnboardingStep.Status

RECOMMENDED_BAMS = 2


@dataclass(frozen=True)
class Derivation:
    status: str
    parts: later.Parts  # the summary untranslated (carm_portal/stored_text.py)

    @property
    def summary(self) -> str:
        """The summary in the active language."""
        return later.render(self.parts)


def _bams(importer: Importer, people: list[PortalUser]) -> Derivation:
    bams = [p for p in people if p.ccp_role == PortalUser.CcpRole.BAM]
    ready = [p for p in bams if p.profile_created]
    if len(ready) >= RECOMMENDED_BAMS:
        return Derivation(
            Status.DONE, later.gettext("%(n)d BAMs with a CCP profile.", {"n": len(ready)})
        )
    if not bams:
        return Derivation(
            Status.NOT_STARTED, later.gettext("No Business Account Manager recorded yet.")
        )
    if len(bams) < RECOMMENDED_BAMS:
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext(
                "One BAM recorded; two are recommended (one for payments, one for customs)."
            ),
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.ngettext(
            "%(missing)d BAM has no CCP profile yet.",
            "%(missing)d BAMs have no CCP profile yet.",
            len(bams) - len(ready),
            {"missing": len(bams) - len(ready)},
        ),
    )


def _profiles(importer: Importer, people: list[PortalUser]) -> Derivation:
    if not people:
        return Derivation(Status.NOT_STARTED, later.gettext("No portal users recorded yet."))
    ready = sum(1 for p in people if p.profile_created)
    if ready == len(people):
        return Derivation(
            Status.DONE, later.gettext("All %(n)d portal users have a CCP profile.", {"n": ready})
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.gettext(
            "%(ready)d of %(total)d portal users have a CCP profile.",
            {"ready": ready, "total": len(people)},
        ),
    )


def _business_information(importer: Importer, accounts: list[ProgramAccount]) -> Derivation:
    missing = []
    if not all([importer.legal_name, importer.address_line1, importer.city, importer.province]):
        missing.append(later.gettext("the legal name and address"))
    if not importer.postal_code:
        missing.append(later.gettext("the postal code"))
    if not any(a.status == ProgramAccount.Status.ACTIVE for a in accounts):
        missing.append(later.gettext("an active RM program account"))
    if not missing:
        return Derivation(
            Status.DONE,
            later.gettext("BN9, legal name and address, and an RM account are recorded."),
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.gettext("Missing: %(what)s.", {"what": later.concat(*missing, sep=", ")}),
    )


def _employee_access(importer: Importer, people: list[PortalUser]) -> Derivation:
    if not people:
        return Derivation(Status.NOT_STARTED, later.gettext("No portal users recorded yet."))
    approved = sum(1 for p in people if p.access_approved)
    if approved == len(people):
        return Derivation(
            Status.DONE, later.gettext("All %(n)d portal users are approved.", {"n": approved})
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.gettext(
            "%(approved)d of %(total)d portal users have their access approved.",
            {"approved": approved, "total": len(people)},
        ),
    )


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
        best = max(usable, key=lambda d: d.expiry_date)
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
    if active and all(d.expiry_date >= today for d in active):
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


def _broker_delegation(importer: Importer) -> Derivation:
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
        last = max(s.expiry_date for s in ended)
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


def _financial_security(importer: Importer) -> Derivation:
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


# Derivers take the importer with its related rows prefetched (see ``_with_checklist_data``).
DERIVERS: dict[int, Callable[[Importer], Derivation]] = {
    Step.FINANCIAL_SECURITY: _financial_security,
    Step.BAMS: lambda imp: _bams(imp, list(imp.portal_users.all())),
    Step.CCP_PROFILES: lambda imp: _profiles(imp, list(imp.portal_users.all())),
    Step.BUSINESS_INFORMATION: lambda imp: _business_information(
        imp, list(imp.program_accounts.all())
    ),
    Step.EMPLOYEE_ACCESS: lambda imp: _employee_access(imp, list(imp.portal_users.all())),
    Step.BROKER_DELEGATION: _broker_delegation,
}

MANUAL_SUMMARY = {
    Step.REGISTRATION: later.gettext(
        "Confirmed by a person once the business is registered in the CCP."
    ),
}


def is_derived(step: int) -> bool:
    return step in DERIVERS


def resolve(step: OnboardingStep, derivation: Derivation | None) -> None:
    """Set ``step.status``/``summary``/``derived`` from the derivation and any manual status.

    ``summary`` keeps the English text (history, emails, API); ``summary_parts`` the sentence
    untranslated, so pages show it in the reader's language (``OnboardingStep.summary_text``).
    """
    if step.manual_status == Status.BLOCKED:
        step.status, step.derived = Status.BLOCKED, False
        parts = step.note[:255] if step.note else later.gettext("Blocked.")
    elif derivation is not None:
        step.status, parts, step.derived = derivation.status, derivation.parts, True
    else:
        step.status = step.manual_status or Status.NOT_STARTED
        parts, step.derived = MANUAL_SUMMARY.get(step.step), False
    step.summary, step.summary_parts = later.render_stored(parts)[:255], parts


def _written(step: OnboardingStep) -> tuple[object, ...]:
    """What a refresh writes: compared before and after, so unchanged rows are not touched."""
    return (step.status, step.summary, step.summary_parts, step.derived)


def _with_checklist_data(importers: Iterable[Importer] | None = None):
    qs = Importer.objects.prefetch_related(
        Prefetch("portal_users", queryset=PortalUser.objects.order_by("id")),
        Prefetch("program_accounts", queryset=ProgramAccount.objects.order_by("id")),
        Prefetch("onboarding_steps", queryset=OnboardingStep.objects.order_by("step")),
        "delegations__program_accounts",
        "program_accounts__securities",
    )
    if importers is not None:
        qs = qs.filter(pk__in=[i.pk for i in importers])
    return qs


def refresh_checklists(
    importers: Iterable[Importer] | None = None, *, batch_size: int = 500
) -> int:
    """Re-derive the checklist of the given importers (all when ``None``); return rows changed.

    Idempotent and set-based: a handful of queries per batch whatever the number of importers,
    and rows are written only when something changed (so history stays meaningful).
    """
    changed = 0
    qs = _with_checklist_data(importers).order_by("pk")
    last_pk = 0
    while True:
        batch_pks = list(qs.filter(pk__gt=last_pk).values_list("pk", flat=True)[:batch_size])
        if not batch_pks:
            return changed
        last_pk = batch_pks[-1]
        try:
            changed += _refresh_batch(qs.filter(pk__in=batch_pks))
        except IntegrityError:
            # Another process created some of these rows meanwhile: derive again from them.
            changed += _refresh_batch(qs.filter(pk__in=batch_pks))


@transaction.atomic
def _refresh_batch(importers: QuerySet[Importer]) -> int:
    to_create: list[OnboardingStep] = []
    to_update: list[OnboardingStep] = []
    now = timezone.now()
    for importer in importers:
        existing = {s.step: s for s in importer.onboarding_steps.all()}
        for step_no in Step.values:
            row = existing.get(step_no) or OnboardingStep(importer=importer, step=step_no)
            before = _written(row)
            deriver = DERIVERS.get(step_no)
            resolve(row, deriver(importer) if deriver else None)
            if row.pk is None:
                to_create.append(row)
            elif before != _written(row):
                row.updated_at = now
                to_update.append(row)
    # Batched, with history rows for each change (ids come back from the insert, so
    # simple-history needs no lookup of what it just wrote).
    if to_create:
        bulk_create_with_history(to_create, OnboardingStep, batch_size=1000)
    if to_update:
        bulk_update_with_history(
            to_update,
            OnboardingStep,
            ["status", "summary", "summary_parts", "derived", "updated_at"],
            batch_size=1000,
        )
    return len(to_create) + len(to_update)


def apply_derivations(
    step: int, derivations: dict[int, Derivation], rows: QuerySet[OnboardingStep]
) -> int:
    """Write one step's new derivation for many importers (importer id -> derivation), with
    history, in a constant number of set-based statements; return the rows changed.

    ``rows`` selects the step rows of those importers (by a join, not a list of ids, so the
    query does not grow with them). Used by jobs that already hold the facts — the delegation
    sweep for step 7 — so that expiring 15,000 delegations does not reload 15,000 checklists.
    """
    now = timezone.now()
    changed: list[tuple[object, ...]] = []
    seen: set[int] = set()
    for row in rows.filter(step=step):
        seen.add(row.importer_id)
        before = _written(row)
        resolve(row, derivations[row.importer_id])
        if before != _written(row):
            changed.append(
                (row.status, row.summary, later.dumps(row.summary_parts), row.derived, now, row.pk)
            )
    if changed:
        update_rows(
            OnboardingStep,
            ["status", "summary", "summary_parts", "derived", "updated_at"],
            changed,
        )
        snapshot_history(
            OnboardingStep.objects.filter(step=step, updated_at=now), history_type="~", when=now
        )
    missing = set(derivations) - seen  # importers whose checklist was never built
    if missing:
        refresh_checklists(Importer.objects.filter(pk__in=missing))
    return len(changed)


def refresh_checklist(importer: Importer) -> None:
    refresh_checklists([importer])


@transaction.atomic
def set_step_status(
    *,
    importer: Importer,
    step: int,
    status: str,
    by: User,
    note: str = "",
    completed_on: date | None = None,
) -> OnboardingStep:
    """Record a person's word on a step: a confirmation, a block, or clearing a block.

    On a derived step only ``blocked`` (or clearing it, with an empty status) is accepted: the
    data decides the rest, so nobody can tick "two BAMs" while only one is recorded.
    """
    row, _created = OnboardingStep.objects.select_for_update().get_or_create(
        importer=importer, step=step
    )
    if is_derived(step) and status not in ("", Status.BLOCKED):
        raise ValueError(
            _("Step %(step)d follows the importer's records; update them instead.") % {"step": step}
        )
    row.manual_status = status
    row.note = note
    row.completed_on = completed_on if status == Status.DONE else None
    row.confirmed_by = by
    row.confirmed_at = timezone.now()
    row.save()
    refresh_checklist(importer)
    row.refresh_from_db()
    return row


def progress(steps: Iterable[OnboardingStep]) -> tuple[int, int]:
    """(done, total) for a prefetched checklist; a missing row counts as not started."""
    done = sum(1 for s in steps if s.status == Status.DONE)
    return done, len(Step.values)
