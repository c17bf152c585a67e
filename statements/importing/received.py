"""Keeping an accepted statement file: the importer's record of what CBSA billed.

A statement file used to be kept only until its import had run. An accepted one is now kept in the
default storage (``ImportBatch.source_file``) and handed to whoever files records
(``signals.statement_file_received``; the compliance documents in services), once per importer it
concerns. This happens in two steps:

* ``store``, in the import's own call: the bytes are saved (a file imported from a stream is gone
  once the call returns); this costs one copy of the file;
* ``file_batch``, afterwards, as its own job (``heavy_file_statement_batch``, or at the end of the
  worker's import task): the extracts and the filing. For a broker's file covering a thousand
  importers that is a thousand extracts and documents, seconds of work that must not keep the
  import's statements from being shown and reconciled. ``ImportBatch.filed_at`` records that it
  is done; the re-dispatch job sends it again if its message was lost.

What is filed:

* a file about **one importer** is that importer's record as received, byte for byte;
* a file about **several importers** (a broker's file covering its clients) must not be filed whole
  under each of them: one importer's people would download the others' lines. Each importer gets an
  extract: the header and its own rows, as they were, stored next to the file under a name fixed by
  the batch and the importer (a re-run writes nothing new). The whole file stays the broker's.

A **refused** file is not kept and not filed: nothing of it was imported, so it records nothing
(the batch row keeps its name, hash and errors). Entries files are not filed either: they are the
broker's export of its own system, covering many importers, and what the importer must keep is the
CAD itself (filed as a CAD document), not the broker's working file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from clients.validators import normalize_bn15
from statements.importing.columns import STATEMENT_COLUMNS, read_header
from statements.models import ImportBatch, Statement
from statements.signals import statement_file_received


@dataclass(frozen=True)
class ReceivedFile:
    """One importer's part of an accepted statement file, stored and ready to be filed."""

    importer_id: int
    path: str
    name: str
    record_date: dt.date  # the latest billing-period end of its statements in the file
    statement_ids: tuple[int, ...]


def store(batch: ImportBatch, stream: IO[bytes] | None) -> bool:
    """Keep an accepted statement file's bytes for good (from ``stream`` unless it is already
    stored as the batch's upload); returns whether there is something to file (``file_batch``)."""
    if not Statement.objects.filter(source_batch=batch).exists():
        return False
    if not batch.source_file:
        if stream is None:
            return False
        stream.seek(0)
        batch.source_file.save(_stored_name(batch), File(stream), save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(source_file=batch.source_file.name)
    return True


def file_batch(batch_id: int) -> list[ReceivedFile]:
    """File an accepted, stored statement file: its importers' parts announced together, then
    ``filed_at`` set. Idempotent: a filed batch is skipped, an extract already stored (whole) is
    reused, and the receivers file a path once; a run killed half-way is simply run again."""
    batch = ImportBatch.objects.filter(
        pk=batch_id, kind=ImportBatch.Kind.STATEMENT, status=ImportBatch.Status.ACCEPTED
    ).first()
    if batch is None or batch.filed_at is not None or not batch.source_file:
        return []
    touched: dict[int, list[tuple[int, dt.date, str]]] = defaultdict(list)
    rows = Statement.objects.filter(source_batch=batch).values_list(
        "program_account__importer_id", "pk", "period_end", "program_account__bn15"
    )
    for importer_id, pk, period_end, bn15 in rows:
        touched[importer_id].append((pk, period_end, bn15))
    if len(touched) == 1:
        [(importer_id, statements)] = touched.items()
        received = [_received(importer_id, batch.source_file.name, batch.file_name, statements)]
    elif touched:
        received = _extracts(batch, touched)
    else:
        received = []
    if received:  # a job of its own, outside any transaction: the filing is durable
        statement_file_received.send(sender=ImportBatch, batch=batch, received=received)
    ImportBatch.objects.filter(pk=batch.pk, filed_at=None).update(filed_at=timezone.now())
    return received


def _stored_name(batch: ImportBatch) -> str:
    return f"{batch.pk}-{batch.sha256[:16]}.csv"


def _received(
    importer_id: int, path: str, name: str, statements: list[tuple[int, dt.date, str]]
) -> ReceivedFile:
    return ReceivedFile(
        importer_id=importer_id,
        path=path,
        name=name,
        record_date=max(period_end for _pk, period_end, _bn15 in statements),
        statement_ids=tuple(sorted(pk for pk, _end, _bn15 in statements)),
    )


def _extracts(
    batch: ImportBatch, touched: dict[int, list[tuple[int, dt.date, str]]]
) -> list[ReceivedFile]:
    """Each importer's rows of a file about several, stored under ``<folder>/<batch>-e<importer>``."""
    owner = {bn15: importer_id for importer_id, sts in touched.items() for _pk, _end, bn15 in sts}
    outputs: dict[int, io.StringIO] = {importer_id: io.StringIO() for importer_id in touched}
    writers = {importer_id: csv.writer(out) for importer_id, out in outputs.items()}
    with batch.source_file.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        records = csv.reader(text, strict=True)
        fields = next(records)
        account = read_header(fields, STATEMENT_COLUMNS).index["account_number"]
        for writer in writers.values():
            writer.writerow(fields)
        # A file names each account on thousands of rows: normalize each spelling once.
        importer_of: dict[str, int | None] = {}
        for record in records:
            raw_account = record[account] if account < len(record) else ""
            try:
                importer_id = importer_of[raw_account]
            except KeyError:
                importer_id = importer_of[raw_account] = owner.get(_bn15(raw_account))
            if importer_id is not None:
                writers[importer_id].writerow(record)
    folder = PurePath(batch.source_file.name).parent
    stem = PurePath(batch.file_name).stem
    received = []
    for importer_id, out in outputs.items():
        path = _store_extract(
            str(folder / f"{batch.pk}-e{importer_id}.csv"), out.getvalue().encode("utf-8")
        )
        name = f"{stem}-{importer_id}.csv"
        received.append(_received(importer_id, path, name, touched[importer_id]))
    return received


def _store_extract(path: str, data: bytes) -> str:
    """Store an extract under its fixed name, once: one already there whole is kept; one a killed
    run left half-written is replaced; a copy a concurrent run saved under another name is
    removed (its twin is the record)."""
    if default_storage.exists(path):
        with default_storage.open(path, "rb") as stored:
            if stored.read(len(data) + 1) == data:
                return path
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(data))
    if saved != path and default_storage.exists(path):
        default_storage.delete(saved)
        return path
    return saved


def _bn15(value: str) -> str:
    try:
        return normalize_bn15(value)
    except ValidationError:
        return ""
