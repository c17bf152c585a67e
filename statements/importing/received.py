"""Keeping an accepted statement file: the importer's record of what CBSA billed.

A statement file used to be kept only until its import had run. An accepted one is now kept in the
default storage (``ImportBatch.source_file``) and handed, once the import commits, to whoever files
records (``signals.statement_file_received``; the compliance documents in services), once per
importer it concerns:

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
from functools import partial
from pathlib import PurePath
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

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


def keep(batch: ImportBatch, stream: IO[bytes] | None) -> list[ReceivedFile]:
    """Store an accepted statement file for good (from ``stream`` unless it is already stored as
    the batch's upload) and announce each importer's part once the transaction commits."""
    touched: dict[int, list[tuple[int, dt.date, str]]] = defaultdict(list)
    rows = Statement.objects.filter(source_batch=batch).values_list(
        "program_account__importer_id", "pk", "period_end", "program_account__bn15"
    )
    for importer_id, pk, period_end, bn15 in rows:
        touched[importer_id].append((pk, period_end, bn15))
    if not touched:
        return []
    if not batch.source_file:
        if stream is None:
            return []
        stream.seek(0)
        batch.source_file.save(_stored_name(batch), File(stream), save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(source_file=batch.source_file.name)
    if len(touched) == 1:
        [(importer_id, statements)] = touched.items()
        received = [_received(importer_id, batch.source_file.name, batch.file_name, statements)]
    else:
        received = _extracts(batch, touched)
    for item in received:
        transaction.on_commit(partial(_announce, batch, item))
    return received


def _announce(batch: ImportBatch, item: ReceivedFile) -> None:
    statement_file_received.send(sender=ImportBatch, batch=batch, received=item)


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
        path = str(folder / f"{batch.pk}-e{importer_id}.csv")
        if not default_storage.exists(path):
            path = default_storage.save(path, ContentFile(out.getvalue().encode("utf-8")))
        name = f"{stem}-{importer_id}.csv"
        received.append(_received(importer_id, path, name, touched[importer_id]))
    return received


def _bn15(value: str) -> str:
    try:
        return normalize_bn15(value)
    except ValidationError:
        return ""
