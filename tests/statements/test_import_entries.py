"""Importing broker entries: versions, duplicates in a file, entries imported before."""

import datetime as dt
from decimal import Decimal

import pytest

from statements.models import BrokerEntry
from tests.statements.conftest import (
    ACCOUNT_A,
    SAMPLES,
    csv_text,
    entry_row,
    run_import,
    snapshot,
)

pytestmark = pytest.mark.django_db


def test_sample_entries_import_with_their_versions(accounts):
    batch = run_import("entries", (SAMPLES / "entries.csv").read_bytes()).batch

    assert (batch.status, batch.entry_count, batch.account_count) == ("accepted", 8, 2)
    assert batch.message == "Imported 8 entries for 2 program accounts."
    versions = BrokerEntry.objects.filter(transaction_number="12345000000025").order_by("version")
    assert [(e.version, e.amount, e.accounted_on) for e in versions] == [
        (1, Decimal("250.00"), dt.date(2025, 5, 28)),
        (2, Decimal("265.00"), dt.date(2025, 6, 3)),
    ]
    entry = BrokerEntry.objects.get(transaction_number="12345000000090")
    assert (entry.customs_duties, entry.excise_taxes, entry.gst, entry.position) == (
        Decimal("95.00"),
        Decimal("780.00"),
        Decimal("170.00"),
        9,
    )
    assert entry.source_batch == batch


def test_version_defaults_to_1_without_the_column(accounts):
    header = "account_number,transaction_number,release_date,accounted_on,amount"

    batch = run_import("entries", csv_text("entries", [entry_row(gst="")], header=header)).batch

    assert batch.status == "accepted"
    assert BrokerEntry.objects.get().version == 1


def test_the_same_version_twice_in_a_file_is_refused(accounts):
    rows = [entry_row(), entry_row(version="2"), entry_row()]

    batch = run_import("entries", csv_text("entries", rows)).batch

    assert batch.status == "refused"
    assert [(e["row"], e["column"]) for e in batch.errors] == [(4, "transaction_number")]
    assert "already on row 2" in batch.errors[0]["reason"]
    assert BrokerEntry.objects.count() == 0


def test_entries_imported_before_are_skipped_when_identical(accounts):
    run_import("entries", csv_text("entries", [entry_row()]))
    rows = [entry_row(), entry_row(version="2", accounted_on="2025-06-03")]

    batch = run_import("entries", csv_text("entries", rows)).batch

    assert (batch.status, batch.entry_count, batch.skipped_count) == ("accepted", 1, 1)
    assert "1 row was already imported, identical, and was skipped." in batch.message
    assert list(BrokerEntry.objects.order_by("version").values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_an_entry_imported_before_with_other_values_is_refused(accounts):
    first = run_import("entries", csv_text("entries", [entry_row()])).batch
    before = snapshot()

    changed = entry_row(gst="1020.63", amount="1431.13", client_reference="F-25-0417B")
    batch = run_import("entries", csv_text("entries", [changed])).batch

    assert batch.status == "refused"
    assert batch.errors[0]["reason"] == (
        f"Version 1 of this transaction was imported before (batch #{first.pk}) with other values "
        "(client_reference F-25-0417 → F-25-0417B; gst 1020.53 → 1020.63; amount 1431.03 → "
        "1431.13). Send a change as a new version."
    )
    assert snapshot() == before


@pytest.mark.parametrize("version", ["0", "1.0", "two", "-1"])
def test_a_version_is_a_whole_number_from_1(accounts, version):
    batch = run_import("entries", csv_text("entries", [entry_row(version=version)])).batch

    assert [(e["row"], e["column"], e["value"]) for e in batch.errors] == [(2, "version", version)]


def test_the_same_transaction_on_two_accounts_is_two_entries(accounts):
    from tests.statements.conftest import ACCOUNT_B

    rows = [entry_row(), entry_row(account_number=ACCOUNT_B)]

    batch = run_import("entries", csv_text("entries", rows)).batch

    assert batch.entry_count == 2
    assert BrokerEntry.objects.filter(program_account__bn15=ACCOUNT_A).count() == 1
