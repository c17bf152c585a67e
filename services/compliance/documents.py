"""Filing compliance documents: content checks, storage, retention, legal holds and purging.

* **Content**: a file is refused when its bytes say it is something other than its extension
  claims (``puremagic`` reads the signature), when its extension is not one we keep, or when it is
  larger than ``COMPLIANCE_DOCUMENT_MAX_BYTES``. Text formats (CSV, TXT, XML, EDI) have no
  signature: they must decode as UTF-8 and contain no NUL byte.
* **Retention**: six years after the end of the calendar year of the record by default (Imported
  Goods Records Regulations), per type in ``RetentionPeriod``.
* **Purging** happens only when a broker admin confirms it (``purge_documents``), never by the
  daily job, which only lists what has expired; a document on legal hold or still in its
  retention period is never purged. The row stays, with who purged it and when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

import puremagic
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from carm_portal.models import User
from clients.models import Importer
from services.models import ComplianceDocument, Correction, DocumentType, RetentionPeriod
from statements.models import Statement

DEFAULT_RETENTION_YEARS = 6
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# extension -> (content type, the signatures puremagic may report for it; empty: a text format)
ALLOWED: dict[str, tuple[str, frozenset[str]]] = {
    ".pdf": ("application/pdf", frozenset({".pdf"})),
    ".png": ("image/png", frozenset({".png"})),
    ".jpg": ("image/jpeg", frozenset({".jpg", ".jpeg", ".jfif", ".jpe"})),
    ".jpeg": ("image/jpeg", frozenset({".jpg", ".jpeg", ".jfif", ".jpe"})),
    ".tif": ("image/tiff", frozenset({".tif", ".tiff"})),
    ".tiff": ("image/tiff", frozenset({".tif", ".tiff"})),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        frozenset({".xlsx", ".zip"}),
    ),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        frozenset({".docx", ".zip"}),
    ),
    ".csv": ("text/csv", frozenset()),
    ".txt": ("text/plain", frozenset()),
    ".xml": ("application/xml", frozenset()),
    ".edi": ("text/plain", frozenset()),
}


def filed_content_types() -> list[str]:
    """Every content type a document is stored (and served) under, each once, sorted."""
    return sorted({content_type for content_type, _signatures in ALLOWED.values()})


class DocumentError(ValueError):
    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


def max_bytes() -> int:
    return int(getattr(settings, "COMPLIANCE_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def retention_years(document_type: str) -> int:
    period = RetentionPeriod.objects.filter(document_type=document_type).first()
    return period.years if period else DEFAULT_RETENTION_YEARS


def retain_until(*, document_type: str, record_date: dt.date, years: int | None = None) -> dt.date:
    """The last day of the calendar year ``years`` (the type's retention, read when not given)
    after the record's year."""
    if years is None:
        years = retention_years(document_type)
    return dt.date(record_date.year + years, 12, 31)


def checked_content(*, name: str, data: bytes) -> str:
    """The content type to store ``data`` under, or ``DocumentError`` saying why it is refused."""
    extension = PurePath(name).suffix.lower()
    if extension not in ALLOWED:
        raise DocumentError(
            _("Files ending in “%(ext)s” are not kept: use %(allowed)s.")
            % {"ext": extension or _("(none)"), "allowed": ", ".join(sorted(ALLOWED))}
        )
    if not data:
        raise DocumentError(_("The file is empty."))
    if len(data) > max_bytes():
        raise DocumentError(
            _("The file is %(size)d bytes; the limit is %(limit)d.")
            % {"size": len(data), "limit": max_bytes()}
        )
    content_type, signatures = ALLOWED[extension]
    try:
        found = {m.extension.lower() for m in puremagic.magic_string(data)}
    except puremagic.PureError:
        found = set()
    if signatures:
        if not found & signatures:
            raise DocumentError(
                _("The file's content is not a %(ext)s file.") % {"ext": extension.lstrip(".")}
            )
        return content_type
    # A text format: no signature of a binary format, no NUL, valid UTF-8.
    binary = found - {".txt", ".csv", ".xml", ".html", ".htm", ".json"}
    if b"\x00" in data or binary:
        raise DocumentError(
            _("The file's content is not a %(ext)s file.") % {"ext": extension.lstrip(".")}
        )
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(_("A text file must be UTF-8.")) from None
    return content_type


@transaction.atomic
def file_document(
    *,
    importer: Importer,
    document_type: str,
    name: str,
    data: bytes,
    record_date: dt.date,
    by: User | None,
    description: str = "",
    statement: Statement | None = None,
    transaction_number: str = "",
    delegation_id: int | None = None,
    correction: Correction | None = None,
) -> ComplianceDocument:
    """Check and store one document of ``importer``; whatever it is linked to must be its own."""
    if document_type not in DocumentType.values:
        raise DocumentError(_("Choose the type of document."), field="document_type")
    for linked, label in ((statement, "statement"), (correction, "correction")):
        if linked is not None and _importer_id(linked) != importer.pk:
            raise DocumentError(_("That record is not the importer's."), field=label)
    content_type = checked_content(name=name, data=data)
    document = ComplianceDocument(
        importer=importer,
        document_type=document_type,
        original_name=PurePath(name).name[:255],
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        record_date=record_date,
        retain_until=retain_until(document_type=document_type, record_date=record_date),
        description=description.strip(),
        statement=statement,
        transaction_number=transaction_number,
        delegation_id=delegation_id,
        correction=correction,
        uploaded_by=by,
    )
    document.file.save(document.original_name, ContentFile(data), save=False)
    document._history_user = by
    document._change_reason = _("Filed")
    document.save()
    return document


def _importer_id(obj: Statement | Correction) -> int:
    if isinstance(obj, Statement):
        return obj.program_account.importer_id
    return obj.importer_id


def read_upload(upload: IO[bytes], *, limit: int | None = None) -> bytes:
    """At most ``limit`` + 1 bytes of an upload, so an oversized file is refused without reading
    it all into memory."""
    limit = max_bytes() if limit is None else limit
    return upload.read(limit + 1)


def set_legal_hold(
    document: ComplianceDocument, *, hold: bool, reason: str, by: User
) -> ComplianceDocument:
    if hold and not reason.strip():
        raise DocumentError(_("Say why the document is on hold."), field="legal_hold_reason")
    document.legal_hold = hold
    document.legal_hold_reason = reason.strip() if hold else ""
    document._history_user = by
    document._change_reason = _("Legal hold placed") if hold else _("Legal hold lifted")
    document.save(update_fields=["legal_hold", "legal_hold_reason"])
    return document


def expired(*, today: dt.date) -> QuerySet[ComplianceDocument]:
    """Documents past retention that may be purged: not on hold, not purged yet."""
    return ComplianceDocument.objects.filter(
        retain_until__lt=today, legal_hold=False, purged_at__isnull=True
    )


def purge_documents(
    documents: Iterable[ComplianceDocument], *, by: User, today: dt.date
) -> tuple[int, int]:
    """Delete the files of the given documents that are past retention and not on hold.

    Returns (purged, refused). The row stays, marked purged by ``by``, with a history record:
    the audit trail of what was destroyed and on whose confirmation.
    """
    purged = refused = 0
    now = timezone.now()
    for document in documents:
        with transaction.atomic():
            locked = ComplianceDocument.objects.select_for_update().get(pk=document.pk)
            if locked.legal_hold or locked.retain_until >= today or locked.purged_at:
                refused += 1
                continue
            shared = (
                ComplianceDocument.objects.filter(file=locked.file.name, purged_at__isnull=True)
                .exclude(pk=locked.pk)
                .exists()
            )
            if locked.file and not shared:
                locked.file.delete(save=False)
            locked.file = ""
            locked.purged_at = now
            locked.purged_by = by
            locked._history_user = by
            locked._change_reason = _("Purged after retention, confirmed by an administrator")
            locked.save(update_fields=["file", "purged_at", "purged_by"])
            purged += 1
    return purged, refused


@dataclass(frozen=True)
class Stored:
    """A file the product already stored, to file as one importer's record."""

    importer_id: int
    path: str
    name: str
    document_type: str
    record_date: dt.date
    statement_id: int | None = None


def file_stored(
    *,
    importer: Importer,
    path: str,
    name: str,
    document_type: str,
    record_date: dt.date,
    by: User | None,
    description: str = "",
    statement: Statement | None = None,
) -> ComplianceDocument | None:
    """File one document the product already stored (a wizard upload, a generated PDF): see
    ``file_stored_many``."""
    stored = Stored(
        importer_id=importer.pk,
        path=path,
        name=name,
        document_type=document_type,
        record_date=record_date,
        statement_id=statement.pk if statement is not None else None,
    )
    [document] = file_stored_many([stored], by=by, description=description)
    return document


@transaction.atomic
def file_stored_many(
    files: Sequence[Stored], *, by: User | None, description: str = ""
) -> list[ComplianceDocument | None]:
    """File documents the product already stored (imported statement files: one per importer of
    a broker's file): each row points at its file, no copy. Answers each file's document, or None
    for content the checks refuse (the caller's own checks apply to it).

    Idempotent: a path already filed answers its document, and so does the same content (SHA-256)
    already filed for the importer as the same type (a statement file imported again after its
    batch was deleted, say): one record, not two. A constant number of queries for any number of
    files (a thousand importers' extracts took a thousand times eight queries one by one)."""
    # One filing at a time per importer (in id order: two filings never wait on each other in a
    # circle): two deliveries of the same file make one record.
    importer_ids = sorted({item.importer_id for item in files})
    list(Importer.objects.select_for_update().filter(pk__in=importer_ids).values_list("pk"))
    by_path = {
        document.file.name: document
        for document in ComplianceDocument.objects.filter(file__in=[f.path for f in files])
    }
    contents: dict[str, tuple[bytes, str]] = {}
    for item in files:
        if item.path not in by_path and item.path not in contents:
            with default_storage.open(item.path, "rb") as stored:
                data = stored.read(max_bytes() + 1)
            contents[item.path] = (data, hashlib.sha256(data).hexdigest())
    same_content = {
        (document.importer_id, document.document_type, document.sha256): document
        for document in ComplianceDocument.objects.filter(
            importer_id__in=importer_ids,
            sha256__in=[sha for _data, sha in contents.values()],
            purged_at__isnull=True,
        )
    }
    years = {kind: retention_years(kind) for kind in {item.document_type for item in files}}
    answers: list[ComplianceDocument | None] = []
    new: list[ComplianceDocument] = []
    for item in files:
        if item.path in by_path:
            answers.append(by_path[item.path])
            continue
        data, sha256 = contents[item.path]
        key = (item.importer_id, item.document_type, sha256)
        if key in same_content:
            answers.append(same_content[key])
            continue
        try:
            content_type = checked_content(name=item.name, data=data)
        except DocumentError:
            answers.append(None)
            continue
        document = ComplianceDocument(
            importer_id=item.importer_id,
            document_type=item.document_type,
            file=item.path,
            original_name=PurePath(item.name).name[:255],
            content_type=content_type,
            size=len(data),
            sha256=sha256,
            record_date=item.record_date,
            retain_until=retain_until(
                document_type=item.document_type,
                record_date=item.record_date,
                years=years[item.document_type],
            ),
            description=description,
            statement_id=item.statement_id,
            uploaded_by=by,
        )
        new.append(document)
        answers.append(document)
        by_path[item.path] = same_content[key] = document
    if new:
        bulk_create_with_history(
            new,
            ComplianceDocument,
            default_user=by,
            default_change_reason=_("Filed on arrival"),
        )
    return answers


def is_filed(path: str) -> bool:
    """Whether a stored file is a compliance record (its owner must then not delete it)."""
    return ComplianceDocument.objects.filter(file=path, purged_at__isnull=True).exists()
