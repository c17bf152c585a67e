"""The daily delegation sweep: findings for every delegation, recorded once as alerts.

Set-based on purpose: a fixed number of queries whatever the number of delegations (load facts,
mark the expired, read existing alerts, insert, reopen, resolve), then the pure rules of
``delegation/rules.py`` in memory. Idempotent by construction:

* one alert per (importer, key) is a database constraint, and new alerts are inserted with
  ``ignore_conflicts``, so a rerun or a second worker at the same time cannot duplicate one;
* the whole sweep is one transaction (serialised on PostgreSQL by an advisory lock), so a crash
  midway leaves the previous state and the next run completes it;
* emails are not sent here: digests are built and claimed separately (``delegation/notify.py``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.alerts import record_alerts
from carm_portal.bulk import chunks, snapshot_history
from carm_portal.locks import advisory_xact_lock
from clients.models import Importer, OnboardingStep, ProgramAccount
from clients.onboarding import apply_derivations
from delegation.checklist import derive_broker_delegation
from delegation.models import AlertDelivery, Delegation, DelegationAlert
from delegation.rules import (
    DelegationFacts,
    Finding,
    ImporterFacts,
    Thresholds,
    evaluate_importer,
)

ADVISORY_LOCK_ID = 0x0CA4_DE1E  # "carm delegation": serialises concurrent sweeps on PostgreSQL


@dataclass
class CheckResult:
    today: dt.date
    importers: int = 0
    delegations: int = 0
    findings: int = 0
    raised: int = 0
    reopened: int = 0
    resolved: int = 0
    marked_expired: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return _(
            "%(today)s: %(delegations)d delegations of %(importers)d importers checked; "
            "%(findings)d findings, %(raised)d new alerts, %(reopened)d reopened, %(resolved)d "
            "resolved, %(expired)d marked expired."
        ) % {
            "today": self.today.isoformat(),
            "delegations": self.delegations,
            "importers": self.importers,
            "findings": self.findings,
            "raised": self.raised,
            "reopened": self.reopened,
            "resolved": self.resolved,
            "expired": self.marked_expired,
        }


def load_facts(
    importer_ids: Collection[int] | None = None,
) -> tuple[dict[int, ImporterFacts], dict[int, list[DelegationFacts]]]:
    """Everything the rules need, in four queries, as plain immutable facts."""
    importers = Importer.objects.all()
    accounts = ProgramAccount.objects.filter(status=ProgramAccount.Status.ACTIVE)
    delegations = Delegation.objects.all()
    links = Delegation.program_accounts.through.objects.all()
    if importer_ids is not None:
        importers = importers.filter(pk__in=importer_ids)
        accounts = accounts.filter(importer_id__in=importer_ids)
        delegations = delegations.filter(importer_id__in=importer_ids)
        links = links.filter(delegation__importer_id__in=importer_ids)

    accounts_of: dict[int, dict[int, str]] = defaultdict(dict)
    for account_id, importer_id, bn15 in accounts.values_list("id", "importer_id", "bn15").iterator(
        chunk_size=5000
    ):
        accounts_of[importer_id][account_id] = bn15
    covered: dict[int, set[int]] = defaultdict(set)
    for delegation_id, account_id in links.values_list(
        "delegation_id", "programaccount_id"
    ).iterator(chunk_size=5000):
        covered[delegation_id].add(account_id)

    importer_facts = {
        pk: ImporterFacts(id=pk, active=status == Importer.Status.ACTIVE, accounts=accounts_of[pk])
        for pk, status in importers.values_list("id", "status").iterator(chunk_size=5000)
    }
    delegation_facts: dict[int, list[DelegationFacts]] = defaultdict(list)
    rows = delegations.values_list(
        "id", "importer_id", "relationship", "authority", "status", "expiry_date", "requested_on"
    )
    for pk, importer_id, relationship, authority, status, expiry, requested in rows.iterator(
        chunk_size=5000
    ):
        delegation_facts[importer_id].append(
            DelegationFacts(
                id=pk,
                importer_id=importer_id,
                relationship=relationship,
                authority=authority,
                status=status,
                expiry_date=expiry,
                requested_on=requested,
                account_ids=frozenset(covered.get(pk, ())),
            )
        )
    return importer_facts, delegation_facts


def findings_for(
    importer_facts: dict[int, ImporterFacts],
    delegation_facts: dict[int, list[DelegationFacts]],
    *,
    today: dt.date,
    thresholds: Thresholds,
) -> dict[int, list[Finding]]:
    return {
        importer_id: evaluate_importer(
            facts, delegation_facts.get(importer_id, ()), today=today, thresholds=thresholds
        )
        for importer_id, facts in importer_facts.items()
    }


def _mark_expired(
    today: dt.date, importer_ids: Collection[int] | None, now: dt.datetime
) -> set[int]:
    """Active delegations whose expiry date has passed become ``expired``, with a history record.

    Returns the ids of the importers concerned (their checklist step 7 changes).
    """
    qs = Delegation.objects.filter(status=Delegation.Status.ACTIVE, expiry_date__lt=today)
    if importer_ids is not None:
        qs = qs.filter(importer_id__in=importer_ids)
    importers = set(qs.values_list("importer_id", flat=True))
    if importers and qs.update(status=Delegation.Status.EXPIRED, updated_at=now):
        snapshot_history(
            Delegation.objects.filter(status=Delegation.Status.EXPIRED, updated_at=now),
            history_type="~",
            when=now,
            reason="Expiry date passed (daily check)",
        )
    return importers


class DelegationAlertRow(NamedTuple):
    """A new DelegationAlert's own columns (carm_portal.alerts fills importer, key and dates)."""

    delegation_id: int | None
    kind: str
    severity: str
    message: str
    message_parts: str | None
    expiry_date: dt.date | None


def alert_row(f: Finding) -> DelegationAlertRow:
    return DelegationAlertRow(
        delegation_id=f.delegation_id,
        kind=f.kind,
        severity=f.severity,
        message=later.render_stored(f.parts),
        message_parts=later.dumps(f.parts),
        expiry_date=f.expiry_date,
    )


@transaction.atomic
def run_delegation_checks(
    *,
    today: dt.date,
    importer_ids: Collection[int] | None = None,
    thresholds: Thresholds | None = None,
) -> CheckResult:
    """Evaluate every delegation (or those of ``importer_ids``) on ``today`` and record alerts."""
    thresholds = thresholds or Thresholds.from_settings()
    advisory_xact_lock(ADVISORY_LOCK_ID)

    result = CheckResult(today=today)
    now = timezone.now()
    changed_importers = _mark_expired(today, importer_ids, now)
    result.marked_expired = (
        Delegation.objects.filter(updated_at=now).count() if changed_importers else 0
    )

    importer_facts, delegation_facts = load_facts(importer_ids)
    result.importers = len(importer_facts)
    result.delegations = sum(len(v) for v in delegation_facts.values())
    findings = findings_for(importer_facts, delegation_facts, today=today, thresholds=thresholds)

    wanted: dict[tuple[int, str], Finding] = {
        (importer_id, f.key): f for importer_id, items in findings.items() for f in items
    }
    result.findings = len(wanted)
    for f in wanted.values():
        result.by_kind[f.kind] = result.by_kind.get(f.kind, 0) + 1

    existing = DelegationAlert.objects.all()
    if importer_ids is not None:
        existing = existing.filter(importer_id__in=importer_ids)
    # Under the advisory lock no other sweep inserts meanwhile. Should one still race us, the
    # unique constraint refuses the duplicate, this transaction rolls back whole, and the
    # task's retry finds the alert already there.
    recorded = record_alerts(
        model=DelegationAlert,
        existing=existing,
        wanted=wanted,
        row_type=DelegationAlertRow,
        row=alert_row,
        today=today,
        now=now,
    )
    for chunk in chunks(recorded.reopened):
        # A reopened alert is news again: let the next digest carry it.
        AlertDelivery.objects.filter(alert_id__in=chunk).delete()
    result.raised, result.resolved = recorded.raised, recorded.resolved
    result.reopened = len(recorded.reopened)

    if changed_importers:  # step 7 of their checklist follows the delegations just expired
        apply_derivations(
            OnboardingStep.Step.BROKER_DELEGATION,
            {
                importer_id: derive_broker_delegation(
                    delegation_facts.get(importer_id, ()),
                    importer_facts[importer_id].accounts,
                    today,
                )
                for importer_id in changed_importers
            },
            OnboardingStep.objects.filter(
                importer__delegations__status=Delegation.Status.EXPIRED,
                importer__delegations__updated_at=now,
            ).distinct(),
        )
    return result
