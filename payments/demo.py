"""Demo securities, interest rates, payments and a PAD bank account for ``seed_demo``.

Per onboarding stage of ``carm_portal/demo/seed.py``: the securities that make step 1 what the
stage says (cash deposit posted first, a bond awaiting the surety, bonds in force…), on every active
RM account. The three importers with demo statements (``statements/demo.py``) get the cases the
payment pages exist for: the first pays its latest statement by pre-authorized debit from its
bank account; the second short-pays its latest by credit card (it stays overdue once due) and
holds a bond expiring within 60 days; the third has part of its latest paid by the broker and a
cash deposit too small for its months. The older statements are paid by the payment lines CBSA
shows on the next ones, which the payment check finds.

Idempotent: rows are found again by their natural keys (bond number, payment reference) and
written only when missing or different; dates are relative to today, so a rerun on the same day
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from carm_portal.calendar import add_business_days, previous_business_day
from carm_portal.models import User
from carm_portal.money import ZERO
from clients.models import Importer, ProgramAccount
from payments.checks import run_payment_checks, run_security_checks
from payments.models import BankAccount, FinancialSecurity, InterestRate, Payment
from payments.posted_payments import sync_posted_payments
from payments.records import record_payment, save_bank_account
from payments.rules import Thresholds, expected_posting
from statements.models import Statement

DEMO_TAG = "Demo"
BOND, CASH = FinancialSecurity.Kind.SURETY_BOND, FinancialSecurity.Kind.CASH_DEPOSIT
ACTIVE, PENDING = FinancialSecurity.Status.ACTIVE, FinancialSecurity.Status.PENDING
SURETIES = (
    "Trisura Guarantee Insurance Company",
    "Intact Insurance Company",
    "Travelers Insurance Company of Canada",
    "Liberty Mutual Insurance Company",
)
# Demo rates only: enter CBSA's published specified rate each quarter.
DEMO_RATES = {
    dt.date(2025, 1, 1): Decimal("9.000"),
    dt.date(2025, 4, 1): Decimal("8.000"),
    dt.date(2025, 10, 1): Decimal("8.000"),
    dt.date(2026, 1, 1): Decimal("7.000"),
    dt.date(2026, 4, 1): Decimal("7.000"),
}


@dataclass(frozen=True)
class Spec:
    kind: str
    status: str
    amount: Decimal
    started_days_ago: int | None = 200
    expires_in_days: int | None = None
    surety: int = 0
    note: str = ""


BY_STAGE: dict[str, list[Spec]] = {
    "security_first": [Spec(CASH, ACTIVE, Decimal("5000.00"), note="Cash deposited in the CCP.")],
    "security_pending": [
        Spec(BOND, PENDING, Decimal("5000.00"), None, note="Bond application sent to the surety.")
    ],
    "registered": [Spec(BOND, ACTIVE, Decimal("5000.00"), 120, 610, surety=1)],
    "blocked_security": [
        Spec(BOND, PENDING, Decimal("5000.00"), None, note="Waiting on the surety bond.")
    ],
    "blocked_delegation": [Spec(CASH, ACTIVE, Decimal("5000.00"), 90)],
    "done": [Spec(BOND, ACTIVE, Decimal("5000.00"), 300, 700, surety=2)],
}
# The importers of the "done" stage with demo statements, in statements/demo.py's order.
DONE_SPECS = [
    Spec(BOND, ACTIVE, Decimal("50000.00"), 400, 900, surety=1, note="Sized for peak months."),
    Spec(BOND, ACTIVE, Decimal("10000.00"), 330, 40, surety=0, note="Renewal due."),
    Spec(CASH, ACTIVE, Decimal("5000.00"), 500, None, note="Minimum cash deposit."),
]


@dataclass
class SeedResult:
    created: dict[str, int] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def summary(self) -> str:
        made = ", ".join(f"{what}: {n}" for what, n in sorted(self.created.items()))
        return f"Payments: {made or 'nothing new'}. " + " ".join(self.checks)


def _accounts(importer: Importer) -> list[ProgramAccount]:
    return list(
        importer.program_accounts.filter(status=ProgramAccount.Status.ACTIVE).order_by("bn15")
    )


def _security(account: ProgramAccount, spec: Spec, today: dt.date, by: User | None) -> bool:
    bond_number = f"CB-{account.bn15[:9]}-{account.bn15[-2:]}" if spec.kind == BOND else ""
    surety = SURETIES[spec.surety] if spec.kind == BOND else ""
    values = {
        "kind": spec.kind,
        "surety_company": surety,
        "bond_number": bond_number,
        "amount": spec.amount,
        "status": spec.status,
        "effective_date": None
        if spec.started_days_ago is None
        else today - dt.timedelta(days=spec.started_days_ago),
        "expiry_date": None
        if spec.expires_in_days is None
        else today + dt.timedelta(days=spec.expires_in_days),
        "notes": f"{DEMO_TAG} security. {spec.note}".strip(),
    }
    security = FinancialSecurity.objects.filter(
        program_account=account, notes__startswith=f"{DEMO_TAG} security."
    ).first()
    if security is None:
        security = FinancialSecurity(program_account=account, recorded_by=by)
    elif all(getattr(security, k) == v for k, v in values.items()):
        return False
    for name, value in values.items():
        setattr(security, name, value)
    security._history_user = by
    security.save()
    return True


def _rates(by: User | None, result: SeedResult) -> None:
    for day, rate in DEMO_RATES.items():
        _obj, created = InterestRate.objects.get_or_create(
            effective_from=day,
            defaults={
                "annual_rate": rate,
                "note": "Demo rate: enter CBSA's published rate.",
                "entered_by": by,
            },
        )
        if created:
            result.add("interest rates")


def _latest(account: ProgramAccount, today: dt.date) -> Statement | None:
    return (
        Statement.objects.filter(program_account=account, statement_date__lte=today)
        .order_by("-statement_date")
        .first()
    )


def _pay(
    account: ProgramAccount,
    *,
    amount: Decimal,
    method: str,
    paid_on: dt.date,
    reference: str,
    by: User | None,
    today: dt.date,
    manual: dict[int, Decimal] | None = None,
    bank_account: BankAccount | None = None,
    result: SeedResult,
) -> None:
    if (
        amount <= ZERO
        or Payment.objects.filter(program_account=account, reference=reference).exists()
    ):
        return
    posted_by = expected_posting(method, paid_on, Thresholds.from_settings())
    record_payment(
        importer=account.importer,
        program_account=account,
        amount=amount,
        method=method,
        paid_on=paid_on,
        reference=reference,
        status=Payment.Status.CLEARED if posted_by < today else Payment.Status.PENDING,
        bank_account=bank_account,
        by=by,
        manual=manual,
        notes=f"{DEMO_TAG} payment.",
    )
    result.add("payments")


def _bank_account(importer: Importer, by: User | None, result: SeedResult) -> BankAccount:
    account = BankAccount.objects.filter(importer=importer, label="Operating (demo)").first()
    if account is None:
        account = save_bank_account(
            bank_account=BankAccount(
                importer=importer,
                label="Operating (demo)",
                holder_name=importer.legal_name,
                institution_number="003",
                transit_number="00012",
                pad_agreement_on=dt.date(2025, 3, 1),
            ),
            account_number="1002003004",  # demo number
            by=by,
        )
        result.add("bank accounts")
    return account


def _statement_payments(
    done: list[Importer], by: User | None, today: dt.date, result: SeedResult
) -> None:
    from payments.allocation import open_statements

    sync_posted_payments(
        importer_ids=[i.pk for i in done]
    )  # the older statements, paid by CBSA lines
    for role, importer in enumerate(done):
        accounts = _accounts(importer)
        if not accounts:
            continue
        account = accounts[0]
        statement = _latest(account, today)
        if statement is None:
            continue
        opens = {o.statement_id: o for o in open_statements(program_account_id=account.pk)}
        owing = opens[statement.pk].available if statement.pk in opens else ZERO
        on_time = min(today, previous_business_day(add_business_days(statement.due_date, -2)))
        stamp = statement.statement_date.strftime("%Y%m")
        if role == 0:
            bank = _bank_account(importer, by, result)
            _pay(account, amount=owing, method=Payment.Method.PAD, paid_on=on_time,
                 reference=f"DEMO-PAD-{stamp}", bank_account=bank, by=by, today=today, result=result)  # fmt: skip
        elif role == 1:
            paid_on = min(today, statement.statement_date + dt.timedelta(days=3))
            _pay(account, amount=min(Decimal("1500.00"), owing), method=Payment.Method.CREDIT_CARD,
                 paid_on=paid_on, reference=f"DEMO-CC-{stamp}", by=by, today=today, result=result)  # fmt: skip
        else:
            broker_part = min(Decimal("250.00"), owing)
            paid_on = min(today, statement.statement_date + dt.timedelta(days=2))
            _pay(account, amount=broker_part, method=Payment.Method.BROKER, paid_on=paid_on,
                 reference=f"DEMO-BROKER-{stamp}", manual={statement.pk: broker_part}, by=by,
                 today=today, result=result)  # fmt: skip
            _pay(account, amount=owing - broker_part, method=Payment.Method.ONLINE_BANKING,
                 paid_on=on_time, reference=f"DEMO-OLB-{stamp}", by=by, today=today, result=result)  # fmt: skip


def seed_payments(
    *, importers_by_stage: dict[str, list[Importer]], by: User | None, today: dt.date
) -> SeedResult:
    """Securities per stage, interest rates, the statement importers' payments, then the checks."""
    result = SeedResult()
    _rates(by, result)
    for stage, specs in BY_STAGE.items():
        for index, importer in enumerate(importers_by_stage.get(stage, [])):
            spec = specs[index % len(specs)]
            if stage == "done" and index < len(DONE_SPECS):
                spec = DONE_SPECS[index]
            for account in _accounts(importer):
                if _security(account, spec, today, by):
                    result.add("securities")
    done = list(importers_by_stage.get("done", []))[: len(DONE_SPECS)]
    _statement_payments(done, by, today, result)
    result.checks.append(run_payment_checks(today=today).summary())
    result.checks.append(run_security_checks(today=today).summary())
    return result
