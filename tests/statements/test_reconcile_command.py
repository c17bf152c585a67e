"""``manage.py reconcile``, the after-import hook and the demo's reconciliations."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from statements.entries_received import entries_received_from_entries, note_entries_received
from statements.models import BrokerEntry, EntriesReceived, ReconciliationRun, Statement
from statements.reconciliation import outcome, runs
from statements.reconciliation.runs import reconcile_statement, reconcile_statements
from statements.reconciliation.selectors import (
    current_items,
    current_run,
    pending_count,
    pending_statements,
)
from tests.statements.conftest import SAMPLES, csv_text, entry_row, run_import
from tests.statements.test_reconcile import E, L, build, txn

pytestmark = pytest.mark.django_db
Run = ReconciliationRun


def call(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("reconcile", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_reconcile_one_statement():
    statement = build([L("CAD", txn(1), "10.00"), L("CAD", txn(2), "1.00")], [E(txn(1), "10.00")])
    out, _err = call("--statement", str(statement.pk))
    run = current_run(statement)
    assert run.trigger == "command" and run.item_count == 2
    assert f"Statement {statement.pk} ({statement.program_account.bn15}), run #{run.pk}" in out
    assert "Matched: 1" in out and "Unexpected on statement: 1" in out
    assert "balance checks out" in out


def test_reconcile_with_a_tolerance():
    statement = build([L("CAD", txn(1), "10.02")], [E(txn(1), "10.00")])
    out, _err = call("--statement", str(statement.pk), "--tolerance", "0.02")
    assert "Matched within tolerance: 1" in out
    assert current_run(statement).tolerance == Decimal("0.02")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--statement", "999999"], "No statement with id 999999."),
        (["--statement", "abc"], "give the statement's number"),
        (["--all-pending", "--tolerance", "-1"], "--tolerance -1"),
        (["--all-pending", "--tolerance", "1,00"], "must be an amount"),
        (["--all-pending", "--by", "nobody@example.com"], "No user with the email address"),
    ],
)
def test_bad_input_is_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        call(*args)
    assert not Run.objects.exists()


def test_one_of_statement_or_all_pending_is_required():
    with pytest.raises(CommandError):
        call()


def test_all_pending():
    done = build([L("CAD", txn(1), "1.00")], [E(txn(1), "1.00")])
    fresh = build([L("CAD", txn(2), "2.00")], [])
    paid = build([L("CAD", txn(3), "3.00")], [])
    Statement.objects.filter(pk=paid.pk).update(status=Statement.Status.PAID)
    reconcile_statement(statement=done)

    out, _err = call("--all-pending")
    assert f"Statement {fresh.pk} " in out and f"Statement {paid.pk} " in out
    assert f"Statement {done.pk} " not in out
    assert Statement.objects.get(pk=paid.pk).status == Statement.Status.PAID

    out, _err = call("--all-pending")
    assert out.strip() == "No statement is pending reconciliation."


def test_entries_imported_after_the_run_make_a_statement_pending(accounts, settings):
    settings.RECONCILIATION_AFTER_IMPORT = False
    run_import("statement", (SAMPLES / "statement.csv").read_bytes())
    reconcile_statements(Statement.objects.all())
    assert not pending_statements().exists()
    run_import("entries", (SAMPLES / "entries.csv").read_bytes())
    assert pending_statements().count() == pending_count() == 2
    # What the import keeps per account is what the entries and their files say.
    kept = dict(EntriesReceived.objects.values_list("program_account_id", "at"))
    assert kept == entries_received_from_entries() and kept


def test_a_file_of_entries_already_stored_leaves_its_accounts_reconciled(accounts, settings):
    """Re-sending the same entries (every row skipped as stored) changes no comparison; a file
    that adds one entry makes only its account's statements pending again."""
    settings.RECONCILIATION_AFTER_IMPORT = False
    entries = (SAMPLES / "entries.csv").read_bytes()
    run_import("statement", (SAMPLES / "statement.csv").read_bytes())
    run_import("entries", entries)
    reconcile_statements(Statement.objects.all())
    assert pending_count() == 0

    header, first, *rest = entries.decode().splitlines()
    resent = "\n".join([header, *rest, first, ""]).encode()  # another file, the same rows
    again = run_import("entries", resent)
    assert again.batch.status == "accepted" and again.batch.skipped_count > 0
    assert pending_count() == 0 and not pending_statements().exists()

    fields = first.split(",")
    column = header.split(",").index("version")
    fields[column] = str(int(fields[column] or 1) + 1)  # a new version of the first entry
    run_import("entries", "\n".join([header, ",".join(fields), ""]).encode())
    number = fields[header.split(",").index("transaction_number")]
    account = BrokerEntry.objects.filter(transaction_number=number).values_list(
        "program_account_id", flat=True
    )[0]
    pending = list(pending_statements())
    assert pending and {s.program_account_id for s in pending} == {account}
    assert pending_count() == len(pending)


def test_enqueue_queues_runs_for_the_workers(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: sent.append(ids))
    statement = build([], [])
    with django_capture_on_commit_callbacks(execute=True):
        out, _err = call("--statement", str(statement.pk), "--enqueue")
    run = Run.objects.get()
    assert "Queued 1 reconciliation(s)" in out
    assert (run.status, sent) == ("queued", [[run.pk]])


def test_a_failed_run_exits_non_zero(monkeypatch):
    statement = build([], [])
    monkeypatch.setattr(outcome, "balances", lambda ids: 1 / 0)
    with pytest.raises(CommandError, match="1 of 1 reconciliation"):
        call("--statement", str(statement.pk))


# --- After an import -----------------------------------------------------------------------------


def test_importing_a_statement_file_queues_its_reconciliations(
    accounts, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.RECONCILIATION_AFTER_IMPORT = True
    sent = []
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: sent.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        result = run_import("statement", (SAMPLES / "statement.csv").read_bytes())
    queued = list(Run.objects.order_by("statement_id"))
    assert [r.statement.source_batch_id for r in queued] == [result.batch.pk] * 2
    assert {(r.status, r.trigger) for r in queued} == {("queued", "import")}
    assert sent == [[r.pk for r in queued]]


def test_the_queued_runs_complete_through_the_task(
    accounts, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from carm_portal.celery import app

    settings.RECONCILIATION_AFTER_IMPORT = True
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    run_import("entries", (SAMPLES / "entries.csv").read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        run_import("statement", (SAMPLES / "statement.csv").read_bytes())
    assert [r.status for r in Run.objects.all()] == ["succeeded", "succeeded"]
    assert Run.objects.filter(is_current=True).count() == 2


def test_no_reconciliation_when_turned_off(accounts, settings, django_capture_on_commit_callbacks):
    settings.RECONCILIATION_AFTER_IMPORT = False
    with django_capture_on_commit_callbacks(execute=True):
        run_import("statement", (SAMPLES / "statement.csv").read_bytes())
    assert not Run.objects.exists()


def test_a_refused_file_queues_nothing(accounts, settings, django_capture_on_commit_callbacks):
    settings.RECONCILIATION_AFTER_IMPORT = True
    with django_capture_on_commit_callbacks(execute=True):
        run_import("statement", "account_number\nnot-a-file\n")
    assert not Run.objects.exists()


def test_entries_rerun_the_reconciled_statements_they_touch(
    accounts, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.RECONCILIATION_AFTER_IMPORT = False
    run_import("statement", (SAMPLES / "statement.csv").read_bytes())
    reconcile_statements(Statement.objects.all())
    settings.RECONCILIATION_AFTER_IMPORT = True
    sent = []
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: sent.append(ids))

    # An amendment accepted after the period (it is compared all the same) and an entry of the
    # next period: only the first statement is touched, through its line.
    rows = [
        entry_row(transaction_number="12345000000017", version="2", accounted_on="2025-07-02"),
        entry_row(transaction_number="12345000000999", accounted_on="2025-07-03"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        run_import("entries", csv_text("entries", rows))
    queued = Run.objects.filter(status="queued")
    assert [r.statement.program_account.bn15 for r in queued] == ["123456782RM0001"]
    assert sent == [[queued.get().pk]]


def test_entries_in_a_statement_period_rerun_it(
    accounts, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.RECONCILIATION_AFTER_IMPORT = False
    run_import("statement", (SAMPLES / "statement.csv").read_bytes())
    statement = Statement.objects.get(program_account__bn15="876543216RM0001")
    reconcile_statement(statement=statement)
    settings.RECONCILIATION_AFTER_IMPORT = True
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: None)
    row = entry_row(
        account_number="876543216RM0001",
        transaction_number="12345000000777",
        accounted_on="2025-06-01",
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_import("entries", csv_text("entries", [row]))
    assert Run.objects.filter(status="queued").get().statement == statement
    assert BrokerEntry.objects.count() == 1


# --- The demo ------------------------------------------------------------------------------------


def test_the_demo_reconciles_its_statements(settings):
    import datetime as dt

    from statements.demo import seed_statements
    from tests.factories import ImporterFactory, ProgramAccountFactory

    settings.RECONCILIATION_AFTER_IMPORT = True
    importers = [ImporterFactory() for _ in range(3)]
    for importer in importers:
        ProgramAccountFactory(importer=importer, bn15=f"{importer.bn9}RM0001")
    result = seed_statements(importers=importers, by=None, today=dt.date(2026, 11, 23))

    statements = Statement.objects.exclude(source_batch__status="refused")
    assert result.reconciled == statements.count() == 9
    assert Run.objects.filter(is_current=True, status="succeeded").count() == 9
    assert not Run.objects.filter(trigger="import").exists()  # the imports queued nothing
    found = set(current_items().values_list("status", flat=True).distinct())
    assert {"matched", "other_broker", "duplicate", "amount_mismatch", "posted_by_cbsa"} <= found
    assert "missing_on_statement" in found

    again = seed_statements(importers=importers, by=None, today=dt.date(2026, 11, 23))
    assert again.reconciled == 0
    assert Run.objects.count() == 9


def test_pending_follows_entries_of_the_statement_account_only():
    import datetime as dt

    from django.utils import timezone

    from tests.factories import BrokerEntryFactory, ImportBatchFactory

    ImportBatchFactory.create_batch(3)  # ids of batches and statements differ
    a, b = build([L("CAD", txn(1), "1.00")], []), build([L("CAD", txn(2), "1.00")], [])
    reconcile_statements(Statement.objects.all())
    later = timezone.now() + dt.timedelta(minutes=1)
    batch = ImportBatchFactory(kind="entries", status="accepted", finished_at=later)
    BrokerEntryFactory(program_account=b.program_account, source_batch=batch)
    note_entries_received([b.program_account_id], later)  # as the entries import does
    assert list(pending_statements()) == [b]
    earlier = ImportBatchFactory(
        kind="entries", status="accepted", finished_at=later - dt.timedelta(hours=1)
    )
    BrokerEntryFactory(program_account=a.program_account, source_batch=earlier)
    note_entries_received([a.program_account_id], earlier.finished_at)
    assert list(pending_statements()) == [b]
    never = build([L("CAD", txn(3), "1.00")], [])  # no run at all
    assert list(pending_statements()) == [b, never]
    # Today's count agrees with the list (one up to date, one outdated by newer entries, one
    # never reconciled), overall and for one statement.
    assert pending_count() == 2
    assert pending_count(Statement.objects.filter(pk=a.pk)) == 0
    assert pending_count(Statement.objects.filter(pk=never.pk)) == 1
