"""Re-sending the jobs whose message never reached a worker (beat runs it every minute): import
batches, the filing of accepted statement files, reconciliation runs and reconciliation PDFs.

A job is a row first (``carm_portal/dispatch.py``). Its message may never have reached the broker
(the broker was down when the row committed: ``dispatched_at`` is empty), or reached it and been
lost (a broker restarted without persistence), or been taken by a worker that then died (the row
stays ``running`` with an old ``started_at``). Each case is found here and the message is sent
again; the task's own claim (``batches.claim``, ``runs.claim``: conditional updates) makes a message
that arrives twice, or for a job that has meanwhile started or finished, a no-op.

Idempotent and safe to run twice at once: each job to re-send is first claimed for sending with a
conditional update of ``dispatched_at`` (only the run that moved it sends), so a second pass within
``JOBS_REDISPATCH_SECONDS`` sends nothing. A send that fails puts the old value back, so the next
pass tries again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from statements import reports
from statements.importing import batches
from statements.models import ImportBatch, ReconciliationRun
from statements.reconciliation import runs

Run = ReconciliationRun
Batch = ImportBatch


@dataclass(frozen=True)
class Redispatched:
    batches: int = 0
    filings: int = 0
    runs: int = 0
    pdfs: int = 0
    unreachable: int = 0  # jobs the broker still would not take (tried again next pass)


def _due(*, now: dt.datetime, stale_seconds: int) -> Q:
    """Queued and never sent (after a short grace: the request's own send may be under way), or
    sent long ago and still waiting, or left running by a worker that died; not re-sent lately."""
    grace = now - dt.timedelta(seconds=settings.JOBS_DISPATCH_GRACE_SECONDS)
    resend = now - dt.timedelta(seconds=settings.JOBS_REDISPATCH_SECONDS)
    stale = now - dt.timedelta(seconds=stale_seconds)
    never_sent = Q(status="queued", dispatched_at=None, created_at__lt=grace)
    lost = Q(status="queued", dispatched_at__lt=resend)
    abandoned = Q(status="running", started_at__lt=stale) & (
        Q(dispatched_at=None) | Q(dispatched_at__lt=resend)
    )
    return never_sent | lost | abandoned


def redispatch(*, now: dt.datetime | None = None) -> Redispatched:
    """Send again every import batch, filing, reconciliation run and PDF that is due (see the
    module)."""
    now = now or timezone.now()
    sent_runs = 0

    due_batches = Batch.objects.filter(
        _due(now=now, stale_seconds=settings.STATEMENTS_IMPORT_STALE_SECONDS)
    )
    sent_batches, unreachable = _resend_each(due_batches, "dispatched_at", batches.dispatch, now)

    groups: dict[str, list[tuple[int, dt.datetime | None]]] = defaultdict(list)
    due_runs = Run.objects.filter(
        _due(now=now, stale_seconds=settings.RECONCILIATION_STALE_SECONDS)
    ).values_list("pk", "task_id", "dispatched_at")
    for pk, task_id, previous in due_runs.order_by("pk"):
        groups[task_id or f"run-{pk}"].append((pk, previous))
    for task_id, members in groups.items():
        taken = [
            (pk, previous)
            for pk, previous in members
            if Run.objects.filter(pk=pk, dispatched_at=previous).update(dispatched_at=now)
        ]
        if not taken:
            continue
        if runs.dispatch([pk for pk, _ in taken], task_id):
            sent_runs += len(taken)
        else:
            for pk, previous in taken:
                Run.objects.filter(pk=pk, dispatched_at=now).update(dispatched_at=previous)
            unreachable += len(taken)
    sent_filings, filings_unreachable = _redispatch_filings(now)
    sent_pdfs, pdfs_unreachable = _redispatch_pdfs(now)
    return Redispatched(
        batches=sent_batches,
        filings=sent_filings,
        runs=sent_runs,
        pdfs=sent_pdfs,
        unreachable=unreachable + filings_unreachable + pdfs_unreachable,
    )


def _redispatch_filings(now: dt.datetime) -> tuple[int, int]:
    """Accepted statement files stored and still not filed: their message never went (the broker
    was down as the import finished), was lost, or its worker died; not sent again lately."""
    grace = now - dt.timedelta(seconds=settings.JOBS_DISPATCH_GRACE_SECONDS)
    resend = now - dt.timedelta(seconds=settings.JOBS_REDISPATCH_SECONDS)
    due = (
        Batch.objects.filter(
            kind=Batch.Kind.STATEMENT,
            status=Batch.Status.ACCEPTED,
            filed_at=None,
            finished_at__lt=grace,
        )
        .exclude(source_file="")
        .filter(Q(filing_sent_at=None) | Q(filing_sent_at__lt=resend))
    )
    return _resend_each(due, "filing_sent_at", batches.dispatch_filing, now)


def _redispatch_pdfs(now: dt.datetime) -> tuple[int, int]:
    """The PDF renders asked for and never started, or left half-way by a worker that died."""
    grace = now - dt.timedelta(seconds=settings.JOBS_DISPATCH_GRACE_SECONDS)
    resend = now - dt.timedelta(seconds=settings.JOBS_REDISPATCH_SECONDS)
    not_lately = Q(pdf_dispatched_at=None) | Q(pdf_dispatched_at__lt=resend)
    queued = Q(pdf_status=Run.PdfStatus.QUEUED) & (
        Q(pdf_dispatched_at=None) & (Q(pdf_requested_at__lt=grace) | Q(pdf_requested_at=None))
        | Q(pdf_dispatched_at__lt=resend)
    )
    abandoned = (
        Q(pdf_status=Run.PdfStatus.RENDERING, pdf_rendered_at__lt=now - reports.STALE_RENDER)
        & not_lately
    )
    due = Run.objects.filter(queued | abandoned, status=Run.Status.SUCCEEDED)
    return _resend_each(due, "pdf_dispatched_at", reports.dispatch_pdf, now)


def _resend_each(
    due: QuerySet, sent_at: str, dispatch: Callable[[int], bool], now: dt.datetime
) -> tuple[int, int]:
    """Send each due job again, each taken first by moving its ``sent_at`` to ``now`` (only the
    pass that moved it sends) and put back if the broker would not take it. Returns how many
    were sent and how many the broker refused."""
    sent = unreachable = 0
    model = due.model
    for pk, previous in due.order_by("pk").values_list("pk", sent_at):
        if not model.objects.filter(pk=pk, **{sent_at: previous}).update(**{sent_at: now}):
            continue  # another pass took it
        if dispatch(pk):
            sent += 1
        else:
            model.objects.filter(pk=pk, **{sent_at: now}).update(**{sent_at: previous})
            unreachable += 1
    return sent, unreachable
