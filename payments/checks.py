"""The two daily checks: payments (due, overdue, arrears, not posted) and financial security.

Each loads plain facts in a fixed number of set-based queries, asks the pure rules of
``payments/rules.py`` for findings, and records them with ``record_findings``, idempotent by
construction like the delegation sweep:

* one alert per (importer, key) is a database constraint; the key names the statement and its due
  date, the bond and its expiry date, the account and the review year, so a rerun on the same day
  (or the next) raises nothing new, and new alerts are written once, with a history record;
* a finding that is gone resolves its open alert, one that comes back reopens it (and it is
  emailed again);
* each check is one transaction, serialised on PostgreSQL by an advisory lock;
* emails are not sent here: ``payments/notify.py`` claims the new alerts before sending.

Each check only touches the alert kinds it owns (``PAYMENT_KINDS``, ``SECURITY_KINDS``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.alerts import record_alerts
from carm_portal.bulk import snapshot_history
from carm_portal.locks import advisory_xact_lock
from clients.models import OnboardingStep, ProgramAccount
from clients.onboarding import apply_derivations
from payments.balances import refresh_balances, stale_statement_ids
from payments.checklist import derive_financial_security
from payments.forecast import forecast_rows, store_forecasts
from payments.models import FinancialSecurity, Payment, PaymentAlert, StatementBalance
from payments.posted_payments import sync_posted_payments
from payments.reviews import record_annual_reviews, sufficiencies
from payments.rules import (
    PAYMENT_KINDS,
    SECURITY_KINDS,
    AccountFacts,
    Finding,
    PaymentFacts,
    SecurityFacts,
    StatementFacts,
    Sufficiency,
    Thresholds,
    payment_findings,
    security_findings,
    statement_findings,
)
from payments.security import peaks_for_accounts
from payments.security_facts import load_security_facts

PAYMENTS_LOCK_ID = 0x0CA4_9A1D  # serialises concurrent payment checks on PostgreSQL
SECURITY_LOCK_ID = 0x0CA4_5EC0  # and security checks


@dataclass
class CheckResult:
    name: str
    today: dt.date
    checked: int = 0
    findings: int = 0
    raised: int = 0
    reopened: int = 0
    resolved: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = _(
            "%(today)s: %(name)s: %(checked)d checked; %(findings)d findings, %(raised)d new "
            "alerts, %(reopened)d reopened, %(resolved)d resolved."
        ) % {
            "today": self.today.isoformat(),
            "name": self.name,
            "checked": self.checked,
            "findings": self.findings,
            "raised": self.raised,
            "reopened": self.reopened,
            "resolved": self.resolved,
        }
        if self.extra:
            text += " " + ", ".join(f"{k}: {v}" for k, v in self.extra.items()) + "."
        return text


class PaymentAlertRow(NamedTuple):
    """A new PaymentAlert's own columns (carm_portal.alerts fills importer, key and dates)."""

    program_account_id: int | None
    statement_id: int | None
    payment_id: int | None
    security_id: int | None
    kind: str
    severity: str
    message: str
    message_parts: str | None
    deadline: dt.date | None
    amount: Decimal | None
    claimed_at: dt.datetime | None = None
    notified_at: dt.datetime | None = None


def alert_row(f: Finding) -> PaymentAlertRow:
    return PaymentAlertRow(
        program_account_id=f.program_account_id,
        statement_id=f.statement_id,
        payment_id=f.payment_id,
        security_id=f.security_id,
        kind=f.kind.value,
        severity=f.severity.value,
        message=later.render_stored(f.parts),
        message_parts=later.dumps(f.parts),
        deadline=f.deadline,
        amount=f.amount,
    )


def record_findings(
    findings: Iterable[Finding],
    *,
    kinds: Collection[str],
    today: dt.date,
    importer_ids: Collection[int] | None,
    result: CheckResult,
) -> None:
    """Raise new alerts, reopen returning ones, resolve those whose cause is gone (set-based)."""
    now = timezone.now()
    wanted: dict[tuple[int, str], Finding] = {(f.importer_id, f.key): f for f in findings}
    result.findings = len(wanted)
    for f in wanted.values():
        result.by_kind[f.kind] = result.by_kind.get(f.kind, 0) + 1

    existing = PaymentAlert.objects.filter(kind__in=list(kinds))
    if importer_ids is not None:
        existing = existing.filter(importer_id__in=list(importer_ids))
    recorded = record_alerts(
        model=PaymentAlert,
        existing=existing,
        wanted=wanted,
        row_type=PaymentAlertRow,
        row=alert_row,
        today=today,
        now=now,
        reopen_values={"claimed_at": None, "notified_at": None},  # news again: emailed again
    )
    result.raised, result.resolved = recorded.raised, recorded.resolved
    result.reopened = len(recorded.reopened)


# --- Payments ------------------------------------------------------------------------------------


def load_statement_facts(importer_ids: Collection[int] | None) -> list[StatementFacts]:
    """Statements that still owe something (one query over the balances' partial index)."""
    rows = StatementBalance.objects.filter(outstanding__gt=0)
    if importer_ids is not None:
        rows = rows.filter(statement__program_account__importer_id__in=list(importer_ids))
    return [
        StatementFacts(
            id=sid,
            importer_id=importer_id,
            program_account_id=account_id,
            bn15=bn15,
            statement_date=day,
            due_date=due,
            outstanding=outstanding,
        )
        for sid, importer_id, account_id, bn15, day, due, outstanding in rows.values_list(
            "statement_id",
            "statement__program_account__importer_id",
            "statement__program_account_id",
            "statement__program_account__bn15",
            "statement__statement_date",
            "statement__due_date",
            "outstanding",
        ).iterator(chunk_size=5000)
    ]


def load_pending_payments(importer_ids: Collection[int] | None) -> list[PaymentFacts]:
    payments = Payment.objects.filter(
        status=Payment.Status.PENDING, statement_line=None, source=Payment.Source.RECORDED
    )
    if importer_ids is not None:
        payments = payments.filter(importer_id__in=list(importer_ids))
    with translation.override(
        None
    ):  # the untranslated labels: the alert translates them when shown
        labels = {value: str(label) for value, label in Payment.Method.choices}
    return [
        PaymentFacts(
            id=pk,
            importer_id=importer_id,
            program_account_id=account_id,
            amount=amount,
            method=method,
            paid_on=paid_on,
            method_label=labels.get(method, method),
        )
        for pk, importer_id, account_id, amount, method, paid_on in payments.values_list(
            "id", "importer_id", "program_account_id", "amount", "method", "paid_on"
        ).iterator(chunk_size=5000)
    ]


@transaction.atomic
def run_payment_checks(
    *,
    today: dt.date,
    importer_ids: Collection[int] | None = None,
    thresholds: Thresholds | None = None,
) -> CheckResult:
    """Sync payments found on new statements, refresh balances, record due/overdue alerts."""
    thresholds = thresholds or Thresholds.from_settings()
    advisory_xact_lock(PAYMENTS_LOCK_ID)
    result = CheckResult(name=_("payments"), today=today)

    stale = stale_statement_ids(importer_ids=importer_ids)
    synced = sync_posted_payments(statement_ids=stale, importer_ids=importer_ids, refresh=False)
    refreshed = refresh_balances(statement_ids={*stale, *synced.touched})  # each one once
    result.extra = {
        "payments found on statements": synced.created,
        "recorded payments posted": synced.matched,
        "balances refreshed": refreshed,
    }

    facts = load_statement_facts(importer_ids)
    pending = load_pending_payments(importer_ids)
    result.checked = len(facts) + len(pending)
    findings: list[Finding] = []
    for statement in facts:
        findings.extend(statement_findings(statement, today=today, thresholds=thresholds))
    for payment in pending:
        findings.extend(payment_findings(payment, today=today, thresholds=thresholds))
    record_findings(
        findings, kinds=PAYMENT_KINDS, today=today, importer_ids=importer_ids, result=result
    )
    return result


# --- Financial security --------------------------------------------------------------------------


def _mark_expired(
    today: dt.date, importer_ids: Collection[int] | None, now: dt.datetime
) -> set[int]:
    """Securities in force whose expiry date has passed become ``expired`` (with history)."""
    qs = FinancialSecurity.objects.filter(
        status=FinancialSecurity.Status.ACTIVE, expiry_date__lt=today
    )
    if importer_ids is not None:
        qs = qs.filter(program_account__importer_id__in=list(importer_ids))
    importers = set(qs.values_list("program_account__importer_id", flat=True))
    if importers and qs.update(status=FinancialSecurity.Status.EXPIRED, updated_at=now):
        snapshot_history(
            FinancialSecurity.objects.filter(
                status=FinancialSecurity.Status.EXPIRED, updated_at=now
            ),
            history_type="~",
            when=now,
            reason="Expiry date passed (daily check)",
        )
    return importers


def rederive_step_1(importer_ids: Collection[int], *, today: dt.date) -> int:
    """Step 1 of these importers' checklists, derived as of ``today`` (three queries and the
    set-based write of ``apply_derivations``)."""
    importer_ids = list(importer_ids)
    active: dict[int, dict[int, str]] = defaultdict(dict)
    for pk, importer_id, bn15 in ProgramAccount.objects.filter(
        importer_id__in=importer_ids, status=ProgramAccount.Status.ACTIVE
    ).values_list("id", "importer_id", "bn15"):
        active[importer_id][pk] = bn15
    securities: dict[int, list[SecurityFacts]] = defaultdict(list)
    for importer_id, *row in FinancialSecurity.objects.filter(
        program_account__importer_id__in=importer_ids
    ).values_list(
        "program_account__importer_id",
        "id",
        "program_account_id",
        "kind",
        "amount",
        "status",
        "effective_date",
        "expiry_date",
        "surety_company",
        "bond_number",
    ):
        securities[importer_id].append(SecurityFacts(*row))
    return apply_derivations(
        OnboardingStep.Step.FINANCIAL_SECURITY,
        {
            importer_id: derive_financial_security(
                securities[importer_id], active[importer_id], today
            )
            for importer_id in importer_ids
        },
        OnboardingStep.objects.filter(importer_id__in=importer_ids),
    )


def current_security_findings(
    *, today: dt.date, importer_ids: Collection[int] | None, thresholds: Thresholds
) -> tuple[list[Finding], int]:
    """The security findings of today's data, and the number of accounts checked: what the
    daily check records, and what the importer's home shows live. Nothing is written here."""
    accounts, securities = load_security_facts(importer_ids)
    standings = sufficiencies(
        securities,
        account_ids=[a.id for a in accounts],
        today=today,
        every_account=importer_ids is None,
    )
    return _security_findings(accounts, securities, standings, today, thresholds), len(accounts)


def _security_findings(
    accounts: Sequence[AccountFacts],
    securities: Mapping[int, Sequence[SecurityFacts]],
    standings: Mapping[int, Sufficiency],
    today: dt.date,
    thresholds: Thresholds,
) -> list[Finding]:
    """Each account's findings from its standing (``payments.reviews.sufficiencies``, the one
    rule: the last review's requirement, top-ups, forecasts)."""
    findings: list[Finding] = []
    for account in accounts:
        findings.extend(
            security_findings(
                account=account,
                securities=securities.get(account.id, []),
                standing=standings[account.id],
                today=today,
                thresholds=thresholds,
            )
        )
    return findings


def current_statement_findings(
    *, today: dt.date, importer_ids: Collection[int], thresholds: Thresholds
) -> list[Finding]:
    """Due soon, due today, overdue and arrears from today's balances (one query): the daily
    check's rule, for the importer's home to show before the check has run."""
    findings: list[Finding] = []
    for facts in load_statement_facts(importer_ids):
        findings.extend(statement_findings(facts, today=today, thresholds=thresholds))
    return findings


@transaction.atomic
def run_security_checks(
    *,
    today: dt.date,
    importer_ids: Collection[int] | None = None,
    thresholds: Thresholds | None = None,
) -> CheckResult:
    """Mark expired securities, record the annual reviews (20 October – 15 January), then flag
    missing and insufficient security, top-ups, forecasts and expiring bonds."""
    thresholds = thresholds or Thresholds.from_settings()
    advisory_xact_lock(SECURITY_LOCK_ID)
    result = CheckResult(name=_("financial security"), today=today)
    now = timezone.now()
    expired_importers = _mark_expired(today, importer_ids, now)
    if expired_importers:  # step 1 of their checklist follows the securities
        rederive_step_1(expired_importers, today=today)
    result.extra = {"marked expired": len(expired_importers)}
    # The active accounts, loaded once: this year's review is recorded for them, then their
    # standing read back (with it), checked, and stored as the forecast snapshot.
    accounts, securities = load_security_facts(importer_ids)
    account_ids = [a.id for a in accounts]
    result.extra["annual reviews recorded"] = record_annual_reviews(account_ids, today=today)
    every_account = importer_ids is None
    peaks = peaks_for_accounts(None if every_account else account_ids, on_date=today)
    standings = sufficiencies(
        securities,
        account_ids=account_ids,
        today=today,
        every_account=every_account,
        peaks=peaks,
    )
    findings = _security_findings(accounts, securities, standings, today, thresholds)
    result.checked = len(accounts)
    result.extra["forecasts stored"] = store_forecasts(
        forecast_rows(standings, peaks, today=today, now=now),
        importer_ids=importer_ids,
    )
    record_findings(
        findings, kinds=SECURITY_KINDS, today=today, importer_ids=importer_ids, result=result
    )
    return result
