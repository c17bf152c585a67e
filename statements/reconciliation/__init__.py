"""Reconciling a statement of account with the broker's entries, one module per job.

* ``rules``: what is compared with what, the status codes, keys and carry-over (the docstring is
  the specification), and the tolerance;
* ``selectors``: the current run, live runs, current items, open exceptions, pending statements
  (read by the pages, the worklist, the API and the command);
* ``runs``: the run lifecycle: queue, claim, run in one transaction per group, fail, requeue;
* ``engine``: the set-based SQL that writes every item of a group of runs;
* ``dialect``: what differs between PostgreSQL and SQLite, as one object;
* ``outcome``: summaries, the balance check and the run row's outcome;
* ``status``: ``Statement.status`` (``reconciled``/``open``) derived from the current runs;
* ``progress``: phase and percent written where the statement page polls them;
* ``descriptions``: a run read back as text (the command) and as figures (charts).

Nothing here imports ``statements.tasks``: ``runs`` sends queued runs to a worker through
``statements.enqueue`` (the tasks by their registered names) once the transaction commits.
"""
