"""Splitting a payment across an account's statements.

CBSA's rule, the default here: money goes to the **oldest overdue amount first** (as of the day it
was paid), then to the oldest amount due; what is left over stays **unapplied** and is shown as
such, never silently spread. A person may allocate by hand instead (``plan_manual``).

What a statement still asks for (``OpenStatement.available``) is what it billed (every line but
the opening balance and payments; the account's earliest statement on record also carries its
opening balance, owed from before our records) less what other payments already cover: cleared ones and those
in transit alike, the importer's and the broker's. So an importer's payment is **never applied to
an amount the broker paid on its behalf**, even while the broker's payment is still in transit.
A payment made by the broker is applied to the statements it was made for: by hand, always.

Planning is pure (``plan_default``, ``plan_manual``); ``allocate_payment`` writes a plan, replacing
the payment's earlier allocations, under a lock on the program account so two payments recorded
at once cannot both take the same amount.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from carm_portal.models import User
from carm_portal.money import ZERO, format_money, from_cents, sum_cents
from clients.models import ProgramAccount
from payments.balances import NOT_BILLED, refresh_balances
from payments.models import Payment, PaymentAllocation
from statements.models import Statement, StatementLine


class AllocationError(ValueError):
    """An allocation that cannot be made; ``messages`` says why, one sentence each."""

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(" ".join(self.messages))


@dataclass(frozen=True)
class OpenStatement:
    statement_id: int
    statement_date: dt.date
    due_date: dt.date
    billed: Decimal
    available: Decimal  # billed less what other payments cover; never below zero


@dataclass(frozen=True)
class Plan:
    amount: Decimal
    parts: tuple[tuple[int, Decimal], ...]  # (statement id, amount), in the order applied
    unapplied: Decimal
    manual: bool = False
    # The last statement the payment reaches when it does not pay it in full: (id, left unpaid).
    short: tuple[int, Decimal] | None = None

    @property
    def applied(self) -> Decimal:
        return self.amount - self.unapplied


def _oldest_first(statement: OpenStatement) -> tuple:
    return (statement.due_date, statement.statement_date, statement.statement_id)


def plan_default(*, amount: Decimal, open_statements: Sequence[OpenStatement], on: dt.date) -> Plan:
    """CBSA's order: statements overdue on ``on`` (oldest first), then those still due."""
    owing = [s for s in open_statements if s.available > ZERO]
    overdue = sorted((s for s in owing if s.due_date < on), key=_oldest_first)
    due = sorted((s for s in owing if s.due_date >= on), key=_oldest_first)
    remaining = amount
    parts: list[tuple[int, Decimal]] = []
    short = None
    for statement in [*overdue, *due]:
        if remaining <= ZERO:
            break
        take = min(remaining, statement.available)
        parts.append((statement.statement_id, take))
        remaining -= take
        if take < statement.available:
            short = (statement.statement_id, statement.available - take)
    return Plan(amount=amount, parts=tuple(parts), unapplied=remaining, short=short)


def plan_manual(
    *,
    amount: Decimal,
    open_statements: Sequence[OpenStatement],
    wanted: Mapping[int, Decimal],
) -> Plan:
    """A person's split: each statement of the account, no more than it still asks for."""
    by_id = {s.statement_id: s for s in open_statements}
    errors: list[str] = []
    parts: list[tuple[int, Decimal]] = []
    for statement_id, value in wanted.items():
        if not value:
            continue
        statement = by_id.get(statement_id)
        if statement is None:
            errors.append(
                _("Statement #%(id)s is not one of this account's.") % {"id": statement_id}
            )
            continue
        if value < ZERO:
            errors.append(_("An amount applied cannot be negative."))
            continue
        if value > statement.available:
            errors.append(
                _(
                    "The statement of %(day)s still asks for %(available)s, not %(value)s (the "
                    "rest is paid, in transit, or paid by the broker)."
                )
                % {
                    "day": statement.statement_date.isoformat(),
                    "available": format_money(statement.available),
                    "value": format_money(value),
                }
            )
            continue
        parts.append((statement_id, value))
    total = sum((v for _id, v in parts), ZERO)
    if total > amount:
        errors.append(
            _("The amounts applied (%(total)s) add up to more than the payment (%(amount)s).")
            % {"total": format_money(total), "amount": format_money(amount)}
        )
    if errors:
        raise AllocationError(errors)
    parts.sort(key=lambda part: _oldest_first(by_id[part[0]]))
    short = next(
        (
            (sid, by_id[sid].available - value)
            for sid, value in parts
            if value < by_id[sid].available
        ),
        None,
    )
    return Plan(
        amount=amount, parts=tuple(parts), unapplied=amount - total, manual=True, short=short
    )


# --- What each statement still asks for ----------------------------------------------------------


def open_statements_for(
    account_ids: Collection[int], *, exclude_payment_ids: Collection[int] = ()
) -> dict[int, list[OpenStatement]]:
    """account id -> its billed statements with what each still asks for (three queries).

    ``exclude_payment_ids``: payments whose allocations are about to be replaced.
    """
    account_ids = list(account_ids)
    statements = {}
    first: dict[int, tuple[dt.date, int, Decimal]] = {}  # account -> its earliest statement
    for pk, account_id, day, due, opening in Statement.objects.filter(
        program_account_id__in=account_ids
    ).values_list("id", "program_account_id", "statement_date", "due_date", "opening_balance"):
        statements[pk] = (account_id, day, due)
        if account_id not in first or (day, pk) < first[account_id][:2]:
            first[account_id] = (day, pk, opening)
    billed = {
        statement_id: from_cents(total)
        for statement_id, total in StatementLine.objects.filter(
            statement__program_account_id__in=account_ids
        )
        .exclude(line_type__in=NOT_BILLED)
        .values("statement_id")
        .annotate(total=sum_cents("amount"))
        .values_list("statement_id", "total")
        .order_by()
    }
    for _day, statement_id, opening in first.values():  # what was owed before our records
        billed[statement_id] = billed.get(statement_id, ZERO) + opening
    covered = {
        statement_id: from_cents(total)
        for statement_id, total in PaymentAllocation.objects.filter(
            statement__program_account_id__in=account_ids
        )
        .exclude(payment__status=Payment.Status.RETURNED)
        .exclude(payment_id__in=list(exclude_payment_ids))
        .values("statement_id")
        .annotate(total=sum_cents("amount"))
        .values_list("statement_id", "total")
        .order_by()
    }
    result: dict[int, list[OpenStatement]] = defaultdict(list)
    for statement_id, amount in billed.items():
        if amount <= ZERO:
            continue  # a statement of credits only asks for nothing
        account_id, day, due = statements[statement_id]
        result[account_id].append(
            OpenStatement(
                statement_id=statement_id,
                statement_date=day,
                due_date=due,
                billed=amount,
                available=max(amount - covered.get(statement_id, ZERO), ZERO),
            )
        )
    for items in result.values():
        items.sort(key=_oldest_first)
    return result


def open_statements(
    *, program_account_id: int, exclude_payment_id: int | None = None
) -> list[OpenStatement]:
    excluded = [exclude_payment_id] if exclude_payment_id else []
    return open_statements_for([program_account_id], exclude_payment_ids=excluded).get(
        program_account_id, []
    )


def take(open_list: list[OpenStatement], plan: Plan) -> list[OpenStatement]:
    """``open_list`` after ``plan`` is applied (for planning several payments in turn)."""
    taken = dict(plan.parts)
    return [
        replace(s, available=s.available - taken[s.statement_id]) if s.statement_id in taken else s
        for s in open_list
    ]


def preview(
    *,
    program_account: ProgramAccount,
    amount: Decimal,
    method: str,
    paid_on: dt.date,
    manual: Mapping[int, Decimal] | None = None,
    exclude_payment_id: int | None = None,
) -> Plan:
    """What recording this payment would do, without writing (raises ``AllocationError``)."""
    opens = open_statements(
        program_account_id=program_account.pk, exclude_payment_id=exclude_payment_id
    )
    if manual is not None:
        return plan_manual(amount=amount, open_statements=opens, wanted=manual)
    if method == Payment.Method.BROKER:
        raise AllocationError(broker_needs_hand())
    return plan_default(amount=amount, open_statements=opens, on=paid_on)


def broker_needs_hand() -> str:
    return _(
        "A payment the broker made on the importer's behalf goes to the statements it was made "
        "for: allocate it by hand."
    )


# --- Writing -------------------------------------------------------------------------------------


def lock_account(program_account_id: int) -> None:
    """Serialise allocations on one account (a row lock on PostgreSQL; SQLite locks the file)."""
    list(ProgramAccount.objects.select_for_update().filter(pk=program_account_id).values("pk"))


@transaction.atomic
def allocate_payment(
    *,
    payment: Payment,
    by: User | None = None,
    manual: Mapping[int, Decimal] | None = None,
    on: dt.date | None = None,
) -> Plan:
    """Apply ``payment`` by CBSA's rule (or ``manual``: statement id -> amount), replacing any
    earlier allocation of it; returns the plan written. Refreshes the statements' balances."""

    lock_account(payment.program_account_id)
    payment.refresh_from_db(fields=["status", "amount", "method"])  # as it is now, under the lock
    if payment.status == Payment.Status.RETURNED:
        raise AllocationError(_("A returned payment pays nothing: it cannot be allocated."))
    opens = open_statements(
        program_account_id=payment.program_account_id, exclude_payment_id=payment.pk
    )
    if manual is not None:
        plan = plan_manual(amount=payment.amount, open_statements=opens, wanted=manual)
    elif payment.is_broker_paid:
        raise AllocationError(broker_needs_hand())
    else:
        plan = plan_default(amount=payment.amount, open_statements=opens, on=on or payment.paid_on)

    wanted = dict(plan.parts)
    existing = {a.statement_id: a for a in payment.allocations.all()}
    touched = set(existing) | set(wanted)
    for statement_id, allocation in existing.items():
        if wanted.get(statement_id) != allocation.amount or allocation.manual != plan.manual:
            allocation._history_user = by
            allocation.delete()
    for statement_id, amount in plan.parts:
        current = existing.get(statement_id)
        if current is not None and current.amount == amount and current.manual == plan.manual:
            continue
        allocation = PaymentAllocation(
            payment=payment,
            statement_id=statement_id,
            amount=amount,
            manual=plan.manual,
            allocated_by=by,
        )
        allocation._history_user = by
        allocation.save()
    refresh_balances(statement_ids=touched)
    return plan
