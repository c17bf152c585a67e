"""Database constraints back the invariants: one statement per account and date, one entry per
transaction version, one line per position, one live batch per file."""

import pytest
from django.db import IntegrityError, transaction

from statements.models import ImportBatch
from tests.factories import (
    BrokerEntryFactory,
    ImportBatchFactory,
    StatementFactory,
    StatementLineFactory,
)

pytestmark = pytest.mark.django_db


def test_one_statement_per_account_and_date():
    statement = StatementFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        StatementFactory(
            program_account=statement.program_account, statement_date=statement.statement_date
        )


def test_one_line_per_position():
    line = StatementLineFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        StatementLineFactory(statement=line.statement, position=line.position)


def test_one_entry_per_transaction_and_version():
    entry = BrokerEntryFactory()
    BrokerEntryFactory(
        program_account=entry.program_account,
        transaction_number=entry.transaction_number,
        version=2,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerEntryFactory(
            program_account=entry.program_account,
            transaction_number=entry.transaction_number,
            version=1,
        )


def test_versions_start_at_1():
    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerEntryFactory(version=0)


@pytest.mark.parametrize("status", ["queued", "running", "accepted"])
def test_one_live_batch_per_file(status):
    ImportBatchFactory(sha256="a" * 64, status=status)

    with pytest.raises(IntegrityError), transaction.atomic():
        ImportBatchFactory(sha256="a" * 64, status="queued")


def test_refused_batches_of_the_same_file_may_repeat():
    ImportBatchFactory(sha256="b" * 64, status="refused")
    ImportBatchFactory(sha256="b" * 64, status="refused")
    ImportBatchFactory(sha256="b" * 64, status="accepted")
    ImportBatchFactory(sha256="b" * 64, status="accepted", kind="entries")

    batches = ImportBatch.objects.filter(sha256="b" * 64).order_by("pk")
    assert list(batches.values_list("kind", "status")) == [
        ("statement", "refused"),
        ("statement", "refused"),
        ("statement", "accepted"),
        ("entries", "accepted"),
    ]
