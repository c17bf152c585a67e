"""Allocation: CBSA's order, partial and split payments, overpayments, broker-paid amounts, by hand."""

import datetime as dt

import pytest

from payments.allocation import (
    AllocationError,
    OpenStatement,
    allocate_payment,
    open_statements,
    plan_default,
    plan_manual,
)
from payments.balances import refresh_balances
from payments.models import Payment, PaymentAllocation, StatementBalance
from payments.posted_payments import sync_posted_payments
from payments.records import record_payment, set_payment_status
from tests.factories import ProgramAccountFactory
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db


def open_(sid, due, available, day=None):
    return OpenStatement(
        statement_id=sid,
        statement_date=day or due - dt.timedelta(days=10),
        due_date=due,
        billed=D(available),
        available=D(available),
    )


OCT, NOV, DEC = dt.date(2026, 10, 30), dt.date(2026, 11, 30), dt.date(2026, 12, 31)


# --- The plan (pure) -----------------------------------------------------------------------------


def test_oldest_overdue_first_then_the_oldest_due():
    opens = [open_(3, DEC, "300.00"), open_(1, OCT, "100.00"), open_(2, NOV, "200.00")]

    plan = plan_default(amount=D("250.00"), open_statements=opens, on=dt.date(2026, 11, 10))

    assert plan.parts == ((1, D("100.00")), (2, D("150.00")))
    assert plan.unapplied == D("0.00")
    assert plan.short == (2, D("50.00"))


def test_overdue_statements_go_first_even_when_issued_later():
    # Statement 9 was issued later but is already overdue; statement 8 is not due yet.
    opens = [open_(8, DEC, "100.00", day=dt.date(2026, 10, 1)), open_(9, OCT, "100.00")]

    plan = plan_default(amount=D("100.00"), open_statements=opens, on=dt.date(2026, 11, 2))

    assert plan.parts == ((9, D("100.00")),)


def test_a_payment_split_across_statements_pays_each_in_full():
    opens = [open_(1, OCT, "100.00"), open_(2, NOV, "200.00")]

    plan = plan_default(amount=D("300.00"), open_statements=opens, on=dt.date(2026, 11, 2))

    assert plan.parts == ((1, D("100.00")), (2, D("200.00")))
    assert (plan.unapplied, plan.short) == (D("0.00"), None)


def test_an_overpayment_leaves_the_rest_unapplied():
    plan = plan_default(
        amount=D("350.01"), open_statements=[open_(1, OCT, "100.00")], on=dt.date(2026, 11, 2)
    )

    assert plan.parts == ((1, D("100.00")),)
    assert plan.unapplied == D("250.01")


def test_statements_already_paid_take_nothing():
    opens = [open_(1, OCT, "0.00"), open_(2, NOV, "40.00")]

    plan = plan_default(amount=D("40.00"), open_statements=opens, on=dt.date(2026, 11, 2))

    assert plan.parts == ((2, D("40.00")),)


def test_by_hand_no_more_than_a_statement_still_asks_for():
    opens = [open_(1, OCT, "100.00"), open_(2, NOV, "200.00")]

    plan = plan_manual(amount=D("150.00"), open_statements=opens, wanted={2: D("150.00")})
    assert (plan.parts, plan.unapplied, plan.manual) == (((2, D("150.00")),), D("0.00"), True)

    with pytest.raises(AllocationError) as too_much:
        plan_manual(amount=D("500.00"), open_statements=opens, wanted={1: D("100.01")})
    assert too_much.value.messages == [
        "The statement of 2026-10-20 still asks for $100.00, not $100.01 (the rest is paid, in "
        "transit, or paid by the broker)."
    ]
    with pytest.raises(AllocationError, match="add up to more than the payment"):
        plan_manual(
            amount=D("150.00"), open_statements=opens, wanted={1: D("100.00"), 2: D("60.00")}
        )
    with pytest.raises(AllocationError, match="not one of this account's"):
        plan_manual(amount=D("10.00"), open_statements=opens, wanted={99: D("10.00")})


# --- Written -------------------------------------------------------------------------------------


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


@pytest.fixture
def three(account):
    """Statements of August (overdue), September (overdue) and November (due 2026-12-01)."""
    return [
        make_statement(account, dt.date(2026, 8, 25), "1000.00", ("INTEREST", "12.50")),
        make_statement(account, dt.date(2026, 9, 25), "2000.00", ("CREDIT", "-100.00")),
        make_statement(account, dt.date(2026, 11, 25), "500.00"),
    ]


def record(account, amount, *, method="online_banking", paid_on=dt.date(2026, 11, 20), **kw):
    return record_payment(
        importer=account.importer,
        program_account=account,
        amount=D(amount),
        method=method,
        paid_on=paid_on,
        by=None,
        **kw,
    )


def applied(payment):
    return [
        (a.statement.statement_date.isoformat(), a.amount)
        for a in payment.allocations.order_by("statement__due_date")
    ]


def test_a_partial_payment_pays_the_oldest_statement_first(account, three):
    payment, plan = record(account, "1500.00")

    assert applied(payment) == [("2026-08-25", D("1012.50")), ("2026-09-25", D("487.50"))]
    assert plan.short == (three[1].pk, D("1412.50"))  # credits reduce what September asks for
    assert StatementBalance.objects.get(statement=three[1]).outstanding == D("1412.50")
    assert StatementBalance.objects.get(statement=three[0]).in_transit == D("1012.50")


def test_an_overpayment_is_kept_unapplied_and_shown(account, three, personas, client_for):
    payment, plan = record(account, "5000.00", status="cleared")

    assert plan.unapplied == D("1587.50")
    response = client_for(personas.broker_finance).get(payment.get_absolute_url())
    assert response.context["unapplied"] == D("1587.50")
    assert "$1,587.50 of this payment is not applied to any statement." in response.content.decode()


def test_a_later_payment_skips_what_earlier_ones_cover(account, three):
    record(account, "1012.50")

    second, _plan = record(account, "100.00")

    assert applied(second) == [("2026-09-25", D("100.00"))]


def test_importer_payments_are_not_applied_to_broker_paid_amounts(account, three):
    # The broker paid August in full on the importer's behalf (still in transit).
    broker, _plan = record(account, "1012.50", method="broker", manual={three[0].pk: D("1012.50")})
    assert broker.status == Payment.Status.PENDING

    payment, _plan = record(account, "1000.00")

    assert applied(payment) == [("2026-09-25", D("1000.00"))]
    with pytest.raises(AllocationError, match=r"still asks for \$0\.00"):
        allocate_payment(payment=payment, manual={three[0].pk: D("1.00")})


def test_a_broker_paid_payment_goes_only_where_the_broker_says(account, three):
    with pytest.raises(AllocationError, match="allocate it by hand"):
        record(account, "100.00", method="broker")

    payment, plan = record(account, "600.00", method="broker", manual={three[2].pk: D("500.00")})

    assert applied(payment) == [("2026-11-25", D("500.00"))]
    assert plan.unapplied == D("100.00")  # not spread to the older statements


def test_a_failed_allocation_records_nothing(account, three):
    with pytest.raises(AllocationError):
        record(account, "100.00", manual={three[0].pk: D("5000.00")})

    assert Payment.objects.count() == 0


def test_allocating_again_by_hand_replaces_the_allocation(account, three):
    payment, _plan = record(account, "1000.00")

    allocate_payment(payment=payment, manual={three[2].pk: D("400.00")})

    assert applied(payment) == [("2026-11-25", D("400.00"))]
    assert PaymentAllocation.objects.get(payment=payment).manual is True
    assert StatementBalance.objects.get(statement=three[0]).outstanding == D("1012.50")


def test_a_returned_payment_pays_nothing_and_the_statement_owes_again(account, three):
    payment, _plan = record(account, "1012.50")
    assert StatementBalance.objects.get(statement=three[0]).outstanding == D("0.00")

    set_payment_status(payment=payment, status=Payment.Status.RETURNED, by=None)

    assert StatementBalance.objects.get(statement=three[0]).outstanding == D("1012.50")
    assert open_statements(program_account_id=account.pk)[0].available == D("1012.50")
    with pytest.raises(AllocationError, match="returned payment pays nothing"):
        allocate_payment(payment=payment)
    with pytest.raises(AllocationError, match="cannot become cleared"):
        set_payment_status(payment=payment, status=Payment.Status.CLEARED, by=None)


def test_the_earliest_statement_on_record_carries_its_opening_balance(account):
    first = make_statement(account, dt.date(2026, 8, 25), "100.00", opening="250.00")
    second = make_statement(account, dt.date(2026, 9, 25), "70.00", opening="350.00")

    opens = {o.statement_id: o.billed for o in open_statements(program_account_id=account.pk)}

    assert opens == {first.pk: D("350.00"), second.pk: D("70.00")}
    refresh_balances(statement_ids=[first.pk, second.pk])
    assert StatementBalance.objects.get(statement=first).billed == D("350.00")
    assert StatementBalance.objects.get(statement=second).billed == D("70.00")


def test_other_accounts_statements_are_never_touched(account, three):
    other = ProgramAccountFactory(importer=account.importer)
    make_statement(other, dt.date(2026, 8, 25), "999.00")

    payment, _plan = record(account, "5000.00")

    assert {a.statement.program_account_id for a in payment.allocations.all()} == {account.pk}


# --- Payments CBSA shows on statements -----------------------------------------------------------


def test_a_payment_line_matches_the_recorded_payment_and_clears_it(account):
    august = make_statement(account, dt.date(2026, 8, 25), "1000.00")
    payment, _plan = record(account, "1000.00", paid_on=dt.date(2026, 9, 1), reference="CONF-77")
    september = make_statement(
        account, dt.date(2026, 9, 25), ("PAYMENT", "-1000.00"), "80.00", opening="1000.00"
    )
    line = september.lines.get(line_type="PAYMENT")
    line.reference, line.posted_on = "conf-77", dt.date(2026, 9, 3)
    line.save()

    result = sync_posted_payments(statement_ids=[september.pk])

    payment.refresh_from_db()
    assert (result.matched, result.created) == (1, 0)
    assert (payment.status, payment.statement_line_id) == (Payment.Status.CLEARED, line.pk)
    assert applied(payment) == [("2026-08-25", D("1000.00"))]
    assert StatementBalance.objects.get(statement=august).paid == D("1000.00")


def test_a_payment_nobody_recorded_is_added_from_the_statement_once(account):
    august = make_statement(account, dt.date(2026, 8, 25), "1000.00")
    september = make_statement(
        account, dt.date(2026, 9, 25), ("PAYMENT", "-1000.00"), "80.00", opening="1000.00"
    )

    first = sync_posted_payments(statement_ids=[september.pk])
    again = sync_posted_payments(statement_ids=[september.pk])

    found = Payment.objects.get()
    assert (first.created, again.created, again.matched) == (1, 0, 0)
    assert (found.source, found.method, found.status, found.amount) == (
        Payment.Source.STATEMENT,
        Payment.Method.UNKNOWN,
        Payment.Status.CLEARED,
        D("1000.00"),
    )
    assert applied(found) == [("2026-08-25", D("1000.00"))]
    assert StatementBalance.objects.get(statement=august).outstanding == D("0.00")
    assert found.history.count() == 1


def test_a_balance_carries_its_statements_importer_and_due_date(account):
    """Today reads them from the balance, without the statement: written on create and update."""
    from statements.models import Statement

    august = make_statement(account, dt.date(2026, 8, 25), "100.00", due_date=OCT)
    refresh_balances(statement_ids=[august.pk])
    balance = StatementBalance.objects.get(statement=august)
    assert (balance.importer_id, balance.due_date) == (account.importer_id, OCT)
    Statement.objects.filter(pk=august.pk).update(due_date=dt.date(2026, 10, 1))
    refresh_balances(statement_ids=[august.pk])
    assert StatementBalance.objects.get(statement=august).due_date == dt.date(2026, 10, 1)
