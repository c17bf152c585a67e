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

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from clients.models import Importer, ProgramAccount
from clients.onboarding import refresh_checklists
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


def _mark_expired(today: dt.date, importer_ids: Collection[int] | None) -> list[Delegation]:
    """Active delegations whose expiry date has passed become ``expired`` (with history)."""
    qs = Delegation.objects.filter(status=Delegation.Status.ACTIVE, expiry_date__lt=today)
    if importer_ids is not None:
        qs = qs.filter(importer_id__in=importer_ids)
    expired = list(qs)  # whole rows: the history records copy every field
    for d in expired:
        d.status = Delegation.Status.EXPIRED
    if expired:
        bulk_update_with_history(
            expired,
            Delegation,
            ["status"],
            batch_size=1000,
            default_change_reason="Expiry date passed (daily check)",
        )
    return expired


@transaction.atomic
def run_delegation_checks(
    *,
    today: dt.date,
    importer_ids: Collection[int] | None = None,
    thresholds: Thresholds | None = None,
) -> CheckResult:
    """Evaluate every delegation (or those of ``importer_ids``) on ``today`` and record alerts."""
    thresholds = thresholds or Thresholds.from_settings()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])

    result = CheckResult(today=today)
    expired = _mark_expired(today, importer_ids)
    result.marked_expired = len(expired)
    changed_importers = {d.importer_id for d in expired}

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
    known: dict[tuple[int, str], tuple[int, bool]] = {
        (importer_id, key): (pk, resolved_at is None)
        for pk, importer_id, key, resolved_at in existing.values_list(
            "id", "importer_id", "key", "resolved_at"
        ).iterator(chunk_size=5000)
    }

    new_alerts = [
        DelegationAlert(
            importer_id=importer_id,
            delegation_id=f.delegation_id,
            kind=f.kind,
            severity=f.severity,
            message=f.message,
            expiry_date=f.expiry_date,
            key=key,
            raised_on=today,
        )
        for (importer_id, key), f in wanted.items()
        if (importer_id, key) not in known
    ]
    if new_alerts:
        # Under the advisory lock no other sweep inserts meanwhile. Should one still race us,
        # the unique constraint refuses the duplicate, this transaction rolls back whole, and
        # the task's retry finds the alert already there. (No ignore_conflicts: without the
        # returned ids simple-history would look every row up again in one giant query.)
        bulk_create_with_history(new_alerts, DelegationAlert, batch_size=1000)
        result.raised = len(new_alerts)

    now = timezone.now()
    to_reopen = [pk for k, (pk, is_open) in known.items() if k in wanted and not is_open]
    to_resolve = [pk for k, (pk, is_open) in known.items() if k not in wanted and is_open]
    if to_reopen:
        alerts = list(DelegationAlert.objects.filter(pk__in=to_reopen))
        for alert in alerts:
            alert.resolved_at, alert.resolution, alert.raised_on = None, "", today
        bulk_update_with_history(
            alerts, DelegationAlert, ["resolved_at", "resolution", "raised_on"], batch_size=1000
        )
        # A reopened alert is news again: let the next digest carry it.
        AlertDelivery.objects.filter(alert_id__in=to_reopen).delete()
        result.reopened = len(alerts)
    if to_resolve:
        alerts = list(DelegationAlert.objects.filter(pk__in=to_resolve))
        for alert in alerts:
            alert.resolved_at = now
            alert.resolution = _("Resolved by the check of %(day)s: the cause is gone.") % {
                "day": today.isoformat()
            }
        bulk_update_with_history(
            alerts, DelegationAlert, ["resolved_at", "resolution"], batch_size=1000
        )
        result.resolved = len(alerts)

    if changed_importers:
        refresh_checklists(Importer.objects.filter(pk__in=changed_importers))
    return result
