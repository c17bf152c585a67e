"""The statements' Celery tasks, as the domain modules that queue them see them: by name.

``statements/tasks.py`` wraps the domain functions (``importing``, ``reconcile``, ``reports``), so
it imports them; those modules queue a task after their transaction commits. Reaching the task
through the Celery app by its registered name keeps the imports one-way (tasks -> domain).

Each handle offers the task's ``delay`` and ``apply_async``, and the call goes to the registered
task itself, so routing (``CELERY_TASK_ROUTES``) and eager mode apply as before. A process that has
not imported the tasks modules yet (a web worker) has the app discover them, as a Celery worker
does at start.
"""

from __future__ import annotations

from typing import Any

from celery import Task, current_app
from celery.result import AsyncResult


class TaskHandle:
    """A task known by its registered name, looked up on each call."""

    def __init__(self, name: str) -> None:
        self.name = name

    def task(self) -> Task:
        if self.name not in current_app.tasks:
            current_app.loader.import_default_modules()  # autodiscovery: imports <app>.tasks
        return current_app.tasks[self.name]

    def delay(self, *args: Any, **kwargs: Any) -> AsyncResult:
        return self.task().delay(*args, **kwargs)

    def apply_async(self, *args: Any, **options: Any) -> AsyncResult:
        return self.task().apply_async(*args, **options)


heavy_import_batch = TaskHandle("statements.tasks.heavy_import_batch")
heavy_file_statement_batch = TaskHandle("statements.tasks.heavy_file_statement_batch")
heavy_reconcile_statement = TaskHandle("statements.tasks.heavy_reconcile_statement")
heavy_reconcile_runs = TaskHandle("statements.tasks.heavy_reconcile_runs")
heavy_render_reconciliation_pdf = TaskHandle("statements.tasks.heavy_render_reconciliation_pdf")
