"""The handles the domain modules queue tasks through resolve to the registered tasks themselves."""

from statements import enqueue, tasks


def test_each_handle_resolves_to_the_task_of_its_name():
    handles = [
        enqueue.heavy_import_batch,
        enqueue.heavy_file_statement_batch,
        enqueue.heavy_reconcile_statement,
        enqueue.heavy_reconcile_runs,
        enqueue.heavy_render_reconciliation_pdf,
    ]

    resolved = [handle.task() for handle in handles]

    assert resolved == [
        tasks.heavy_import_batch,
        tasks.heavy_file_statement_batch,
        tasks.heavy_reconcile_statement,
        tasks.heavy_reconcile_runs,
        tasks.heavy_render_reconciliation_pdf,
    ]
