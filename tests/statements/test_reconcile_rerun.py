"""Reruns: the human work that still applies is kept, changed findings reopen; a run that fails
midway leaves the previous result intact; two runs of one statement at once serialize
(PostgreSQL); queued runs, claims and stale runs."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Exists, OuterRef
from django.utils import timezone

from statements.models import ReconciliationItem, ReconciliationRun, Statement
from statements.reconciliation import engine, outcome, runs
from statements.reconciliation.runs import (
    ReconciliationError,
    claim,
    reconcile_statement,
    reconcile_statements,
    run_claimed,
    start_reconciliation,
)
from statements.reconciliation.selectors import current_run, live_run, open_exceptions
from statements.reconciliation.status import refresh_statement_status
from tests.factories import BrokerEntryFactory, UserFactory
from tests.statements.test_reconcile import COMPARED, E, L, build, txn

Code = ReconciliationItem.Code
Run = ReconciliationRun
D = Decimal
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and side connections need PostgreSQL"
)


def _statement():
    return build(
        [
            L("CAD", txn(1), "10.01"),  # mismatch
            L("CAD", txn(2), "20.00"),  # unexpected
            L("INTEREST", "", "1.00"),  # flagged
            L("CAD", txn(3), "30.00"),  # matched
        ],
        [E(txn(1), "10.00"), E(txn(3), "30.00")],
    )


def _resolve(run, key, **values):
    item = run.items.get(key=key)
    for name, value in values.items():
        setattr(item, name, value)
    item.save()
    return item


@pytest.mark.django_db
def test_rerun_keeps_resolutions_notes_and_assignments_of_unchanged_items():
    statement = _statement()
    first = reconcile_statement(statement=statement)
    finance, agent = UserFactory(), UserFactory()
    resolved_at = timezone.now() - dt.timedelta(days=1)
    _resolve(
        first,
        f"txn:{txn(1)}",
        resolution="explained",
        note="CBSA rounded the GST",
        assigned_to=agent,
        resolved_by=finance,
        resolved_at=resolved_at,
    )
    _resolve(first, "line:5", assigned_to=agent, note="ask about the interest")

    second = reconcile_statement(statement=statement)

    kept = second.items.get(key=f"txn:{txn(1)}")
    assert (kept.resolution, kept.note, kept.assigned_to, kept.resolved_by, kept.resolved_at) == (
        "explained",
        "CBSA rounded the GST",
        agent,
        finance,
        resolved_at,
    )
    assert kept.reopened is False
    interest = second.items.get(key="line:5")
    assert (interest.resolution, interest.note, interest.assigned_to) == (
        "",
        "ask about the interest",
        agent,
    )
    for key in (f"txn:{txn(1)}", f"txn:{txn(2)}", "line:5"):
        assert second.items.get(key=key).first_seen_at == first.items.get(key=key).first_seen_at
    assert second.summary[Code.AMOUNT_MISMATCH]["open"] == 0
    assert first.items.get(key=f"txn:{txn(1)}").resolution == "explained"  # the old run untouched


@pytest.mark.django_db
def test_rerun_reopens_items_whose_difference_changed():
    statement = _statement()
    first = reconcile_statement(statement=statement)
    agent = UserFactory()
    _resolve(
        first,
        f"txn:{txn(1)}",
        resolution="correction_requested",
        note="B2 filed",
        assigned_to=agent,
        resolved_by=agent,
        resolved_at=timezone.now(),
    )
    BrokerEntryFactory(  # the correction came back 2 cents short
        program_account=statement.program_account,
        transaction_number=txn(1),
        version=2,
        amount=D("9.99"),
        customs_duties=D("9.99"),
    )

    second = reconcile_statement(statement=statement)

    item = second.items.get(key=f"txn:{txn(1)}")
    assert (item.status, item.difference) == (Code.AMOUNT_MISMATCH, D("0.02"))
    assert (item.resolution, item.resolved_by, item.resolved_at, item.reopened) == (
        "",
        None,
        None,
        True,
    )
    assert (item.note, item.assigned_to) == ("B2 filed", agent)
    assert item.first_seen_at == first.items.get(key=f"txn:{txn(1)}").first_seen_at
    assert item.is_open

    third = reconcile_statement(statement=statement)  # still reopened, still open
    assert third.items.get(key=f"txn:{txn(1)}").reopened is True


@pytest.mark.django_db
def test_a_resolved_item_that_now_matches_is_not_reopened():
    statement = _statement()
    first = reconcile_statement(statement=statement)
    _resolve(first, f"txn:{txn(2)}", resolution="followed_up")
    BrokerEntryFactory(
        program_account=statement.program_account,
        transaction_number=txn(2),
        amount=D("20.00"),
        customs_duties=D("20.00"),
    )
    item = reconcile_statement(statement=statement).items.get(key=f"txn:{txn(2)}")
    assert (item.status, item.resolution, item.reopened, item.is_exception) == (
        Code.MATCHED,
        "",
        False,
        False,
    )


@pytest.mark.django_db
def test_new_findings_are_first_seen_by_their_run():
    statement = _statement()
    first = reconcile_statement(statement=statement)
    BrokerEntryFactory(
        program_account=statement.program_account, transaction_number=txn(9), amount=D("5.00")
    )
    second = reconcile_statement(statement=statement)
    missing = second.items.get(key=f"entry:{txn(9)}")
    assert missing.status == Code.MISSING_ON_STATEMENT
    assert missing.first_seen_at > first.items.get(key=f"txn:{txn(1)}").first_seen_at


@pytest.mark.django_db
def test_a_run_killed_midway_leaves_the_previous_run_intact(monkeypatch):
    statement = _statement()
    first = reconcile_statement(statement=statement)
    _resolve(first, f"txn:{txn(1)}", resolution="explained")
    before = list(first.items.order_by("position").values(*COMPARED, "resolution"))
    status_before = Statement.objects.get(pk=statement.pk).status

    def boom(statement_ids):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(outcome, "balances", boom)  # after the items were written
    with pytest.raises(ReconciliationError):
        reconcile_statement(statement=statement)
    monkeypatch.undo()

    failed = Run.objects.exclude(pk=first.pk).get()
    assert (failed.status, failed.is_current, failed.items.count()) == ("failed", False, 0)
    assert "worker lost" in failed.error and failed.finished_at
    first.refresh_from_db()
    assert first.is_current and first.status == "succeeded"
    assert list(first.items.order_by("position").values(*COMPARED, "resolution")) == before
    assert Statement.objects.get(pk=statement.pk).status == status_before
    assert ReconciliationItem.objects.count() == len(before)

    third = reconcile_statement(statement=statement)
    assert third.is_current and third.items.get(key=f"txn:{txn(1)}").resolution == "explained"
    assert current_run(statement) == third


@pytest.mark.django_db
def test_reconcile_statements_runs_many_and_a_failed_chunk_spares_the_others(monkeypatch):
    statements = [_statement() for _ in range(5)]
    calls = {"n": 0}
    real = engine.insert_items

    def second_chunk_fails(run_ids, *, now):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(run_ids, now=now)

    monkeypatch.setattr(engine, "insert_items", second_chunk_fails)
    made = reconcile_statements(Statement.objects.all(), chunk_size=2)
    assert [r.status for r in made] == ["succeeded"] * 2 + ["failed"] * 2 + ["succeeded"]
    assert [r.item_count for r in made] == [4, 4, 0, 0, 4]
    assert [current_run(s) is not None for s in statements] == [
        True,
        True,
        False,
        False,
        True,
    ]


@pytest.mark.django_db
def test_many_statements_in_one_pass_equal_one_at_a_time():
    statements = [_statement() for _ in range(3)]
    together = reconcile_statements(Statement.objects.all())
    alone = [reconcile_statement(statement=s) for s in statements]
    for a, b in zip(together, alone, strict=True):
        assert list(a.items.values(*COMPARED)) == list(b.items.values(*COMPARED))
        assert (a.summary, a.balance_ok) == (b.summary, b.balance_ok)


# --- Queued runs, claims, stale runs ------------------------------------------------------------


@pytest.mark.django_db
def test_start_reconciliation_queues_once_and_enqueues_on_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    statement = _statement()
    sent = []
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: sent.append((ids, tid)))
    with django_capture_on_commit_callbacks(execute=True):
        run = start_reconciliation(statement=statement, run_by=None)
        again = start_reconciliation(statement=statement, run_by=None)
    assert run == again and (run.status, run.trigger) == ("queued", "page")
    assert sent == [([run.pk], run.task_id)]
    assert live_run(statement) == run


@pytest.mark.django_db
def test_a_stale_running_run_does_not_block_and_can_be_claimed(settings, monkeypatch):
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: None)
    statement = _statement()
    stuck = Run.objects.create(
        statement=statement,
        status="running",
        started_at=timezone.now() - dt.timedelta(hours=2),
    )
    settings.RECONCILIATION_STALE_SECONDS = 3600
    fresh = start_reconciliation(statement=statement)
    assert fresh != stuck and fresh.status == "queued"

    claimed = claim([stuck.pk, fresh.pk])
    assert [r.pk for r in claimed] == [stuck.pk, fresh.pk]
    assert claim([fresh.pk]) == []  # already taken
    run_claimed([fresh.pk])
    fresh.refresh_from_db()
    assert fresh.status == "succeeded" and fresh.is_current


@pytest.mark.django_db
def test_the_task_claims_runs_the_run_and_skips_a_second_delivery():
    from statements.tasks import heavy_reconcile_statement

    statement = _statement()
    run = Run.objects.create(statement=statement, status="queued")
    assert heavy_reconcile_statement.run(run_id=run.pk) == "1 reconciled"
    assert heavy_reconcile_statement.run(run_id=run.pk) == ""
    run.refresh_from_db()
    assert (run.status, run.item_count, run.is_current) == ("succeeded", 4, True)


@pytest.mark.django_db
def test_a_failing_task_marks_its_run_failed(monkeypatch):
    from statements.tasks import heavy_reconcile_statement

    statement = _statement()
    run = Run.objects.create(statement=statement, status="queued")
    monkeypatch.setattr(outcome, "balances", lambda ids: 1 / 0)
    with pytest.raises(ReconciliationError):
        heavy_reconcile_statement.run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "ZeroDivisionError" in run.error


# --- PostgreSQL: concurrency and live progress ----------------------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_statement_at_once_serialize(monkeypatch):
    statement = _statement()
    real = engine.insert_items
    inside = threading.Event()

    def slow_insert(run_ids, *, now):
        count = real(run_ids, now=now)
        inside.set()
        time.sleep(0.5)  # hold the lock while the other run arrives
        return count

    monkeypatch.setattr(engine, "insert_items", slow_insert)
    results, errors = [], []

    def work():
        try:
            results.append(reconcile_statement(statement=statement))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    threads[0].start()
    inside.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r.status for r in results) == ["succeeded", "succeeded"]
    assert Run.objects.filter(statement=statement, is_current=True).count() == 1
    for run in Run.objects.filter(statement=statement):
        assert run.items.count() == 4
        assert run.items.values("key").distinct().count() == 4
    later = max(results, key=lambda r: r.finished_at)
    assert current_run(statement) == later


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_run_works(monkeypatch):
    statement = _statement()
    seen = []
    real = outcome.balances

    def look(statement_ids):
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT status, phase, percent FROM statements_reconciliationrun "
                    "WHERE statement_id = %s",
                    [statement_ids[0]],
                )
                seen.append(cursor.fetchone())
        finally:
            other.close()
        return real(statement_ids)

    monkeypatch.setattr(outcome, "balances", look)
    run = reconcile_statement(statement=statement)
    assert seen == [("running", "adding up", 70)]
    assert (run.phase, run.percent) == ("", 100)


@pytest.mark.django_db
def test_the_task_retries_after_a_transient_database_error(monkeypatch):
    from celery.exceptions import Retry
    from django.db import OperationalError

    from statements.tasks import heavy_reconcile_statement

    statement = _statement()
    run = Run.objects.create(statement=statement, status="queued")
    real, calls = engine.insert_items, []

    def flaky(run_ids, *, now):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(run_ids, now=now)

    monkeypatch.setattr(engine, "insert_items", flaky)
    with pytest.raises(Retry):
        heavy_reconcile_statement.apply(kwargs={"run_id": run.pk})
    run.refresh_from_db()
    assert run.status == "queued" and "server closed" in run.error  # back in the queue

    heavy_reconcile_statement.run(run_id=run.pk)  # the retry's delivery
    run.refresh_from_db()
    assert (len(calls), run.status, run.is_current, run.error) == (2, "succeeded", True, "")


@pytest.mark.django_db
def test_two_runs_of_one_statement_in_one_group_the_newer_wins():
    statement = _statement()
    older = Run.objects.create(statement=statement, status="queued")
    newer = Run.objects.create(statement=statement, status="queued")
    run_claimed([r.pk for r in claim([older.pk, newer.pk])])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, older.is_current, older.items.count()) == ("failed", False, 0)
    assert "Superseded" in older.error
    assert (newer.status, newer.is_current, newer.items.count()) == ("succeeded", True, 4)


@pytest.mark.django_db
def test_a_run_already_finished_is_left_alone_by_a_late_second_worker():
    statement = _statement()
    run = Run.objects.create(statement=statement, status="running", started_at=timezone.now())
    run_claimed([run.pk])
    items = list(run.items.values(*COMPARED))
    run_claimed([run.pk])  # a stale reclaim of a run that in fact completed
    run.refresh_from_db()
    assert (run.status, run.is_current, list(run.items.values(*COMPARED))) == (
        "succeeded",
        True,
        items,
    )


@pytest.mark.django_db
def test_resolving_every_exception_lets_the_statement_be_reconciled():
    statement = build([L("CAD", txn(1), "10.01")], [E(txn(1), "10.00")])
    run = reconcile_statement(statement=statement)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.OPEN
    run.items.update(resolution="written_off")
    assert refresh_statement_status([statement]) == 1
    statement.refresh_from_db()
    assert statement.status == Statement.Status.RECONCILED
    assert open_exceptions().count() == 0
    run.items.update(resolution="")
    assert list(open_exceptions()) == list(run.items.all())
    refresh_statement_status([statement.pk])
    statement.refresh_from_db()
    assert statement.status == Statement.Status.OPEN


@pytest.mark.django_db
def test_a_replaced_runs_exceptions_are_superseded_and_the_open_ones_are_the_current_runs():
    statement = _statement()
    first = reconcile_statement(statement=statement)
    assert not first.items.filter(superseded=True).exists()

    second = reconcile_statement(statement=statement)
    third = reconcile_statement(statement=statement)

    first.refresh_from_db()
    assert not first.is_current
    # Every exception of a replaced run is marked, no matched item and nothing of the current run.
    for run in (first, second):
        assert set(run.items.filter(superseded=True).values_list("pk", flat=True)) == set(
            run.items.filter(is_exception=True).values_list("pk", flat=True)
        )
    assert not third.items.filter(superseded=True).exists()
    # The open exceptions read off the mark are those of the current runs, read by the join.
    by_join = ReconciliationItem.objects.filter(
        run__is_current=True, is_exception=True, resolution=""
    )
    assert set(open_exceptions().values_list("pk", flat=True)) == set(
        by_join.values_list("pk", flat=True)
    )
    assert open_exceptions().count() == third.items.filter(is_exception=True).count() > 0


def _by_join(statements, since):
    """The selectors' answers read the old way, off the current runs (the outside figure):
    never reconciled, reconciled since, and outdated by entries accepted after the run began."""
    current = Run.objects.filter(statement=OuterRef("pk"), is_current=True)
    newer_entries = current.filter(started_at__lt=OuterRef("program_account__entries_received__at"))
    return tuple(
        set(statements.filter(condition).values_list("pk", flat=True))
        for condition in (
            ~Exists(current),
            Exists(current.filter(finished_at__gte=since)),
            Exists(newer_entries),
        )
    )


@pytest.mark.django_db
def test_the_statements_run_stamps_agree_with_the_current_runs_through_reruns_and_failures(
    monkeypatch,
):
    """``Statement.reconciled_at`` and ``reconciled_from`` are kept by the run that becomes
    current: never reconciled, reconciled since and pending (read off them) agree with the
    current runs through a first run, a rerun, entries accepted after a run began and while one
    is under way, a failed run that leaves the previous one current, and a statement never
    reconciled."""
    from statements.entries_received import note_entries_received
    from statements.reconciliation.selectors import (
        pending_count,
        pending_statements,
        reconciled_since,
    )

    first_statement, second_statement = _statement(), _statement()
    untouched = _statement()
    statements = Statement.objects.all()

    def check(since):
        never, reconciled, outdated = _by_join(statements, since)
        assert set(statements.filter(reconciled_at=None).values_list("pk", flat=True)) == never
        assert set(reconciled_since(statements, since).values_list("pk", flat=True)) == reconciled
        pending = set(pending_statements(statements).values_list("pk", flat=True))
        assert pending == never | outdated
        assert pending_count(statements) == len(pending)
        for statement in Statement.objects.all():  # read afresh
            run = current_run(statement)
            assert statement.reconciled_at == (run.finished_at if run else None)
            assert statement.reconciled_from == (run.started_at if run else None)
        return never, reconciled, outdated

    start = timezone.now()
    everything = {first_statement.pk, second_statement.pk, untouched.pk}
    assert check(start) == (everything, set(), set())

    first = reconcile_statement(statement=first_statement)
    reconcile_statements(Statement.objects.filter(pk=second_statement.pk))
    both = {first_statement.pk, second_statement.pk}
    assert check(start) == ({untouched.pk}, both, set())

    # An entries file accepted after the first run began: that statement is pending again.
    note_entries_received([first_statement.program_account_id], first.finished_at)
    assert check(start) == ({untouched.pk}, both, {first_statement.pk})

    later = timezone.now()
    rerun = reconcile_statement(statement=first_statement)
    assert rerun.finished_at > first.finished_at
    assert check(later) == ({untouched.pk}, {first_statement.pk}, set())

    # Entries accepted while a run is under way (after it began, before it finished): the run
    # may not have compared them, so the statement stays pending once it is current.
    balances = outcome.balances

    def entries_meanwhile(ids):
        note_entries_received([second_statement.program_account_id], timezone.now())
        return balances(ids)

    monkeypatch.setattr(outcome, "balances", entries_meanwhile)
    reconcile_statement(statement=second_statement)
    monkeypatch.undo()
    assert check(later) == ({untouched.pk}, both, {second_statement.pk})
    reconcile_statement(statement=second_statement)
    assert check(later) == ({untouched.pk}, both, set())

    monkeypatch.setattr(outcome, "balances", lambda ids: 1 / 0)
    with pytest.raises(ReconciliationError):
        reconcile_statement(statement=second_statement)
    monkeypatch.undo()
    # The failure stamps nothing.
    assert check(later) == ({untouched.pk}, both, set())
    assert pending_count(statements) == 1
