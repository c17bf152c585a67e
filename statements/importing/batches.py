"""Batches: receiving a file, claiming it, running its import in one transaction, recording the
outcome on its ``ImportBatch`` row.

Entry points: ``create_batch`` (hash + batch row), ``run_batch`` (claim + import, as the Celery
task and the upload page do), ``import_path`` / ``import_stream`` (both, for the management
commands, the demo and small uploads), ``import_upload`` (the upload page and API: now if small,
else queued). A queued upload goes to the heavy worker on commit through ``statements.enqueue``
(the task by its registered name): this module does not import the tasks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carm_portal import stored_text as later
from carm_portal.dispatch import send, send_on_commit
from carm_portal.notification_models import Kind as NotificationKind
from carm_portal.notifications import notify
from statements.enqueue import heavy_file_statement_batch, heavy_import_batch
from statements.entries_received import note_entries_received
from statements.importing import received
from statements.importing.base import Import, Outcome
from statements.importing.columns import COLUMNS
from statements.importing.entry_file import EntryImport
from statements.importing.problems import AlreadyImported, FileProblem, Refused
from statements.importing.reading import hash_stream
from statements.importing.statement_file import StatementImport
from statements.models import ImportBatch
from statements.signals import entries_imported, statements_imported
from statements.stored_files import delete_unless_kept

if TYPE_CHECKING:
    from carm_portal.models import User

log = logging.getLogger(__name__)

Kind = ImportBatch.Kind


IMPORTS: dict[str, type[Import]] = {Kind.STATEMENT: StatementImport, Kind.ENTRIES: EntryImport}


def create_batch(
    *,
    kind: str,
    file_name: str,
    stream: IO[bytes],
    user: User | None = None,
    status: str = ImportBatch.Status.QUEUED,
) -> ImportBatch:
    """Hash the file and record a batch for it, or raise ``AlreadyImported``."""
    if kind not in COLUMNS:
        raise ValueError(f"Unknown import kind {kind!r}.")
    sha, size = hash_stream(stream)
    live = ImportBatch.objects.filter(kind=kind, sha256=sha, status__in=ImportBatch.LIVE_STATUSES)
    existing = live.first()
    if existing is not None:
        raise AlreadyImported(existing)
    try:
        with transaction.atomic():
            return ImportBatch.objects.create(
                kind=kind,
                file_name=Path(file_name).name[:255],
                sha256=sha,
                size=size,
                uploaded_by=user,
                status=status,
                started_at=timezone.now() if status == ImportBatch.Status.RUNNING else None,
            )
    except IntegrityError:  # the same file arrived at the same moment
        winner = live.first()
        assert winner is not None  # the constraint refused us for a committed live batch
        raise AlreadyImported(winner) from None


def receive_upload(*, kind: str, upload: UploadedFile, user: User | None) -> ImportBatch:
    """Record an uploaded file as a queued batch and keep the bytes for the worker."""
    batch = create_batch(kind=kind, file_name=upload.name or "upload.csv", stream=upload, user=user)
    upload.seek(0)
    batch.source_file.save(f"{batch.pk}-{batch.sha256[:16]}.csv", upload, save=False)
    ImportBatch.objects.filter(pk=batch.pk).update(source_file=batch.source_file.name)
    return batch


def import_upload(
    *, kind: str, upload: UploadedFile, user: User | None
) -> tuple[ImportBatch, bool]:
    """Import an uploaded file now if it is small, else keep it and queue it for a worker on the
    ``heavy`` queue (after the request's transaction commits): a page or API call must not hold a
    web worker for a million-line file. Returns the batch and whether it was queued.

    Raises ``AlreadyImported`` (with the earlier batch) when the same file was imported before.
    """
    if upload.size <= settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES:
        assert upload.name is not None  # Django names every uploaded file (the client's name)
        result = import_stream(
            kind=kind, stream=unwrap_file(upload), file_name=upload.name, user=user
        )
        if result.already_imported:
            raise AlreadyImported(result.batch)
        return result.batch, False
    batch = receive_upload(kind=kind, upload=upload, user=user)
    send_on_commit(heavy_import_batch, kwargs={"batch_id": batch.pk}, on_sent=sent(batch.pk))
    return batch, True


def dispatch(batch_id: int) -> bool:
    """Send a queued batch to a worker now; returns whether the broker took it."""
    return send(heavy_import_batch, kwargs={"batch_id": batch_id}, on_sent=sent(batch_id))


def sent(batch_id: int) -> Callable[[], object]:
    """What to do once the broker has taken the batch's message: note when, on its row."""
    return lambda: ImportBatch.objects.filter(pk=batch_id).update(dispatched_at=timezone.now())


def claim(batch_id: int) -> ImportBatch | None:
    """Take a queued batch (or one left running by a worker that died) for this worker, or None."""
    stale = timezone.now() - dt.timedelta(seconds=settings.STATEMENTS_IMPORT_STALE_SECONDS)
    claimed = (
        ImportBatch.objects.filter(pk=batch_id)
        .filter(
            Q(status=ImportBatch.Status.QUEUED)
            | Q(status=ImportBatch.Status.RUNNING, started_at__lt=stale)
        )
        .update(status=ImportBatch.Status.RUNNING, started_at=timezone.now(), phase=_("starting"))
    )
    return ImportBatch.objects.filter(pk=batch_id).first() if claimed else None


def run_batch(*, batch: ImportBatch, stream: IO[bytes] | None = None) -> ImportBatch:
    """Import a claimed (running) batch from ``stream`` or its stored upload; record the outcome.

    An accepted statement file is stored here but filed afterwards (``received.file_batch``):
    the caller files it (the worker's task) or queues its filing (``queue_filing``)."""
    user = batch.uploaded_by
    try:
        if stream is not None:
            _execute(batch, stream, user)
            _store_if_accepted(batch, stream)
        else:
            try:
                stored = batch.source_file.open("rb")
            except (OSError, ValueError):
                _fail(batch, _("The uploaded file is no longer there; upload it again."))
            else:
                with stored:
                    _execute(batch, unwrap_file(stored), user)
                if not _store_if_accepted(batch, None):
                    delete_unless_kept(batch.source_file.name, batch.source_file.storage)
                    ImportBatch.objects.filter(pk=batch.pk).update(source_file="")
    except Exception:
        log.exception("Import batch %s failed", batch.pk)
        _fail(batch, _("The import stopped on an unexpected error and nothing was imported."))
        raise
    batch.refresh_from_db()
    return batch


def _store_if_accepted(batch: ImportBatch, stream: IO[bytes] | None) -> bool:
    """Keep an accepted statement file as the importers' record (``importing.received``);
    returns whether it is kept, to be filed. Refused files and entries files are not (see there
    why)."""
    if batch.kind != Kind.STATEMENT or batch.status != ImportBatch.Status.ACCEPTED:
        return False
    return received.store(batch, stream)


def to_file(batch: ImportBatch) -> bool:
    """Whether an accepted statement file is stored and waiting to be filed."""
    return (
        batch.kind == Kind.STATEMENT
        and batch.status == ImportBatch.Status.ACCEPTED
        and bool(batch.source_file)
        and batch.filed_at is None
    )


def queue_filing(batch_id: int) -> None:
    """Send the batch's filing to a worker once the current transaction commits (at once outside
    one); a message that never gets there is sent again by the re-dispatch job."""
    send_on_commit(
        heavy_file_statement_batch, kwargs={"batch_id": batch_id}, on_sent=filing_sent(batch_id)
    )


def dispatch_filing(batch_id: int) -> bool:
    """Send the batch's filing now; returns whether the broker took it."""
    return send(
        heavy_file_statement_batch, kwargs={"batch_id": batch_id}, on_sent=filing_sent(batch_id)
    )


def filing_sent(batch_id: int) -> Callable[[], object]:
    return lambda: ImportBatch.objects.filter(pk=batch_id).update(filing_sent_at=timezone.now())


def file_now(batch_id: int) -> int:
    """File a batch in this process (a worker that has just imported it): marked as taken first,
    so the re-dispatch job does not send it meanwhile. Returns how many records were handed on."""
    filing_sent(batch_id)()
    return len(received.file_batch(batch_id))


def _fail(batch: ImportBatch, reason: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.REFUSED,
        phase="",
        error_count=1,
        errors=[{"row": None, "column": "", "value": "", "reason": reason}],
        message=reason,
        finished_at=timezone.now(),
    )
    batch.error_count = 1
    tell_refused(batch)


def unwrap_file(stream: Any) -> IO[bytes]:
    """The plain Python file under Django's File wrappers (iterating it is much faster)."""
    while getattr(stream, "file", None) is not None and stream.file is not stream:
        stream = stream.file
    return stream


def _execute(batch: ImportBatch, stream: IO[bytes], user: User | None) -> None:
    job = IMPORTS[batch.kind](batch=batch, stream=stream, user=user)
    started = time.monotonic()
    job.tick(_("reading"), force=True)
    try:
        with transaction.atomic(), _without_cycle_collector():
            outcome = job.run()
            _finish(batch, job, status=ImportBatch.Status.ACCEPTED, outcome=outcome)
            if batch.kind == ImportBatch.Kind.STATEMENT:
                statements_imported.send(sender=ImportBatch, batch=batch)
            else:
                if isinstance(job, EntryImport) and batch.finished_at is not None:
                    note_entries_received(job.accounts_with_new_entries(), batch.finished_at)
                entries_imported.send(sender=ImportBatch, batch=batch)
    except Refused:
        _finish(batch, job, status=ImportBatch.Status.REFUSED, outcome=job.outcome)
    except FileProblem as problem:
        job.errors.add(problem.row, problem.column, problem.value, problem.reason)
        _finish(batch, job, status=ImportBatch.Status.REFUSED, outcome=job.outcome)
    except IntegrityError as exc:  # another file brought the same statement at the same moment
        log.info("Import batch %s lost a race: %s", batch.pk, exc)
        job.errors.add(
            None,
            "",
            "",
            _(
                "Another import wrote the same statements or entries at the same moment; nothing "
                "was imported from this file. Import it again to see what is left to do."
            ),
        )
        _finish(batch, job, status=ImportBatch.Status.REFUSED, outcome=job.outcome)
    finally:
        job.progress.close()
        job.rows.release()
    log.debug(
        "Import batch %s (%s, %s rows) %s in %.1fs",
        batch.pk,
        batch.kind,
        job.outcome.rows,
        batch.status,
        time.monotonic() - started,
    )


@contextlib.contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Python's cycle collector off while a file is read: its passes over the millions of lists
    and tuples the reading creates (none of them in a cycle) took a sixth of the import's time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _finish(batch: ImportBatch, job: Import, *, status: str, outcome: Outcome) -> None:
    batch.status = status
    batch.phase = ""
    batch.row_count = outcome.rows or max(job.rows.row - 1, job.rows_read, 0)
    batch.bytes_read = batch.size
    batch.statement_count = outcome.statements if status == "accepted" else 0
    batch.line_count = outcome.lines if status == "accepted" else 0
    batch.entry_count = outcome.entries if status == "accepted" else 0
    batch.skipped_count = outcome.skipped if status == "accepted" else 0
    batch.account_count = outcome.accounts if status == "accepted" else 0
    batch.error_count = job.errors.count
    batch.errors = job.errors.sorted_items()
    batch.unknown_accounts = sorted(job.directory.unknown.values(), key=lambda u: u["first_row"])
    batch.warnings = job.warnings
    batch.finished_at = timezone.now()
    batch.message = summary(batch)
    batch.save()
    if status == ImportBatch.Status.REFUSED:
        tell_refused(batch)


def tell_refused(batch: ImportBatch) -> None:
    """The person who uploaded a refused file hears of it (once per batch)."""
    if batch.uploaded_by_id is None:
        return
    notify(
        kind=NotificationKind.IMPORT_REFUSED,
        recipients=[batch.uploaded_by_id],
        key=f"batch:{batch.pk}:refused",
        text=later.ngettext(
            "Your file %(name)s was refused: %(n)s problem found, nothing was imported.",
            "Your file %(name)s was refused: %(n)s problems found, nothing was imported.",
            batch.error_count,
            {"name": batch.file_name, "n": batch.error_count},
        ),
        url=batch.get_absolute_url(),
    )


def summary(batch: ImportBatch) -> str:
    """One sentence on what became of a batch, for messages, the command and the page."""
    if batch.status == ImportBatch.Status.REFUSED:
        text = ngettext(
            "Refused: %(n)d problem found; nothing from this file was imported.",
            "Refused: %(n)d problems found; nothing from this file was imported.",
            batch.error_count,
        ) % {"n": batch.error_count}
        if batch.unknown_accounts:
            text += " " + _("Unknown program accounts: %(list)s.") % {
                "list": ", ".join(u["bn15"] for u in batch.unknown_accounts)
            }
        return text
    if batch.status != ImportBatch.Status.ACCEPTED:
        return ""
    accounts = ngettext("%(n)d program account", "%(n)d program accounts", batch.account_count) % {
        "n": batch.account_count
    }
    if batch.kind == Kind.STATEMENT:
        text = _("Imported %(statements)s (%(lines)s) for %(accounts)s.") % {
            "statements": ngettext("%(n)d statement", "%(n)d statements", batch.statement_count)
            % {"n": batch.statement_count},
            "lines": ngettext("%(n)d line", "%(n)d lines", batch.line_count)
            % {"n": batch.line_count},
            "accounts": accounts,
        }
    else:
        text = _("Imported %(entries)s for %(accounts)s.") % {
            "entries": ngettext("%(n)d entry", "%(n)d entries", batch.entry_count)
            % {"n": batch.entry_count},
            "accounts": accounts,
        }
        if batch.skipped_count:
            text += " " + ngettext(
                "%(n)d row was already imported, identical, and was skipped.",
                "%(n)d rows were already imported, identical, and were skipped.",
                batch.skipped_count,
            ) % {"n": batch.skipped_count}
    return text


@dataclass
class Imported:
    """What ``import_path``/``import_stream`` answer: the batch, or the earlier one it repeats."""

    batch: ImportBatch
    already_imported: bool = False
    message: str = ""


def import_stream(
    *, kind: str, stream: IO[bytes], file_name: str, user: User | None = None
) -> Imported:
    """Import a file now, in this process (commands, demo, small uploads)."""
    try:
        batch = create_batch(
            kind=kind,
            file_name=file_name,
            stream=stream,
            user=user,
            status=ImportBatch.Status.RUNNING,
        )
    except AlreadyImported as exc:
        return Imported(batch=exc.batch, already_imported=True, message=str(exc))
    batch = run_batch(batch=batch, stream=stream)
    if to_file(batch):
        queue_filing(batch.pk)
    return Imported(batch=batch, message=batch.message)


def import_path(*, kind: str, path: str | Path, user: User | None = None) -> Imported:
    path = Path(path)
    with path.open("rb") as stream:
        return import_stream(kind=kind, stream=stream, file_name=path.name, user=user)
