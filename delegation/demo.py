"""Demo delegations for ``seed_demo``: every state, so the daily check finds something at once.

Dates are relative to today (Eastern), so "expires in 10 days" stays true whenever the demo is
loaded; a rerun on the same day changes nothing, a rerun on a later day moves the dates along.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from carm_portal.models import User
from clients.models import Importer
from delegation.checks import CheckResult, run_delegation_checks
from delegation.models import Delegation

DEMO_TAG = "Demo delegation"


@dataclass(frozen=True)
class Spec:
    status: str
    requested_days_ago: int
    approved_days_ago: int | None = None
    expiry_in_days: int | None = None  # None: blank in the CCP
    relationship: str = "BMR"
    authority: str = "pBAM"
    first_account_only: bool = False
    revoked_days_ago: int | None = None
    note: str = ""


A, P, R, X, V, J = "active", "pending", "requested", "expired", "revoked", "rejected"

# Per onboarding stage of carm_portal/demo/seed.py: one list of delegations per importer of that
# stage, taken in turn. Stages not listed have not reached step 7 yet.
BY_STAGE: dict[str, list[list[Spec]]] = {
    "registered": [
        [Spec(P, 12, note="Importer registered but has not approved our request.")],
        [Spec(R, 3, note="Request sent from the broker's CCP account.")],
    ],
    "blocked_delegation": [
        [Spec(A, 40, 35, None, note="BAM left the expiry date blank.")],
    ],
    "blocked_security": [
        [Spec(A, 380, 375, 10, note="Renewal due: expires in 10 days.")],
    ],
    "done": [
        [Spec(A, 300, 295, 700)],
        [Spec(V, 900, 890, 400, revoked_days_ago=330), Spec(A, 320, 318, 760)],
        [Spec(A, 200, 198, 600, relationship="PMR", note="PMR covering every account.")],
        [Spec(A, 340, 335, 25, note="Expires within the month.")],
        [Spec(A, 500, 490, 5, authority="pPAM", relationship="PMR", first_account_only=True)],
    ],
    "people_ready": [
        [Spec(J, 60, note="BAM rejected the request by mistake; a new one is needed.")],
    ],
    "security_pending": [
        [Spec(X, 700, 690, -6, note="Expired last week; importer asked to renew.")],
    ],
}


def _sync(importer: Importer, index: int, spec: Spec, today: dt.date, by: User) -> bool:
    def ago(days: int | None) -> dt.date | None:
        return None if days is None else today - dt.timedelta(days=days)

    values = {
        "relationship": spec.relationship,
        "authority": spec.authority,
        "status": spec.status,
        "requested_on": ago(spec.requested_days_ago),
        "approved_on": ago(spec.approved_days_ago),
        "expiry_date": None
        if spec.expiry_in_days is None
        else today + dt.timedelta(days=spec.expiry_in_days),
        "blank_expiry_confirmed": spec.status == A and spec.expiry_in_days is None,
        "revoked_on": ago(spec.revoked_days_ago),
    }
    notes = f"{DEMO_TAG} #{index}. {spec.note}".strip()
    delegation = Delegation.objects.filter(
        importer=importer, notes__startswith=f"{DEMO_TAG} #{index}."
    ).first()
    changed = delegation is None
    if delegation is None:
        delegation = Delegation(importer=importer, recorded_by=by, notes=notes, **values)
    else:
        for name, value in {**values, "notes": notes}.items():
            if getattr(delegation, name) != value:
                setattr(delegation, name, value)
                changed = True
    if changed:
        delegation.save()
    if spec.relationship == "PMR":
        accounts = list(importer.program_accounts.filter(status="active").order_by("bn15"))
        wanted = {a.pk for a in (accounts[:1] if spec.first_account_only else accounts)}
        if set(delegation.program_accounts.values_list("pk", flat=True)) != wanted:
            delegation.program_accounts.set(wanted)
            changed = True
    return changed


def seed_delegations(
    *, importers_by_stage: dict[str, list[Importer]], by: User, today: dt.date
) -> tuple[int, CheckResult]:
    """Create or refresh the demo delegations, then run the day's check (no email)."""
    changed = 0
    for stage, importers in importers_by_stage.items():
        plans = BY_STAGE.get(stage, [])
        for importer, specs in zip(importers, plans, strict=False):
            for index, spec in enumerate(specs, start=1):
                changed += _sync(importer, index, spec, today, by)
    return changed, run_delegation_checks(today=today)
