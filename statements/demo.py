"""Demo statements and broker entries for ``seed_demo``: a few months of a few importers, with the
differences reconciliation exists to explain (missing, unexpected, mismatched and duplicate lines).

Everything goes through the real importers: for each importer and month the demo writes the CSV
files CBSA and the broker's system would produce and imports them. Each file's content depends only
on the account and the month, so a rerun imports nothing new (same SHA-256), and a rerun next
month adds that month's statement.

What the data holds, every month, by importer (in the order given):

1. an amended CAD (version 2 accepted before the 17th, charged at its new
   amount), another broker's CAD on the statement, and an entry CBSA has not charged yet;
2. a CAD amended *after* the 17th (the statement still charges version 1), interest and a penalty
   posted by CBSA; its latest statement is left unpaid, so it shows as overdue once due;
3. the same CAD charged twice, and a CAD whose GST differs by a few cents.

One more file, with the usual spreadsheet mistakes, is refused on purpose: its batch page shows
the error table.

Every demo statement is then reconciled in this process (``statements/reconciliation/``), so the
reconciliation pages have runs to show without a worker; the imports queue nothing themselves.
A rerun reconciles only what is pending (a new month's statement).

Every statement but the latest is paid by a payment line on the next one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from carm_portal.calendar import add_business_days, previous_business_day
from carm_portal.models import User
from clients.models import Importer, ProgramAccount
from statements import billing, receivers
from statements.importing.batches import Imported, file_now, import_stream, to_file
from statements.models import (
    COMPONENTS,
    BrokerEntry,
    ImportBatch,
    ReconciliationRun,
    Statement,
)
from statements.reconciliation.runs import reconcile_statements
from statements.reconciliation.selectors import pending_statements

MONTHS = 3
OTHER_ASECS = ("54321", "67890", "24680")
CENT = Decimal("0.01")

STATEMENT_COLUMNS = [
    "account_number",
    "statement_date",
    "line_type",
    "transaction_number",
    "posted_on",
    "reference",
    *COMPONENTS,
    "amount",
    "due_date",
]
ENTRY_COLUMNS = [
    "account_number",
    "transaction_number",
    "version",
    "release_date",
    "accounted_on",
    "client_reference",
    *COMPONENTS,
    "amount",
]


@dataclass
class Cad:
    """One CAD version: what the broker declared, and the day CBSA accepted it."""

    number: str
    version: int
    released: dt.date
    accounted: dt.date
    reference: str
    components: dict[str, Decimal]

    @property
    def amount(self) -> Decimal:
        return sum(self.components.values(), Decimal("0.00"))


@dataclass
class Month:
    """One account's billing period: the entries declared and the statement CBSA issues."""

    account: str
    period: billing.BillingPeriod
    entries: list[Cad] = field(default_factory=list)
    lines: list[dict[str, str]] = field(default_factory=list)  # besides opening and payment

    @property
    def charges(self) -> Decimal:
        return sum((Decimal(line["amount"]) for line in self.lines), Decimal("0.00"))


@dataclass
class SeedResult:
    imported: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    statements: int = 0
    entries: int = 0
    paid: int = 0
    reconciled: int = 0

    def summary(self) -> str:
        text = (
            f"Statements: {self.imported} file(s) imported, {self.unchanged} already there; "
            f"{self.statements} statements and {self.entries} entries for the demo importers."
        )
        if self.reconciled:
            text += f" {self.reconciled} statement(s) reconciled."
        if self.refused:
            text += " Refused: " + "; ".join(self.refused)
        return text


def issue_dates(today: dt.date, months: int = MONTHS) -> list[dt.date]:
    """The last ``months`` statement dates (the 25th) on or before ``today``, oldest first."""
    latest = billing.statement_period(today).statement_date
    if latest > today:
        latest = billing.statement_period(latest - dt.timedelta(days=31)).statement_date
    dates = [latest]
    while len(dates) < months:
        previous = dates[-1].replace(day=1) - dt.timedelta(days=1)
        dates.append(previous.replace(day=billing.SOA_ISSUE_DAY))
    return sorted(dates)


def other_asec() -> str:
    return next(asec for asec in OTHER_ASECS if asec not in settings.BROKER_ASECS)


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def plan_month(account: str, period: billing.BillingPeriod) -> Month:
    """The month of one account, a pure function of the account, the period and its role."""
    rng = random.Random(f"{account}:{period.start.isoformat()}")  # noqa: S311 (demo data)
    asec = settings.BROKER_ASECS[0]
    month = Month(account, period)
    serial = f"{int(account[:9]) % 1000:03d}{period.end.year % 10}{period.end.month:02d}"
    days = (period.end - period.start).days
    for n in range(rng.randint(4, 6)):
        released = period.start + dt.timedelta(days=rng.randint(0, days - 6))
        value = rng.randint(800, 40_000)
        duties = _money(value * rng.choice([0, 0.048, 0.065, 0.08]))
        parts = {"customs_duties": duties, "gst": _money((value + float(duties)) * 0.05)}
        if rng.random() < 0.2:
            parts["excise_taxes"] = _money(value * 0.1)
        month.entries.append(
            Cad(
                number=f"{asec}{serial}{n:03d}",
                version=1,
                released=released,
                accounted=add_business_days(released, rng.randint(1, 4)),
                reference=f"F-{period.end:%y}-{rng.randint(1000, 9999)}",
                components={k: v for k, v in parts.items() if v},
            )
        )
    for cad in month.entries:
        month.lines.append(_line(cad, posted=add_business_days(cad.accounted, 1)))
    return month


def add_differences(month: Month, role: int) -> None:
    """Put in the realistic differences of the module docstring (every month of that importer)."""
    first = month.entries[0]
    if role == 0:
        amended = Cad(
            first.number,
            2,
            first.released,
            # Accepted before the period closes (never after the 17th), so the statement
            # charges it: the amendment after the 17th is importer 2's story.
            min(first.accounted + dt.timedelta(days=2), month.period.end),
            first.reference,
            {**first.components, "gst": first.components["gst"] + Decimal("15.00")},
        )
        month.entries.append(amended)
        month.lines[0] = _line(amended, posted=amended.accounted)
        other = Cad(
            f"{other_asec()}{month.account[:4]}{month.period.end.month:02d}001",
            1,
            month.period.start,
            month.period.start + dt.timedelta(days=2),
            "",
            {"gst": Decimal("98.75")},
        )
        month.lines.append(_line(other, posted=other.accounted))
        late = month.entries[-2] if len(month.entries) > 2 else first
        month.lines = [line for line in month.lines if line["transaction_number"] != late.number]
    elif role == 1:
        after = Cad(
            first.number,
            2,
            first.released,
            month.period.end + dt.timedelta(days=1),
            first.reference,
            {**first.components, "gst": first.components["gst"] - Decimal("20.00")},
        )
        month.entries.append(after)  # accepted after the 17th: the next period's
        month.lines.append(
            {
                "line_type": "INTEREST",
                "transaction_number": "",
                "posted_on": month.period.end.isoformat(),
                "reference": f"INT-{month.period.end:%Y-%m}",
                "interest": "12.37",
                "amount": "12.37",
            }
        )
        month.lines.append(
            {
                "line_type": "PENALTY",
                "transaction_number": "",
                "posted_on": month.period.end.isoformat(),
                "reference": "AMPS C336",
                "other": "200.00",
                "amount": "200.00",
            }
        )
    elif role == 2:
        month.lines.append(dict(month.lines[1]))  # charged twice
        second = month.entries[2]
        changed = {**second.components, "gst": second.components["gst"] + Decimal("0.27")}
        month.lines[2] = _line(
            Cad(second.number, 1, second.released, second.accounted, "", changed),
            posted=add_business_days(second.accounted, 1),
        )


def _line(cad: Cad, *, posted: dt.date) -> dict[str, str]:
    return {
        "line_type": "CAD",
        "transaction_number": cad.number,
        "posted_on": posted.isoformat(),
        "reference": "",
        **{name: f"{value:.2f}" for name, value in cad.components.items()},
        "amount": f"{cad.amount:.2f}",
    }


def statement_csv(month: Month, *, opening: Decimal, paid_on: dt.date | None) -> bytes:
    """The SOA of ``month``: opening balance, payment of the last one, the period's lines, and
    the closing balance it states."""
    issued = month.period.statement_date
    rows = [
        {
            "line_type": "OPENING_BALANCE",
            "posted_on": month.period.start.isoformat(),
            "amount": f"{opening:.2f}",
        }
    ]
    if opening and paid_on is not None:
        rows.append(
            {
                "line_type": "PAYMENT",
                "posted_on": paid_on.isoformat(),
                "reference": f"PAY-{month.account[:5]}{paid_on:%m%d}",
                "amount": f"{-opening:.2f}",
            }
        )
    rows += sorted(month.lines, key=lambda line: line["posted_on"])
    rows.append(  # the closing balance the statement states, as CBSA's do
        {
            "line_type": "CLOSING_BALANCE",
            "posted_on": month.period.end.isoformat(),
            "amount": f"{sum(Decimal(row['amount']) for row in rows):.2f}",
        }
    )
    common = {
        "account_number": month.account,
        "statement_date": issued.isoformat(),
        "due_date": month.period.due_date.isoformat(),
    }
    return _csv(STATEMENT_COLUMNS, [{**common, **row} for row in rows])


def entries_csv(month: Month) -> bytes:
    rows = [
        {
            "account_number": month.account,
            "transaction_number": cad.number,
            "version": str(cad.version),
            "release_date": cad.released.isoformat(),
            "accounted_on": cad.accounted.isoformat(),
            "client_reference": cad.reference,
            **{name: f"{value:.2f}" for name, value in cad.components.items()},
            "amount": f"{cad.amount:.2f}",
        }
        for cad in month.entries
    ]
    return _csv(ENTRY_COLUMNS, rows)


def _csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(columns)]
    lines += [",".join(row.get(column, "") for column in columns) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _first_account(importer: Importer) -> str | None:
    account = (
        ProgramAccount.objects.filter(importer=importer, status=ProgramAccount.Status.ACTIVE)
        .order_by("bn15")
        .first()
    )
    return account.bn15 if account else None


def _import(kind: str, content: bytes, name: str, by: User | None, result: SeedResult) -> Imported:
    imported = import_stream(kind=kind, stream=io.BytesIO(content), file_name=name, user=by)
    if imported.already_imported:
        result.unchanged += 1
    elif imported.batch.status == ImportBatch.Status.ACCEPTED:
        result.imported += 1
        if to_file(imported.batch):  # filed here: the demo's records show before a worker runs
            file_now(imported.batch.pk)
    else:
        result.refused.append(f"{name}: {imported.batch.message}")
    return imported


def seed_statements(
    *, importers: list[Importer], by: User | None, today: dt.date, months: int = MONTHS
) -> SeedResult:
    """Import ``months`` statements and their entries for each importer (idempotent)."""
    with receivers.paused():
        return _seed_statements(importers=importers, by=by, today=today, months=months)


def _seed_statements(
    *, importers: list[Importer], by: User | None, today: dt.date, months: int
) -> SeedResult:
    result = SeedResult()
    dates = issue_dates(today, months)
    accounts = []
    for role, importer in enumerate(importers):
        account = _first_account(importer)
        if account is None:
            continue
        accounts.append(account)
        periods = [billing.statement_period(day) for day in dates]
        previous = _month(account, billing.billing_period(periods[0].start - dt.timedelta(1)), role)
        for period in periods:
            month = _month(account, period, role)
            paid_on = previous_business_day(previous.period.due_date - dt.timedelta(2))
            stamp = f"{account}-{period.statement_date.isoformat()}"
            _import("entries", entries_csv(month), f"entries-{stamp}.csv", by, result)
            _import(
                "statement",
                statement_csv(month, opening=previous.charges, paid_on=paid_on),
                f"soa-{stamp}.csv",
                by,
                result,
            )
            previous = month
        # The broker's entries of the period still open (up to today): CBSA will charge them on
        # the next statement.
        current = _month(account, billing.billing_period(today), role)
        current.entries = [cad for cad in current.entries if cad.accounted <= today]
        if current.entries:
            name = f"entries-{account}-open-{today.isoformat()}.csv"
            _import("entries", entries_csv(current), name, by, result)
    if accounts:
        _refused_example(accounts[0], by, result)
    pending = pending_statements(Statement.objects.filter(program_account__bn15__in=accounts))
    result.reconciled = len(
        reconcile_statements(pending, run_by=by, trigger=ReconciliationRun.Trigger.COMMAND)
    )
    result.paid = _mark_paid(accounts, latest=dates[-1], unpaid_role_account=accounts[1:2])
    statements = Statement.objects.filter(program_account__bn15__in=accounts)
    result.statements = statements.count()
    result.entries = BrokerEntry.objects.filter(program_account__bn15__in=accounts).count()
    return result


def _refused_example(account: str, by: User | None, result: SeedResult) -> None:
    """One file with the usual mistakes, refused, so the batch page has an error table to show.

    Refused files are not deduplicated (a fixed file may be sent again), so it is sent once.
    """
    unknown = f"{account[:9]}RM0009"
    rows = [
        {"line_type": "OPENING_BALANCE", "posted_on": "2025-01-18", "amount": "0.00"},
        {
            "line_type": "CAD",
            "transaction_number": "1234500000001",
            "posted_on": "2025-01-20",
            "gst": "50.00",
            "amount": "50.00",
        },
        {
            "line_type": "CAD",
            "transaction_number": "12345000000017",
            "posted_on": "2025-02-30",
            "gst": '"1,020.53"',
            "amount": '"1,020.53"',
        },
        {"line_type": "INTEREST", "posted_on": "2025-02-17", "amount": "$8.44"},
        {
            "account_number": unknown,
            "line_type": "CAD",
            "transaction_number": "12345000000025",
            "posted_on": "2025-02-03",
            "customs_duties": "10.00",
            "gst": "5.00",
            "amount": "15.50",
        },
    ]
    common = {"account_number": account, "statement_date": "2025-02-25", "due_date": ""}
    content = _csv(STATEMENT_COLUMNS, [{**common, **row} for row in rows])
    if ImportBatch.objects.filter(sha256=hashlib.sha256(content).hexdigest()).exists():
        result.unchanged += 1
        return
    import_stream(
        kind="statement",
        stream=io.BytesIO(content),
        file_name=f"soa-{account}-2025-02-25-from-excel.csv",
        user=by,
    )
    result.imported += 1


def _month(account: str, period: billing.BillingPeriod, role: int) -> Month:
    month = plan_month(account, period)
    add_differences(month, role)
    return month


def _mark_paid(accounts: list[str], *, latest: dt.date, unpaid_role_account: list[str]) -> int:
    """Statements paid by the next one's payment line, and the latest ones but one importer's."""
    changed = 0
    statements = Statement.objects.filter(program_account__bn15__in=accounts).exclude(
        status=Statement.Status.PAID
    )
    for statement in statements.select_related("program_account"):
        if statement.statement_date == latest and (
            statement.program_account.bn15 in unpaid_role_account
        ):
            continue
        statement.status = Statement.Status.PAID
        statement._change_reason = "Demo: paid"
        statement.save(update_fields=["status", "updated_at"])
        changed += 1
    return changed
