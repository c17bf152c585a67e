"""``Statement.status`` follows the balances: paid in full -> paid, no longer -> open (set-based)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.allocation import allocate_payment
from payments.balances import refresh_balances, sync_paid_status
from payments.models import Payment
from payments.records import record_payment, set_payment_status
from statements.models import Statement
from statements.signals import statements_imported
from tests.factories import (
    ImportBatchFactory,
    ProgramAccountFactory,
    ReconciliationRunFactory,
    StatementLineFactory,
)
from tests.payments.conftest import D, account_of, make_statement

pytestmark = pytest.mark.django_db

SEPT, OCT = dt.date(2026, 9, 25), dt.date(2026, 10, 25)  # both due before TODAY (2026-11-23)


def pay(account, amount: str, *, manual=None, method=Payment.Method.ONLINE_BANKING, **kw):
    payment, _plan = record_payment(
        importer=account.importer,
        program_account=account,
        amount=D(amount),
        method=method,
        paid_on=dt.date(2026, 11, 2),
        status=Payment.Status.CLEARED,
        manual=manual,
        by=None,
        **kw,
    )
    return payment


def status_of(*statements: Statement) -> list[str]:
    return [Statement.objects.get(pk=s.pk).status for s in statements]


def test_paid_in_full_becomes_paid_with_a_history_record():
    account = ProgramAccountFactory()
    statement = make_statement(account, OCT, "100.00", ("INTEREST", "2.50"))

    pay(account, "102.50")

    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID
    latest = statement.history.order_by("-history_id").first()
    assert (latest.status, latest.history_change_reason) == ("paid", "Paid in full")
    assert statement.balance.computed_at == statement.updated_at  # not stale because of it


def test_a_partial_payment_leaves_it_open():
    account = ProgramAccountFactory()
    statement = make_statement(account, OCT, "100.00")

    pay(account, "99.99")

    assert status_of(statement) == [Statement.Status.OPEN]


def test_a_payment_in_transit_counts_like_the_worklists_count_it():
    account = ProgramAccountFactory()
    statement = make_statement(account, OCT, "100.00")

    payment, _plan = record_payment(
        importer=account.importer,
        program_account=account,
        amount=D("100.00"),
        method=Payment.Method.ONLINE_BANKING,
        paid_on=dt.date(2026, 11, 2),
        by=None,
    )

    assert payment.status == Payment.Status.PENDING
    assert status_of(statement) == [Statement.Status.PAID]


def test_oldest_first_marks_only_the_statements_paid_in_full():
    account = ProgramAccountFactory()
    first = make_statement(account, SEPT, "100.00")
    second = make_statement(account, OCT, "200.00")

    pay(account, "150.00")

    assert status_of(first, second) == [Statement.Status.PAID, Statement.Status.OPEN]


def test_an_allocation_moved_away_reopens_it():
    account = ProgramAccountFactory()
    first = make_statement(account, SEPT, "100.00")
    second = make_statement(account, OCT, "100.00")
    payment = pay(account, "100.00")
    assert status_of(first, second) == [Statement.Status.PAID, Statement.Status.OPEN]

    allocate_payment(payment=payment, manual={second.pk: D("100.00")})

    assert status_of(first, second) == [Statement.Status.OPEN, Statement.Status.PAID]
    reasons = list(
        first.history.order_by("history_id").values_list("status", "history_change_reason")
    )
    assert reasons[-2:] == [("paid", "Paid in full"), ("open", "No longer paid in full")]


def test_a_returned_payment_reopens_it():
    account = ProgramAccountFactory()
    statement = make_statement(account, OCT, "100.00")
    payment = pay(account, "100.00")

    set_payment_status(payment=payment, status=Payment.Status.RETURNED, by=None)

    assert status_of(statement) == [Statement.Status.OPEN]


def test_a_reconciled_statement_becomes_paid_and_reopens_as_open_not_reconciled():
    account = ProgramAccountFactory()
    statement = make_statement(account, OCT, "100.00")
    Statement.objects.filter(pk=statement.pk).update(status=Statement.Status.RECONCILED)
    payment = pay(account, "100.00")
    assert status_of(statement) == [Statement.Status.PAID]

    set_payment_status(payment=payment, status=Payment.Status.RETURNED, by=None)

    # No clean current run: payments leave it "open" for reconciliation to decide.
    assert status_of(statement) == [Statement.Status.OPEN]


def test_a_reopened_statement_with_a_clean_current_run_is_reconciled_again():
    account = ProgramAccountFactory()
    statement = make_statement(account, OCT, "100.00")
    ReconciliationRunFactory(statement=statement, balance_ok=True)  # no open exception
    payment = pay(account, "100.00")
    assert status_of(statement) == [Statement.Status.PAID]

    set_payment_status(payment=payment, status=Payment.Status.RETURNED, by=None)

    assert status_of(statement) == [Statement.Status.RECONCILED]


def test_a_statement_with_nothing_to_pay_is_not_paid():
    account = ProgramAccountFactory()
    empty = make_statement(account, SEPT)
    credit = make_statement(account, OCT, ("CREDIT", "-40.00"))

    refresh_balances()

    assert status_of(empty, credit) == [Statement.Status.OPEN, Statement.Status.OPEN]


def test_a_carried_closing_balance_with_nothing_billed_is_paid():
    """The rule as asked: nothing outstanding and a closing balance above zero (carried from
    earlier statements, which keep their own status)."""
    account = ProgramAccountFactory()
    first = make_statement(account, SEPT, "100.00")
    carried = make_statement(account, OCT, opening="100.00")

    refresh_balances()

    assert status_of(first, carried) == [Statement.Status.OPEN, Statement.Status.PAID]


def test_a_rerun_changes_nothing():
    account = ProgramAccountFactory()
    statement = make_statement(account, OCT, "100.00")
    pay(account, "100.00")
    records = statement.history.count()

    refresh_balances(statement_ids=[statement.pk])

    assert status_of(statement) == [Statement.Status.PAID]
    assert statement.history.count() == records


def _paid_statements(count: int) -> list[int]:
    ids = []
    for n in range(count):
        account = ProgramAccountFactory()
        statement = make_statement(account, OCT, "10.00")
        Payment.objects.create(
            importer=account.importer,
            program_account=account,
            amount=D("10.00"),
            method=Payment.Method.CHEQUE,
            paid_on=dt.date(2026, 11, 2),
            status=Payment.Status.CLEARED,
            reference=str(n),
        ).allocations.create(statement=statement, amount=D("10.00"))
        ids.append(statement.pk)
    return ids


def test_the_status_is_set_in_a_fixed_number_of_queries():
    few, many = _paid_statements(2), _paid_statements(25)
    refresh_balances(statement_ids=[*few, *many])  # balances (and statuses) once
    Statement.objects.filter(pk__in=[*few, *many]).update(status=Statement.Status.OPEN)

    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert sync_paid_status(ids, now=timezone.now()) == (len(ids), 0)
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 4
    assert set(Statement.objects.values_list("status", flat=True)) == {"paid"}


def test_an_accepted_statement_file_marks_what_its_payment_lines_paid():
    """The ``statements_imported`` receiver: a payment CBSA shows on the new statement pays the
    older one, which becomes paid at once; the new one still owes."""
    account = ProgramAccountFactory()
    older = make_statement(account, SEPT, "100.00")
    refresh_balances()
    batch = ImportBatchFactory()
    newer = make_statement(account, OCT, "60.00", opening="100.00")
    Statement.objects.filter(pk=newer.pk).update(source_batch=batch)
    StatementLineFactory(
        statement=newer,
        line_type="PAYMENT",
        amount=D("-100.00"),
        posted_on=dt.date(2026, 10, 1),
        reference="BANK-1",
    )

    statements_imported.send(sender=Statement, batch=batch)

    assert status_of(older, newer) == [Statement.Status.PAID, Statement.Status.OPEN]
    assert Payment.objects.get().source == Payment.Source.STATEMENT


def test_the_statements_list_shows_paid_and_no_overdue_badge(personas, client_for):
    account = account_of(personas)
    paid = make_statement(account, SEPT, "100.00")
    owing = make_statement(account, OCT, "80.00", opening="100.00")
    pay(account, "100.00")

    page = client_for(personas.broker_admin).get("/statements/").content.decode()

    rows = {
        statement.pk: page.split(f'href="{statement.get_absolute_url()}"', 1)[1].split("</tr>")[0]
        for statement in (paid, owing)
    }
    assert '<span class="badge badge--paid">Paid</span>' in rows[paid.pk]
    assert "badge--overdue" not in rows[paid.pk]
    assert "badge--overdue" in rows[owing.pk]
    assert "badge--paid" not in rows[owing.pk]
