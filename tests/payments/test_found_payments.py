"""Payments found on statements are written set-based (COPY + SQL history snapshots): the rows,
their allocations and their audit records are what the ORM would have written, in a number of
queries that does not grow with the number of payments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Payment, PaymentAllocation, StatementBalance
from payments.posted_payments import sync_posted_payments
from statements.models import Statement
from tests.factories import ProgramAccountFactory
from tests.payments.conftest import D, make_statement

pytestmark = pytest.mark.django_db

AUG, SEPT, OCT = dt.date(2026, 8, 25), dt.date(2026, 9, 25), dt.date(2026, 10, 25)


def paid_by_the_next_statement(accounts: int) -> list[int]:
    """Per account: August 100.00 and September 50.00, paid (150.00 in one line) in October."""
    ids = []
    for _ in range(accounts):
        account = ProgramAccountFactory()
        make_statement(account, AUG, "100.00")
        make_statement(account, SEPT, "50.00", opening="100.00")
        october = make_statement(account, OCT, ("PAYMENT", "-150.00"), "20.00", opening="150.00")
        ids.append(october.pk)
    return ids


def test_found_payments_their_allocations_and_their_history():
    paid_by_the_next_statement(2)

    result = sync_posted_payments()

    assert result.created == 2
    payments = list(Payment.objects.order_by("id"))
    for payment in payments:
        assert (payment.source, payment.method, payment.status, payment.amount) == (
            Payment.Source.STATEMENT,
            Payment.Method.UNKNOWN,
            Payment.Status.CLEARED,
            D("150.00"),
        )
        assert payment.importer_id == payment.program_account.importer_id
        assert payment.statement_line.statement.statement_date == OCT
        assert payment.notes.startswith("Found on the statement of 2026-10-25 (row ")
        assert payment.created_at == payment.updated_at
        parts = sorted(
            (a.statement.statement_date, a.amount, a.manual) for a in payment.allocations.all()
        )
        assert parts == [(AUG, D("100.00"), False), (SEPT, D("50.00"), False)]

        record = payment.history.get()
        assert (record.history_type, record.amount, record.statement_line_id) == (
            "+",
            D("150.00"),
            payment.statement_line_id,
        )
        assert record.history_date == payment.created_at
    allocation_records = PaymentAllocation.history.all()
    assert allocation_records.count() == PaymentAllocation.objects.count() == 4
    assert set(allocation_records.values_list("history_type", flat=True)) == {"+"}
    paid = Statement.objects.filter(statement_date__in=[AUG, SEPT])
    assert set(
        StatementBalance.objects.filter(statement__in=paid).values_list("outstanding", flat=True)
    ) == {D("0.00")}
    assert set(paid.values_list("status", flat=True)) == {Statement.Status.PAID}


def test_found_payments_are_written_in_a_fixed_number_of_queries():
    few, many = paid_by_the_next_statement(2), paid_by_the_next_statement(12)

    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert sync_posted_payments(statement_ids=ids).created == len(ids)
        counts.append(len(queries))

    assert counts[0] == counts[1]
