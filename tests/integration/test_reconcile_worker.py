"""A real Celery worker (in-process thread) reconciling statements queued through the broker.

Each module uses its own queue, so parallel test processes sharing one Redis never take each
other's tasks; the tasks are sent to it explicitly (``_enqueue`` sends to the routed ``heavy``
queue in production).
"""

import time

import pytest

from statements.models import ReconciliationRun, Statement
from statements.reconciliation import runs
from statements.reconciliation.runs import start_reconciliation, start_reconciliations
from statements.tasks import heavy_reconcile_runs, heavy_reconcile_statement
from tests.statements.test_reconcile import E, L, build, txn
from tests.worker import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _statement() -> Statement:
    return build(
        [L("CAD", txn(1), "10.00"), L("CAD", txn(2), "2.00"), L("INTEREST", "", "1.00")],
        [E(txn(1), "10.00"), E(txn(3), "3.00")],
    )


def test_the_worker_reconciles_a_queued_statement(worker_queue, monkeypatch):
    statement = _statement()
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: None)
    run = start_reconciliation(statement=statement, run_by=None)

    heavy_reconcile_statement.apply_async(kwargs={"run_id": run.pk}, queue=worker_queue)

    assert wait_for(lambda: ReconciliationRun.objects.get(pk=run.pk).status == "succeeded")
    run.refresh_from_db()
    assert (run.is_current, run.item_count, run.exception_count) == (True, 4, 3)
    assert run.started_at and run.finished_at


def test_a_message_delivered_twice_reconciles_once(worker_queue, monkeypatch):
    statement = _statement()
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: None)
    run = start_reconciliation(statement=statement, run_by=None)

    heavy_reconcile_statement.apply_async(kwargs={"run_id": run.pk}, queue=worker_queue)
    heavy_reconcile_statement.apply_async(kwargs={"run_id": run.pk}, queue=worker_queue)

    assert wait_for(lambda: ReconciliationRun.objects.get(pk=run.pk).status == "succeeded")
    time.sleep(1)  # let the second delivery finish too
    assert ReconciliationRun.objects.filter(statement=statement).count() == 1
    assert run.items.count() == 4


def test_the_worker_reconciles_a_group_after_an_import(worker_queue, monkeypatch):
    statements = [_statement() for _ in range(3)]
    monkeypatch.setattr(runs, "_enqueue", lambda ids, tid: None)
    queued = start_reconciliations(
        Statement.objects.filter(pk__in=[s.pk for s in statements]), trigger="import"
    )

    heavy_reconcile_runs.apply_async(kwargs={"run_ids": [r.pk for r in queued]}, queue=worker_queue)

    assert wait_for(
        lambda: ReconciliationRun.objects.filter(status="succeeded", is_current=True).count() == 3
    )
