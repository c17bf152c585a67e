"""Reading statement-of-account files and broker-entry files into the database.

Both formats are described in ``docs/formats.md``. Every import follows the same rules:

* **strict**: every row is checked (BN15, 14-digit transaction numbers, ISO dates, amounts with at
  most 2 places and no ``$`` or ``,``, components summing to the amount). A bad row is listed with
  its row number as a spreadsheet shows it (the header is row 1), column, value and reason, up to
  ``STATEMENTS_IMPORT_MAX_ERRORS``, with a count of the rest;
* **all or nothing**: the whole file is written in one transaction, and any bad row rolls it back;
  a refused file leaves only its ``ImportBatch`` row, with the errors;
* **idempotent**: a file is known by its SHA-256; while a batch of it is queued, running or
  accepted, another import of the same bytes is ``AlreadyImported`` and changes nothing;
* **streaming, bounded memory**: the file is read row by row and written in batches of
  ``FLUSH_ROWS`` rows, by PostgreSQL ``COPY`` (psycopg's ``cursor.copy``) or by ``executemany``
  elsewhere. What is held in memory grows with the number of statements and program accounts in a
  file, never with its number of rows.

Statement lines go straight to their table: each statement row is created when its first line is
flushed (placeholder balances), and completed at the end. Broker entries go through a temporary
staging table first, so duplicates inside the file and clashes with entries already stored are
found in SQL, in sets, whatever the file's size.

**Speed** (PostgreSQL): a first, optimistic pass reads the file in blocks of ``CHUNK_ROWS`` rows
and checks each block a column at a time (each distinct account, date and code once, a column's
amounts by one regular expression, the sums with ``map``), then sends it to ``COPY`` as text. A
block it does not dare to take goes row by row; any problem rolls the pass back to a savepoint,
and the careful pass (row by row for statements, the staging table for entries) reads the file
again and gives exactly the answer it would have given alone. Per-row Python work was what held
the import back; with blocks the server stores rows as fast as they come (``make bench``).

The raw SQL here (``# noqa: S608``) builds only identifiers from the models' own table and column
names; every value is a bound parameter or goes through ``COPY``.

Entry points: ``create_batch`` (hash + batch row), ``run_batch`` (claim + import, as the Celery
task and the upload page do), ``import_path`` (both, for the management commands and the demo).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import hashlib
import io
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from itertools import chain, compress, islice, repeat
from operator import add, ne
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import (
    DatabaseError,
    IntegrityError,
    connection,
    transaction,
)
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import get_history_manager_for_model

from carm_portal.progress import SideWriter
from clients import access
from clients.access import Perm
from clients.models import ProgramAccount
from clients.validators import normalize_bn15
from statements import billing
from statements.models import (
    COMPONENTS,
    BrokerEntry,
    ImportBatch,
    Statement,
    StatementLine,
)
from statements.signals import entries_imported, statements_imported

if TYPE_CHECKING:
    from carm_portal.models import User

log = logging.getLogger(__name__)

Kind = ImportBatch.Kind
CHUNK_ROWS = 2_000  # rows checked as one block (PostgreSQL), and between progress updates
FLUSH_ROWS = 10_000  # rows held before they are written (without COPY): the memory bound
ID_BLOCK = 256  # statement ids reserved from the sequence at a time (PostgreSQL)
MAX_REFERENCE = 64
MAX_VALUE_SHOWN = 80
MAX_UNKNOWN_ACCOUNTS = 200


# --- Columns and their header aliases ----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    aliases: tuple[str, ...] = ()


_COMPONENT_ALIASES: dict[str, tuple[str, ...]] = {
    "customs_duties": ("customs_duty", "duties", "duty"),
    "excise_duties": ("excise_duty",),
    "excise_taxes": ("excise_tax",),
    "gst": ("goods_and_services_tax", "gst_amount"),
    "anti_dumping": ("anti_dumping_duties", "anti_dumping_duty", "sima_anti_dumping", "add"),
    "countervailing": (
        "countervailing_duties",
        "countervailing_duty",
        "sima_countervailing",
        "cvd",
    ),
    "surtaxes": ("surtax",),
    "safeguards": ("safeguard", "safeguard_duties", "safeguard_surtax"),
    "provincial_taxes": ("provincial_tax", "pst", "hst", "pst_hst"),
    "interest": ("interest_amount",),
    "other": ("other_amount", "misc_amount"),
}
_COMPONENT_COLUMNS = tuple(Column(c, False, _COMPONENT_ALIASES[c]) for c in COMPONENTS)
_ACCOUNT = Column(
    "account_number",
    True,
    ("bn15", "program_account", "account", "rm_account", "business_number", "account_no"),
)
_TRANSACTION_ALIASES = (
    "transaction_no",
    "transaction",
    "txn",
    "txn_number",
    "transaction_id",
    "cad_transaction_number",
)
_AMOUNT = Column("amount", True, ("total", "total_amount", "line_amount", "amount_cad"))

STATEMENT_COLUMNS: tuple[Column, ...] = (
    _ACCOUNT,
    Column("statement_date", True, ("soa_date", "statement_issue_date", "issue_date")),
    Column("line_type", True, ("type", "transaction_type", "line")),
    Column("transaction_number", False, _TRANSACTION_ALIASES),
    Column("posted_on", True, ("posted", "posting_date", "date_posted", "posted_date")),
    Column("reference", False, ("ref", "payment_reference", "reference_number")),
    *_COMPONENT_COLUMNS,
    _AMOUNT,
    Column("due_date", False, ("payment_due_date", "date_due")),
)
ENTRY_COLUMNS: tuple[Column, ...] = (
    _ACCOUNT,
    Column("transaction_number", True, _TRANSACTION_ALIASES),
    Column("version", False, ("cad_version", "version_number", "ver")),
    Column("release_date", True, ("released_on", "date_released", "release")),
    Column("accounted_on", True, ("accounting_date", "accepted_on", "date_accounted", "accounted")),
    Column(
        "client_reference",
        False,
        ("client_ref", "file_number", "broker_reference", "invoice_number", "reference"),
    ),
    *_COMPONENT_COLUMNS,
    _AMOUNT,
)
COLUMNS = {Kind.STATEMENT: STATEMENT_COLUMNS, Kind.ENTRIES: ENTRY_COLUMNS}

_HEADER_SEPARATORS = re.compile(r"[\s\-_]+")


def header_key(text: str) -> str:
    """``" Transaction-Number "`` -> ``transaction_number``: case, spaces, dashes, underscores."""
    return _HEADER_SEPARATORS.sub("_", text.strip().lower()).strip("_")


def _alias_table(columns: Iterable[Column]) -> dict[str, str]:
    table: dict[str, str] = {}
    for column in columns:
        for alias in (column.name, *column.aliases):
            table[header_key(alias)] = column.name
    return table


# --- What an import answers ----------------------------------------------------------------------


class AlreadyImported(Exception):
    """The same bytes are already queued, running or imported: nothing changed."""

    def __init__(self, batch: ImportBatch):
        self.batch = batch
        super().__init__(already_imported_message(batch))


def already_imported_message(batch: ImportBatch) -> str:
    when = timezone.localtime(batch.created_at).strftime("%Y-%m-%d %H:%M")
    if batch.status == ImportBatch.Status.ACCEPTED:
        return _(
            "Already imported: this file (SHA-256 %(sha)s…) was imported as batch #%(id)s on "
            "%(when)s. Nothing changed."
        ) % {"sha": batch.sha256[:12], "id": batch.pk, "when": when}
    return _(
        "This file (SHA-256 %(sha)s…) is already being imported as batch #%(id)s, received "
        "%(when)s. Nothing changed."
    ) % {"sha": batch.sha256[:12], "id": batch.pk, "when": when}


class ErrorList:
    """Bad rows, kept up to a cap, counted beyond it."""

    def __init__(self, cap: int):
        self.cap = cap
        self.items: list[dict[str, Any]] = []
        self.count = 0

    def add(self, row: int | None, column: str, value: object, reason: str) -> None:
        self.count += 1
        if len(self.items) < self.cap:
            text = "" if value is None else str(value)
            if len(text) > MAX_VALUE_SHOWN:
                text = text[: MAX_VALUE_SHOWN - 1] + "…"
            self.items.append({"row": row, "column": column, "value": text, "reason": reason})

    def __bool__(self) -> bool:
        return self.count > 0

    def sorted_items(self) -> list[dict[str, Any]]:
        return sorted(self.items, key=lambda e: (e["row"] or 0, e["column"]))[: self.cap]


class _Refused(Exception):
    """Raised inside the import's transaction to roll it back."""


class _FileProblem(Exception):
    """The file cannot be read at all (encoding, layout, header): one error, then stop."""

    def __init__(self, reason: str, *, row: int | None = None, column: str = "", value: str = ""):
        self.reason, self.row, self.column, self.value = reason, row, column, value
        super().__init__(reason)


# --- Reading bytes into rows ---------------------------------------------------------------------


def hash_stream(stream: IO[bytes]) -> tuple[str, int]:
    """SHA-256 (hex) and size of a binary stream, read in chunks; leaves it at the start."""
    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def _utf8_hint() -> str:
    return _('Save it from your spreadsheet as "CSV UTF-8 (comma delimited)" and import it again.')


class _Found(Exception):
    def __init__(self, raw: bytes, exc: UnicodeDecodeError):
        self.raw, self.exc = raw, exc


class _Rows:
    """The CSV records of a UTF-8 file, decoded strictly by the C codec in large chunks.

    Chunked decoding is fast but does not say which row a bad byte is on, so when it meets one
    the file is read again line by line, only to name that row exactly.
    """

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.row = 0  # the row a problem was found on (the header is 1)
        self._text: io.TextIOWrapper | None = None

    def records(self) -> Iterator[list[str]]:
        head = self.stream.read(4)
        self.stream.seek(0)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _FileProblem(_("The file is UTF-16 text, not UTF-8.") + " " + _utf8_hint(), row=1)
        if head.startswith(b"PK\x03\x04"):
            raise _FileProblem(
                _("This is a spreadsheet workbook (.xlsx), not a CSV file.") + " " + _utf8_hint(),
                row=1,
            )
        self._text = io.TextIOWrapper(
            self.stream, encoding="utf-8-sig", errors="strict", newline=""
        )
        return csv.reader(self._text, strict=True)

    def position(self) -> int:
        try:
            return self.stream.tell()
        except (OSError, ValueError):
            return 0

    def release(self) -> None:
        """Let go of the stream without closing it (the caller owns it)."""
        if self._text is not None:
            with contextlib.suppress(ValueError):  # already detached
                self._text.detach()
            self._text = None

    def problem(self, exc: Exception, row: int) -> _FileProblem:
        """The answer for a decoding or CSV error met while reading ``row``."""
        if isinstance(exc, UnicodeDecodeError):
            return self._encoding_problem()
        self.row = row
        return _FileProblem(
            _("Row %(row)d is not valid CSV (%(detail)s): check its quotes.")
            % {"row": row, "detail": exc},
            row=row,
        )

    def _encoding_problem(self) -> _FileProblem:
        self.release()
        self.stream.seek(0)

        def lines() -> Iterator[str]:
            for number, raw in enumerate(self.stream):
                try:
                    yield raw.decode("utf-8-sig" if number == 0 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise _Found(raw, exc) from None

        row = 0
        try:
            for row, _fields in enumerate(csv.reader(lines()), 1):  # noqa: B007
                pass
        except _Found as found:
            self.row = row + 1
            bad = found.raw[found.exc.start : found.exc.start + 1].hex().upper()
            return _FileProblem(
                _(
                    "The file is not UTF-8 text: row %(row)d has the byte 0x%(byte)s, which "
                    "UTF-8 does not allow (Windows-1252 or Latin-1 files do this with accented "
                    "letters)."
                )
                % {"row": self.row, "byte": bad}
                + " "
                + _utf8_hint(),
                row=self.row,
            )
        except csv.Error:
            pass
        return _FileProblem(_("The file is not UTF-8 text.") + " " + _utf8_hint(), row=None)


class _Retry(Exception):
    """An optimistic first pass met a problem: read the file again the careful way, which
    finds and lists every problem (or, for a row it only did not dare to take, accepts it)."""


@dataclass
class _Header:
    index: dict[str, int]  # canonical column -> position in the row
    width: int
    ignored: list[str]


def read_header(fields: list[str], columns: tuple[Column, ...]) -> _Header:
    aliases = _alias_table(columns)
    index: dict[str, int] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for position, text in enumerate(fields):
        name = aliases.get(header_key(text))
        if name is None:
            if text.strip():
                ignored.append(text.strip())
            continue
        if name in index:
            raise _FileProblem(
                _("Columns “%(a)s” and “%(b)s” both mean %(name)s: keep only one of them.")
                % {"a": seen[name], "b": text.strip(), "name": name},
                row=1,
                column=name,
            )
        index[name] = position
        seen[name] = text.strip()
    missing = [c.name for c in columns if c.required and c.name not in index]
    if missing:
        raise _FileProblem(
            ngettext(
                "Required column missing: %(names)s. The header has: %(header)s.",
                "Required columns missing: %(names)s. The header has: %(header)s.",
                len(missing),
            )
            % {"names": ", ".join(missing), "header": ", ".join(f.strip() for f in fields)},
            row=1,
            column=missing[0],
        )
    return _Header(index=index, width=len(fields), ignored=ignored)


# --- Values ----------------------------------------------------------------------------------------

ZERO = Decimal("0.00")
_AMOUNT = r"-?[0-9]{1,12}(?:\.[0-9]{1,2})?"  # ASCII digits only (\d takes any script's)
_AMOUNT_RE = re.compile(_AMOUNT)
_AMOUNTS_RE = re.compile(rf"{_AMOUNT}(?:\|{_AMOUNT})*")  # several amounts joined by "|"
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The block checks (StatementImport.block_taker): a column's values joined by newlines.
_OPTIONAL_AMOUNTS_RE = re.compile(rf"(?:{_AMOUNT})?(?:\n(?:{_AMOUNT})?)*")
_TRANSACTIONS_RE = re.compile(r"(?:[0-9]{14})?(?:\n(?:[0-9]{14})?)*")
_REQUIRED_TRANSACTIONS_RE = re.compile(r"[0-9]{14}(?:\n[0-9]{14})*")
_ZERO_IF_BLANK = {"": "0"}
# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped
_COPY_SPECIAL_RE = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_IDENT_SEPARATORS = re.compile(r"[\s\-]+")


def amount_problem(value: str) -> str:
    """Why ``value`` is not an amount we accept (it is known not to match the pattern)."""
    if "$" in value:
        return _("No currency sign: write the number alone, e.g. 1431.03.")
    if "," in value:
        return _("No thousands separator or decimal comma: write 1431.03, not 1,431.03.")
    if re.fullmatch(r"-?\d+\.\d{3,}", value):
        return _("At most 2 decimal places (cents).")
    if re.fullmatch(r"-?\d{13,}(?:\.\d*)?", value):
        return _("Too large: at most 12 digits before the decimal point.")
    return _("Not an amount: expected digits with at most 2 decimals, e.g. 1431.03 or -12.40.")


def parse_amount(value: str) -> Decimal:
    """``"1431.03"`` -> ``Decimal("1431.03")``; raises ``ValueError`` with the reason otherwise."""
    if not _AMOUNT_RE.fullmatch(value):
        raise ValueError(amount_problem(value))
    return Decimal(value)


def parse_date(value: str) -> dt.date:
    if not _DATE_RE.fullmatch(value):
        raise ValueError(_("Expected a date as YYYY-MM-DD, e.g. 2025-06-25."))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        year, month, _day = (int(p) for p in value.split("-"))
        if 1 <= month <= 12:
            last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
            raise ValueError(
                _("%(value)s is not a date: %(month)s has %(days)d days.")
                % {
                    "value": value,
                    "month": dt.date(year, month, 1).strftime("%B %Y"),
                    "days": last,
                }
            ) from None
        raise ValueError(
            _("%(value)s is not a date: there is no month %(month)d.")
            % {"value": value, "month": month}
        ) from None


def parse_transaction_number(value: str) -> str:
    number = _IDENT_SEPARATORS.sub("", value)
    if not number.isdigit() or not number.isascii():
        raise ValueError(_("A transaction number has 14 digits and nothing else."))
    if len(number) != 14:
        raise ValueError(
            _("A transaction number has 14 digits; this one has %(n)d.") % {"n": len(number)}
        )
    return number


class _Cache(dict):
    """Parsed values by their text (dates, accounts and types repeat across rows), kept small."""

    LIMIT = 50_000

    def remember(self, key: str, value: object) -> object:
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = value
        return value


class _Bad:
    """A cached parse failure."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


# --- Program accounts the importing user may write to -------------------------------------------


@dataclass
class _Account:
    id: int
    importer_id: int
    bn15: str


class _Directory:
    """BN15 -> program account, among those the user may manage statements of (all for a job).

    An account the user may not manage is reported exactly like one that does not exist.
    """

    def __init__(self, user: User | None):
        accounts = ProgramAccount.objects.all()
        if user is not None:
            accounts = access.scope_for(accounts, user, Perm.MANAGE_STATEMENTS)
        self.by_bn15 = {
            bn15: _Account(pk, importer_id, bn15)
            for bn15, pk, importer_id in accounts.values_list("bn15", "pk", "importer_id")
        }
        self.cache = _Cache()
        self.unknown: dict[str, dict[str, Any]] = {}
        self.used: set[int] = set()

    def lookup(self, raw: str) -> _Account | _Bad:
        """The account ``raw`` names, or why none (a valid BN15 we do not hold: the BN15)."""
        found = self.cache.get(raw)
        if found is None:
            try:
                bn15 = normalize_bn15(raw)
            except ValidationError as exc:
                found = self.cache.remember(raw, _Bad(" ".join(exc.messages)))
            else:
                found = self.cache.remember(raw, self.by_bn15.get(bn15) or _Bad(bn15))
        return found

    def resolve(self, raw: str, row: int, errors: ErrorList) -> _Account | None:
        found = self.lookup(raw)
        if isinstance(found, _Account):
            self.used.add(found.id)
            return found
        if raw and found.reason.isalnum():  # a valid BN15 that we do not hold
            bn15 = found.reason
            seen = self.unknown.get(bn15)
            if seen is None:
                if len(self.unknown) < MAX_UNKNOWN_ACCOUNTS:
                    self.unknown[bn15] = {"bn15": bn15, "first_row": row, "rows": 1}
                errors.add(
                    row,
                    "account_number",
                    raw,
                    _(
                        "No program account %(bn15)s in carm-portal: add it to its importer first, "
                        "or check the number."
                    )
                    % {"bn15": bn15},
                )
            else:
                seen["rows"] += 1
            return None
        errors.add(row, "account_number", raw, found.reason)
        return None


# --- Writing rows ----------------------------------------------------------------------------------


class _Writer:
    """Rows into a table: one ``COPY`` kept open on PostgreSQL, ``executemany`` batches elsewhere.

    On PostgreSQL each row is handed to the server as soon as it is checked, so the server inserts
    while Python reads the next rows; ``pause()`` ends the ``COPY`` when another query must run
    (the next row opens a new one). Elsewhere rows wait in a buffer of ``FLUSH_ROWS``.
    """

    def __init__(self, table: str, columns: list[str]):
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        self.copy_sql = f"COPY {quote(table)} ({names}) FROM STDIN"
        self.insert_sql = (
            f"INSERT INTO {quote(table)} ({names}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.streaming = connection.vendor == "postgresql"
        self.buffer: list[tuple] = []
        self.count = 0
        self._cursor: Any = None
        self._context: Any = None
        self._copy: Any = None

    def add(self, row: tuple) -> None:
        self.count += 1
        if self.streaming:
            (self._copy or self._open()).write_row(row)
            return
        self.buffer.append(row)
        if len(self.buffer) >= FLUSH_ROWS:
            self.pause()

    def add_block(self, text: str, rows: int) -> None:
        """Rows already in ``COPY``'s text format, one per line (PostgreSQL only)."""
        self.count += rows
        (self._copy or self._open()).write(text)

    def _open(self) -> Any:
        self._cursor = connection.cursor()
        self._context = self._cursor.copy(self.copy_sql)
        self._copy = self._context.__enter__()
        return self._copy

    def pause(self) -> None:
        """Send what is pending and end the ``COPY``, so that other queries may run."""
        if self._copy is not None:
            context, cursor = self._context, self._cursor
            self._copy = self._context = self._cursor = None
            context.__exit__(None, None, None)
            cursor.close()
        if self.buffer:
            with connection.cursor() as cursor:
                cursor.executemany(self.insert_sql, self.buffer)
            self.buffer.clear()

    close = pause

    def abandon(self) -> None:
        """Stop writing (the file is refused; its transaction will be rolled back).

        Also called on the way out of an exception, so never leaves a ``COPY`` half open (the
        connection would wait for data forever and the rollback would never run).
        """
        self.buffer.clear()
        try:
            self.pause()
        except DatabaseError:
            pass
        except Exception as exc:  # psycopg's own errors when the COPY had already failed
            log.debug("Ending an abandoned COPY: %s", exc)


def _columns_of(model: type, names: Iterable[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


# --- Progress --------------------------------------------------------------------------------------


class Progress:
    """Writes how far an import has read onto its batch row, where the batch page reads it.

    The import runs in one transaction, so the writes go through ``carm_portal.progress`` (a side
    connection on PostgreSQL; elsewhere only the outcome is written, when the import ends).
    """

    def __init__(self, batch: ImportBatch):
        self.batch_id = batch.pk
        self._side = SideWriter(what=f"import batch {batch.pk}")
        table = connection.ops.quote_name(ImportBatch._meta.db_table)
        self.sql = f"UPDATE {table} SET phase = %s, bytes_read = %s, row_count = %s WHERE id = %s"  # noqa: S608

    @classmethod
    def for_batch(cls, batch: ImportBatch) -> Progress:
        return cls(batch)

    @property
    def live(self) -> bool:
        return self._side.live

    def update(self, *, phase: str, bytes_read: int, rows: int, force: bool = False) -> None:
        self._side.write(self.sql, [phase[:40], bytes_read, rows, self.batch_id], force=force)

    def close(self) -> None:
        self._side.close()


# --- The two importers -----------------------------------------------------------------------------


@dataclass
class _Outcome:
    statements: int = 0
    lines: int = 0
    entries: int = 0
    skipped: int = 0
    accounts: int = 0
    rows: int = 0


@dataclass
class _StatementAcc:
    """What an import learns about one statement while reading its lines."""

    account: _Account
    statement_date: dt.date
    first_row: int
    due_date: dt.date | None = None
    due_text: str = ""
    due_row: int = 0
    opening: Decimal | None = None
    opening_row: int = 0
    total: Decimal = ZERO  # the lines other than the opening balance
    lines: int = 0
    id: int | None = None
    saved: bool = False  # the row exists (elsewhere than PostgreSQL: created at first sight)
    conflict: bool = False


class _Money(NamedTuple):
    components: list[str]  # file order, "0" where blank
    amount_text: str
    amount: Decimal


class _Import:
    """What both importers share: the header, the checks of each value, progress.

    Each row goes first through a fast path that only accepts it when every value is already
    known to be valid (accounts and dates repeat, and are cached after their first check) and
    every amount matches; anything else goes through the slow path, which checks the row value by
    value and records each problem. The two accept exactly the same rows.
    """

    columns: tuple[Column, ...]

    def __init__(self, *, batch: ImportBatch, stream: IO[bytes], user: User | None):
        self.batch = batch
        self.stream = stream
        self.user = user
        self.errors = ErrorList(settings.STATEMENTS_IMPORT_MAX_ERRORS)
        self.warnings: list[str] = []
        self.rows = _Rows(stream)
        self.directory = _Directory(user)
        self.progress = Progress.for_batch(batch)
        self.outcome = _Outcome()
        self.dates = _Cache()  # text -> text (valid) or _Bad
        self.rows_read = 0
        self.valid_dates: set[str] = set()
        self.reading = _("reading")  # the progress phase

    # The slow path's checks, one value at a time --------------------------------------------

    def date_text(self, value: str) -> str | _Bad:
        """``value`` if it is a valid date as YYYY-MM-DD, else why not (cached by text)."""
        known = self.dates.get(value)
        if known is None:
            try:
                parse_date(value)
            except ValueError as exc:
                known = self.dates.remember(value, _Bad(str(exc)))
            else:
                known = self.dates.remember(value, value)
                if len(self.valid_dates) < _Cache.LIMIT:
                    self.valid_dates.add(value)
        return known

    def all_dates(self, values: set[str]) -> bool:
        """Every value is a date exactly as written (no space around it): the fast paths' check."""
        return all(
            value == value.strip() and not isinstance(self.date_text(value), _Bad)
            for value in values.difference(self.valid_dates)
        )

    def date(self, fields: list[str], index: int, row: int, column: str) -> str | None:
        value = fields[index].strip()
        known = self.date_text(value)
        if isinstance(known, _Bad):
            if not value:
                self.errors.add(row, column, value, _("Required: a date as YYYY-MM-DD."))
            else:
                self.errors.add(row, column, value, known.reason)
            return None
        return known

    def money(self, fields: list[str], row: int) -> _Money | None:
        """The components (blank -> "0") and the amount, or None after recording the problems.

        A component counts as given when it is not zero; when one is, the amount must be their
        sum to the cent. An amount with no breakdown (all components blank or zero) stands alone.
        """
        ok = True
        given = False
        total = ZERO
        components: list[str] = []
        for name, index in self.component_index:
            value = fields[index].strip() if index is not None else ""
            if not value:
                components.append("0")
                continue
            try:
                number = parse_amount(value)
            except ValueError as exc:
                self.errors.add(row, name, value, str(exc))
                ok = False
                continue
            given = given or bool(number)
            total += number
            components.append(value)
        value = fields[self.amount_index].strip()
        if not value:
            self.errors.add(row, "amount", value, _("Required: the line's total."))
            return None
        try:
            amount = parse_amount(value)
        except ValueError as exc:
            self.errors.add(row, "amount", value, str(exc))
            return None
        if not ok:
            return None
        if given and amount != total:
            self.errors.add(
                row,
                "amount",
                value,
                _(
                    "The amount %(amount)s is not the sum of the components (%(sum)s): they differ "
                    "by %(diff)s."
                )
                % {
                    "amount": f"{amount:.2f}",
                    "sum": f"{total:.2f}",
                    "diff": f"{amount - total:.2f}",
                },
            )
            return None
        return _Money(components, value, amount)

    def shape_ok(self, fields: list[str], row: int) -> bool:
        if not any(f.strip() for f in fields):
            self.errors.add(row, "", "", _("Blank row: delete it (every row is one line)."))
            return False
        if len(fields) != self.header.width:
            self.errors.add(
                row,
                "",
                ",".join(fields),
                _(
                    "This row has %(n)d fields and the header %(width)d: a comma inside a value "
                    "must be quoted, and no column may be added or left out."
                )
                % {"n": len(fields), "width": self.header.width},
            )
            return False
        return True

    def reference(self, fields: list[str], index: int | None, row: int, column: str) -> str:
        value = fields[index].strip() if index is not None else ""
        if len(value) > MAX_REFERENCE:
            self.errors.add(
                row, column, value, _("At most %(n)d characters.") % {"n": MAX_REFERENCE}
            )
        return value

    # The fast path's amount check --------------------------------------------------------------

    def fast_money_function(self) -> Callable[[list[str]], _Money | None]:
        """As ``money`` for a clean row, recording nothing: None sends the row the slow way.

        Built once per file, with what it needs bound as locals: this runs for every row.
        """
        match = _AMOUNTS_RE.fullmatch
        positions = [-1 if i is None else i for i in self.component_positions]
        amount_index = self.amount_index
        to_decimal = Decimal

        def fast_money(fields: list[str]) -> _Money | None:
            """``fields`` ends with an extra "": position -1 stands for a missing column."""
            components = [fields[i] or "0" for i in positions]
            given = [v for v in components if v != "0"]
            text = fields[amount_index]
            if given:
                if match(f"{'|'.join(given)}|{text}") is None:
                    return None
                amount = to_decimal(text)
                # components that sum to the amount pass; otherwise only if they are all zero
                if sum(map(to_decimal, given)) != amount and any(map(to_decimal, given)):
                    return None
            elif match(text) is None:
                return None
            else:
                amount = to_decimal(text)
            return _Money(components, text, amount)

        return fast_money

    def tick(self, phase: str, *, rows: int | None = None, force: bool = False) -> None:
        if rows is not None:
            self.rows_read = rows
        self.progress.update(
            phase=phase, bytes_read=self.rows.position(), rows=self.rows_read, force=force
        )

    # The run ------------------------------------------------------------------------------

    def read_header_row(self) -> Iterator[tuple[int, list[str]]]:
        """The header read; the data rows to come, numbered as a spreadsheet shows them."""
        return enumerate(self.read_header(), 2)

    def read_header(self) -> Iterator[list[str]]:
        """The header read; the data rows to come.

        Reading them may raise ``UnicodeDecodeError`` or ``csv.Error``: each loop over them
        turns those into the file's refusal with ``self.rows.problem``.
        """
        records = self.rows.records()
        try:
            fields = next(records, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise self.rows.problem(exc, 1) from None
        if fields is None:
            raise _FileProblem(_("The file is empty."), row=None)
        if not any(f.strip() for f in fields):
            raise _FileProblem(_("The first row must be the header; it is blank."), row=1)
        self.header = read_header(fields, self.columns)
        index = self.header.index
        self.component_index = [(name, index.get(name)) for name in COMPONENTS]
        self.component_positions = [index.get(name) for name in COMPONENTS]
        self.amount_index = index["amount"]
        for name in self.header.ignored:
            self.warnings.append(
                _("Column “%(name)s” is not one we know: it was ignored.") % {"name": name}
            )
        return records

    def run(self) -> _Outcome:
        raise NotImplementedError

    # The block checks (PostgreSQL's first pass) -----------------------------------------------

    def block_columns(self, block: list[list[str]]) -> list[tuple[str, ...]] | None:
        """The block's columns, if every row has the header's width."""
        if set(map(len, block)) != {self.header.width}:
            return None
        return list(zip(*block, strict=True))

    def block_accounts_ok(self, raw_accounts: tuple[str, ...], known: dict[str, _Account]) -> bool:
        """Every account is one the user may import for; ``known`` keeps those seen before."""
        for raw in set(raw_accounts).difference(known):
            found = self.directory.lookup(raw)
            if type(found) is not _Account:
                return False
            known[raw] = found
        return True

    def block_money(
        self, columns: list[tuple[str, ...]]
    ) -> tuple[list[Decimal], list[Sequence[str]]] | None:
        """The amounts, and the component columns as ``COPY`` takes them ("0" for a blank), if
        every amount is well written and every row's components sum to its amount."""
        amounts = columns[self.amount_index]
        present = [columns[i] for i in self.component_positions if i is not None]
        given = [column for column in present if any(column)]
        if (
            "" in amounts
            or _OPTIONAL_AMOUNTS_RE.fullmatch("\n".join(chain(amounts, *given))) is None
        ):
            return None
        values = list(map(Decimal, amounts))
        if not _block_sums_ok(values, given):
            return None
        zeros = ("0",) * len(amounts)
        components = [
            list(map(_ZERO_IF_BLANK.get, columns[i], columns[i]))
            if i is not None and any(columns[i])
            else zeros
            for i in self.component_positions
        ]
        return values, components

    def optimistic(self) -> bool:
        """Whether a first pass may take shortcuts and fall back (PostgreSQL, seekable file)."""
        return connection.vendor == "postgresql" and self.stream.seekable()

    def _start_again(self) -> None:
        """Forget the first pass (its writes are rolled back to a savepoint) and rewind."""
        self.rows.release()
        self.stream.seek(0)
        self.rows = _Rows(self.stream)
        self.errors = ErrorList(self.errors.cap)
        self.warnings = []
        self.outcome = _Outcome()
        self.directory.unknown.clear()
        self.directory.used.clear()
        # The batch page's bar starts again: say why (a problem, or rows that need a closer look)
        self.reading = _("reading again, row by row")
        self.tick(self.reading, rows=0, force=True)


def _block_sums_ok(amounts: list[Decimal], columns: list[tuple[str, ...]]) -> bool:
    """Each row's components sum to its amount, unless they are all zero (the amount stands
    alone): ``money``'s rule, for a block of rows at once. ``columns`` hold checked amounts or
    blanks (columns with none at all are left out)."""
    given = [list(map(Decimal, map(_ZERO_IF_BLANK.get, c, c))) for c in columns]
    if not given:
        return True
    sums = reduce(lambda a, b: list(map(add, a, b)), given)
    return not any(
        any(column[i] for column in given)
        for i in compress(range(len(amounts)), map(ne, sums, amounts))
    )


def _references_ok(references: tuple[str, ...]) -> bool:
    """As the fast paths take them: not too long, no space around (else the slow path trims)."""
    return max(map(len, references)) <= MAX_REFERENCE and all(
        map(str.__eq__, references, map(str.strip, references))
    )


def _copy_block(columns: list[Iterable[str]]) -> str:
    """Rows for ``COPY``'s text format from their columns (only references may need escapes:
    every other value has been checked to be digits, dates, codes)."""
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_safe(references: tuple[str, ...]) -> Sequence[str]:
    if _COPY_SPECIAL_RE.search("".join(references)):
        return [reference.translate(_COPY_ESCAPES) for reference in references]
    return references


class _Line(NamedTuple):
    account: _Account
    statement_date: str
    line_type: str
    transaction_number: str
    posted_on: str
    reference: str
    due_date: str | None
    money: _Money


class StatementImport(_Import):
    """Statement lines. On PostgreSQL a first, optimistic pass checks the rows in blocks of
    ``CHUNK_ROWS``, a column at a time (each distinct account, date and type once, a column's
    amounts by one regular expression, sums by ``map``), and sends each clean block to ``COPY``
    as text; a block it does not dare to take goes through the row-by-row checks. Python's
    per-row work was what held the import back: the server now stores rows as fast as they come.
    Any problem at all rolls the pass back to its savepoint and the file is read again row by
    row, which lists every problem exactly as it would have alone. Elsewhere (SQLite) the
    row-by-row pass is the only one.
    """

    columns = STATEMENT_COLUMNS
    line_types = frozenset(StatementLine.LineType.values)
    needs_transaction = frozenset({"CAD", "ADJUSTMENT"})
    negative_only = frozenset({"PAYMENT", "CREDIT"})

    def run(self) -> _Outcome:
        if self.optimistic():
            savepoint = transaction.savepoint()
            try:
                outcome = self._run(in_blocks=True)
            except _Retry:
                transaction.savepoint_rollback(savepoint)
                self._start_again()
            else:
                transaction.savepoint_commit(savepoint)
                return outcome
        return self._run(in_blocks=False)

    def _run(self, *, in_blocks: bool) -> _Outcome:
        records = self.read_header()
        i = self.header.index
        self.i_acct, self.i_date, self.i_type, self.i_posted = (
            i["account_number"],
            i["statement_date"],
            i["line_type"],
            i["posted_on"],
        )
        self.i_txn, self.i_ref = i.get("transaction_number"), i.get("reference")
        self.i_due = i.get("due_date")
        statements: dict[tuple[int, str], _StatementAcc] = {}
        writer = self.writer = _Writer(
            StatementLine._meta.db_table,
            _columns_of(
                StatementLine,
                [
                    "statement",
                    "position",
                    "line_type",
                    "transaction_number",
                    "posted_on",
                    "reference",
                    *COMPONENTS,
                    "amount",
                ],
            ),
        )
        self.reserved_ids: list[int] = []
        try:
            if in_blocks:
                data_rows = self._read_blocks(records, statements)
            else:
                data_rows = self._read_rows(records, statements)
            return self._end(data_rows, statements, retry=in_blocks)
        except BaseException:
            writer.abandon()
            raise

    def _read_rows(self, records: Iterator[list[str]], statements: dict) -> int:
        """Row by row; the number of data rows read."""
        take, row = self.row_taker(statements), 1
        try:
            for row, fields in enumerate(records, 2):
                if not row % CHUNK_ROWS:
                    self.tick(self.reading, rows=row - 1)
                take(row, fields)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise self.rows.problem(exc, row + 1) from None
        return row - 1

    def _read_blocks(self, records: Iterator[list[str]], statements: dict) -> int:
        """In blocks, each taken whole or row by row; any problem: ``_Retry``."""
        take_block, take = self.block_taker(statements), self.row_taker(statements)
        read = 0
        try:
            while block := list(islice(records, CHUNK_ROWS)):
                first, read = read + 2, read + len(block)
                self.tick(self.reading, rows=read)
                if not take_block(first, block):
                    for offset, fields in enumerate(block):
                        take(first + offset, fields)
                    if self.errors:
                        raise _Retry
        except csv.Error:
            raise _Retry from None  # the row-by-row pass names the row
        except UnicodeDecodeError as exc:
            raise self.rows.problem(exc, 0) from None
        return read

    def _end(self, data_rows: int, statements: dict, *, retry: bool) -> _Outcome:
        writer, errors = self.writer, self.errors
        self.outcome.rows = data_rows
        if data_rows == 0:
            raise _FileProblem(_("The file has a header but no rows."), row=None)
        if errors:
            writer.abandon()
        else:
            writer.close()
        self.tick(_("checking"), force=True)
        self._check_existing(
            [acc for acc in statements.values() if not acc.saved and not acc.conflict]
        )
        if errors:
            raise _Retry if retry else _Refused
        self.outcome.lines = writer.count
        self._complete(list(statements.values()))
        self.outcome.accounts = len(self.directory.used)
        return self.outcome

    def row_taker(self, statements: dict) -> Callable[[int, list[str]], None]:
        """Checks one row (the fast path, then the slow one) and writes it if the file is clean."""
        fast, slow, errors, writer = (
            self.fast_line_function(),
            self.slow_line,
            self.errors,
            self.writer,
        )

        def take(row: int, fields: list[str]) -> None:
            line = fast(fields)
            if line is None:
                line = slow(row, fields)
                if line is None:
                    return
            key = (line.account.id, line.statement_date)
            acc = statements.get(key)
            if acc is None:
                acc = statements[key] = _StatementAcc(
                    account=line.account,
                    statement_date=dt.date.fromisoformat(line.statement_date),
                    first_row=row,
                )
            due = line.due_date
            if due is not None and due != acc.due_text and not self.same_due_date(acc, due, row):
                return
            amount = line.money.amount
            if line.line_type == "OPENING_BALANCE":
                if acc.opening is not None:
                    errors.add(
                        row,
                        "line_type",
                        line.line_type,
                        _("This statement already has its opening balance (row %(first)d).")
                        % {"first": acc.opening_row},
                    )
                    return
                acc.opening, acc.opening_row = amount, row
            else:
                acc.total += amount
            acc.lines += 1
            if errors:
                return  # nothing more is written; the file will be refused
            if acc.id is None:
                self._give_id(acc)
                if acc.conflict:
                    return
            writer.add(
                (
                    acc.id,
                    row,
                    line.line_type,
                    line.transaction_number,
                    line.posted_on,
                    line.reference,
                    *line.money.components,
                    line.money.amount_text,
                )
            )

        return take

    def block_taker(self, statements: dict) -> Callable[[int, list[list[str]]], bool]:
        """Takes a block of rows whole if every value in it is plainly good: checks each column
        at once, then hands the block to ``COPY`` as text. False (nothing done) otherwise.

        Accepts only what the row-by-row fast path accepts (tests compare the two).
        """
        writer, directory, accounts = self.writer, self.directory, {}
        line_types, needs_transaction = self.line_types, self.needs_transaction
        i_acct, i_date, i_type, i_posted = self.i_acct, self.i_date, self.i_type, self.i_posted
        i_txn, i_ref, i_due = self.i_txn, self.i_ref, self.i_due
        opening = StatementLine.LineType.OPENING_BALANCE.value
        negative_only = self.negative_only
        missing_transaction = {(kind, False) for kind in needs_transaction}

        def take_block(first: int, block: list[list[str]]) -> bool:
            n = len(block)
            columns = self.block_columns(block)
            if columns is None:
                return False
            blank = ("",) * n
            raw_accounts, dates, types = columns[i_acct], columns[i_date], columns[i_type]
            posted = columns[i_posted]
            txns = columns[i_txn] if i_txn is not None else blank
            refs = columns[i_ref] if i_ref is not None else blank
            dues = columns[i_due] if i_due is not None else blank
            # Every value plainly good ------------------------------------------------------
            if not self.block_accounts_ok(raw_accounts, accounts):
                return False
            if not line_types.issuperset(types):
                return False
            if not self.all_dates({*dates, *posted}) or not self.all_dates(set(dues) - {""}):
                return False
            if _TRANSACTIONS_RE.fullmatch("\n".join(txns)) is None:
                return False
            if missing_transaction.intersection(zip(types, map(bool, txns), strict=True)):
                return False
            if i_ref is not None and not _references_ok(refs):
                return False
            money = self.block_money(columns)
            if money is None:
                return False
            values, components = money
            if not negative_only.isdisjoint(types) and any(
                values[i] > 0 for i in compress(range(n), map(negative_only.__contains__, types))
            ):
                return False
            # Statements: new ones, due dates, opening balances ----------------------------
            keys = list(zip(raw_accounts, dates, strict=True))
            first_index = dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))
            found_accs: dict[tuple[str, str], _StatementAcc] = {}
            new: dict[tuple[int, str], _StatementAcc] = {}
            for key, index in sorted(first_index.items(), key=lambda item: item[1]):
                account = accounts[key[0]]
                acc_key = (account.id, key[1])
                acc = statements.get(acc_key) or new.get(acc_key)
                if acc is None:
                    acc = new[acc_key] = _StatementAcc(
                        account=account,
                        statement_date=dt.date.fromisoformat(key[1]),
                        first_row=first + index,
                    )
                if acc.conflict:
                    return False
                found_accs[key] = acc
            due_dates: dict[int, tuple[_StatementAcc, str, int]] = {}
            if i_due is not None:
                for key, due in set(zip(keys, dues, strict=True)):
                    acc = found_accs[key]
                    if not due or due == acc.due_text:
                        continue
                    if acc.due_text or id(acc) in due_dates:
                        return False  # a second due date for one statement: the row path says
                    index = next(
                        i for i in range(first_index[key], n) if dues[i] == due and keys[i] == key
                    )
                    due_dates[id(acc)] = (acc, due, first + index)
            openings: dict[int, tuple[_StatementAcc, Decimal, int]] = {}
            if opening in types:
                for index, kind in enumerate(types):
                    if kind == opening:
                        acc = found_accs[keys[index]]
                        if acc.opening is not None or id(acc) in openings:
                            return False
                        openings[id(acc)] = (acc, values[index], first + index)
            # Take it --------------------------------------------------------------------------
            for acc, due, row in due_dates.values():
                self.same_due_date(acc, due, row)
            starts = sorted(first_index.values())
            if sum(map(ne, keys, keys[1:])) == len(starts) - 1:  # each statement's rows together
                for start, end in zip(starts, [*starts[1:], n], strict=True):
                    acc = found_accs[keys[start]]
                    acc.total += sum(values[start:end])
                    acc.lines += end - start
            else:
                totals: dict[tuple[str, str], Decimal] = dict.fromkeys(first_index, ZERO)
                for key, value in zip(keys, values, strict=True):
                    totals[key] += value
                counts = Counter(keys)
                for key, acc in found_accs.items():
                    acc.total += totals[key]
                    acc.lines += counts[key]
            for acc, amount, row in openings.values():
                acc.opening, acc.opening_row = amount, row
                acc.total -= amount  # counted above; the opening balance is not a line's total
            for acc_key, acc in new.items():
                statements[acc_key] = acc
                self._give_id(acc)
            directory.used.update(acc.account.id for acc in found_accs.values())
            ids = {key: str(acc.id) for key, acc in found_accs.items()}
            writer.add_block(
                _copy_block(
                    [
                        map(ids.__getitem__, keys),
                        map(str, range(first, first + n)),
                        types,
                        txns,
                        posted,
                        _copy_safe(refs),
                        *components,
                        columns[self.amount_index],
                    ]
                ),
                n,
            )
            return True

        return take_block

    def _give_id(self, acc: _StatementAcc) -> None:
        """The statement's id, for its lines: reserved from the sequence on PostgreSQL (the
        statement row is written at the end, with its totals; the foreign key is checked at
        commit), elsewhere the row itself, created now with placeholder totals."""
        if self.writer.streaming:
            if not self.reserved_ids:
                self.writer.pause()
                table = Statement._meta.db_table
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                        "FROM generate_series(1, %s)",
                        [table, ID_BLOCK],
                    )
                    self.reserved_ids = [pk for (pk,) in reversed(cursor.fetchall())]
            acc.id = self.reserved_ids.pop()
            return
        self.writer.pause()
        if self._check_existing([acc]):
            (statement,) = Statement.objects.bulk_create([self._statement(acc)])
            acc.id, acc.saved = statement.pk, True

    def fast_line_function(self) -> Callable[[list[str]], _Line | None]:
        """A clean row whose values are all known good, or None (then the slow path decides)."""
        width = self.header.width
        accounts = self.directory.cache
        used = self.directory.used
        valid_dates = self.valid_dates
        line_types, needs_transaction = self.line_types, self.needs_transaction
        negative_only = self.negative_only
        i_acct, i_date, i_type, i_posted = self.i_acct, self.i_date, self.i_type, self.i_posted
        i_txn = -1 if self.i_txn is None else self.i_txn
        i_ref = -1 if self.i_ref is None else self.i_ref
        i_due = -1 if self.i_due is None else self.i_due
        fast_money = self.fast_money_function()
        account_type = _Account

        def fast_line(fields: list[str]) -> _Line | None:
            if len(fields) != width:
                return None
            account = accounts.get(fields[i_acct])
            if type(account) is not account_type:
                return None
            statement_date, posted_on = fields[i_date], fields[i_posted]
            if statement_date not in valid_dates or posted_on not in valid_dates:
                return None
            line_type = fields[i_type]
            if line_type not in line_types:
                return None
            fields = [*fields, ""]  # position -1: a column the file does not have, read as blank
            money = fast_money(fields)
            if money is None or (line_type in negative_only and money.amount > 0):
                return None
            txn = fields[i_txn]
            if txn:
                if len(txn) != 14 or not txn.isdigit() or not txn.isascii():
                    return None
            elif line_type in needs_transaction:
                return None
            reference = fields[i_ref]
            if reference and (len(reference) > MAX_REFERENCE or reference != reference.strip()):
                return None
            due = fields[i_due]
            if due and due not in valid_dates:
                return None
            used.add(account.id)
            return _Line(
                account, statement_date, line_type, txn, posted_on, reference, due or None, money
            )

        return fast_line

    def slow_line(self, row: int, fields: list[str]) -> _Line | None:
        """Check a row value by value, recording every problem; the line if there is none."""
        if not self.shape_ok(fields, row):
            return None
        errors = self.errors
        before = errors.count
        account = self.directory.resolve(fields[self.i_acct].strip(), row, errors)
        statement_date = self.date(fields, self.i_date, row, "statement_date")
        posted_on = self.date(fields, self.i_posted, row, "posted_on")
        line_type = fields[self.i_type].strip().upper()
        if line_type not in self.line_types:
            errors.add(
                row,
                "line_type",
                fields[self.i_type],
                _("Unknown line type: expected one of %(types)s.")
                % {"types": ", ".join(StatementLine.LineType.values)},
            )
        txn = fields[self.i_txn].strip() if self.i_txn is not None else ""
        if txn:
            try:
                txn = parse_transaction_number(txn)
            except ValueError as exc:
                errors.add(row, "transaction_number", txn, str(exc))
        elif line_type in self.needs_transaction:
            errors.add(
                row,
                "transaction_number",
                "",
                _("Required for a %(type)s line.") % {"type": line_type},
            )
        reference = self.reference(fields, self.i_ref, row, "reference")
        due = None
        if self.i_due is not None and fields[self.i_due].strip():
            due = self.date(fields, self.i_due, row, "due_date")
        money = self.money(fields, row)
        if money is not None and line_type in self.negative_only and money.amount > 0:
            errors.add(
                row,
                "amount",
                money.amount_text,
                _("A %(type)s reduces the balance: its amount is negative on a statement.")
                % {"type": line_type},
            )
        if errors.count != before or account is None or money is None:
            return None  # (rows of an unknown account after its first are counted, not listed)
        return _Line(account, statement_date, line_type, txn, posted_on, reference, due, money)

    def same_due_date(self, acc: _StatementAcc, due: str, row: int) -> bool:
        """The lines of one statement must agree on its due date (when they give one)."""
        due_date = dt.date.fromisoformat(due)
        if acc.due_date is None:
            acc.due_date, acc.due_row, acc.due_text = due_date, row, due
            return True
        if acc.due_date == due_date:
            return True
        self.errors.add(
            row,
            "due_date",
            due,
            _(
                "Row %(first)d gives this statement the due date %(due)s: the lines of one "
                "statement must agree."
            )
            % {"first": acc.due_row, "due": acc.due_date.isoformat()},
        )
        return False

    def _check_existing(self, pending: list[_StatementAcc]) -> list[_StatementAcc]:
        """Statements already stored (from another file) are errors on their first row."""
        if not pending:
            return []
        stored = {}
        for start in range(0, len(pending), 500):
            query = Q()
            for acc in pending[start : start + 500]:
                query |= Q(program_account_id=acc.account.id, statement_date=acc.statement_date)
            for account_id, day, batch_id in Statement.objects.filter(query).values_list(
                "program_account_id", "statement_date", "source_batch_id"
            ):
                stored[(account_id, day)] = batch_id
        fresh = []
        for acc in pending:
            batch_id = stored.get((acc.account.id, acc.statement_date))
            if batch_id is None:
                fresh.append(acc)
                continue
            acc.conflict = True
            self.errors.add(
                acc.first_row,
                "statement_date",
                acc.statement_date.isoformat(),
                _(
                    "The statement of %(bn15)s issued %(day)s is already imported (batch "
                    "#%(batch)s). A statement is imported once; to replace it, ask an "
                    "administrator to remove the old one first."
                )
                % {
                    "bn15": acc.account.bn15,
                    "day": acc.statement_date.isoformat(),
                    "batch": batch_id,
                },
            )
        return fresh

    def _statement(self, acc: _StatementAcc) -> Statement:
        period = billing.statement_period(acc.statement_date)
        opening = acc.opening or ZERO
        return Statement(
            pk=acc.id,
            program_account_id=acc.account.id,
            statement_date=acc.statement_date,
            period_start=period.start,
            period_end=period.end,
            due_date=acc.due_date or billing.payment_due_date(period),
            opening_balance=opening,
            closing_balance=opening + acc.total,
            line_count=acc.lines,
            source_batch=self.batch,
        )

    def _complete(self, accs: list[_StatementAcc]) -> None:
        """Write the statements with their totals; one history record each."""
        final = [self._statement(acc) for acc in accs]
        now = timezone.now()
        for statement in final:
            statement.created_at = statement.updated_at = now
        new = [statement for statement, acc in zip(final, accs, strict=True) if not acc.saved]
        Statement.objects.bulk_create(new, batch_size=500)
        placeholders = [statement for statement, acc in zip(final, accs, strict=True) if acc.saved]
        Statement.objects.bulk_update(
            placeholders,
            ["opening_balance", "closing_balance", "line_count", "due_date"],
            batch_size=500,
        )
        get_history_manager_for_model(Statement).bulk_history_create(
            final,
            default_user=self.user,
            default_change_reason=_("Imported from batch #%(id)s") % {"id": self.batch.pk},
        )
        self.outcome.statements = len(final)


_STAGE_COLUMNS = [
    ("row_no", "integer"),
    ("program_account_id", "bigint"),
    ("transaction_number", "varchar(14)"),
    ("version", "integer"),
    ("release_date", "date"),
    ("accounted_on", "date"),
    ("client_reference", "varchar(64)"),
    *[(name, "numeric(14, 2)") for name in COMPONENTS],
    ("amount", "numeric(14, 2)"),
]
_ENTRY_VALUES = [name for name, _type in _STAGE_COLUMNS[2:]]  # compared for "identical"
_VERSIONS = {str(n): n for n in range(1, 100)}


class EntryImport(_Import):
    """Broker entries. On PostgreSQL a first, optimistic pass copies the rows straight into their
    table; if it meets any problem (a bad row, a transaction version stored before or twice in the
    file: a unique-constraint violation) it is rolled back to its savepoint and the file is read
    again through a staging table, where every problem is found in SQL and listed, and entries
    identical to stored ones are skipped. Elsewhere the staged pass is the only one.
    """

    columns = ENTRY_COLUMNS

    def run(self) -> _Outcome:
        if self.optimistic():
            savepoint = transaction.savepoint()
            try:
                outcome = self._direct()
            except (_Retry, IntegrityError, connection.Database.IntegrityError):
                # (COPY reports a unique violation as psycopg's own IntegrityError)
                transaction.savepoint_rollback(savepoint)
                self._start_again()
            else:
                transaction.savepoint_commit(savepoint)
                return outcome
        return self._staged()

    def _columns(self) -> None:
        i = self.header.index
        self.i_acct, self.i_txn, self.i_version = (
            i["account_number"],
            i["transaction_number"],
            i.get("version"),
        )
        self.i_release, self.i_accounted = i["release_date"], i["accounted_on"]
        self.i_ref = i.get("client_reference")

    def _direct(self) -> _Outcome:
        records = self.read_header()
        self._columns()
        names = ["position", "program_account", *_ENTRY_VALUES, "source_batch"]
        writer = _Writer(BrokerEntry._meta.db_table, _columns_of(BrokerEntry, names))
        fast, slow, batch_id = self.fast_entry_function(), self.slow_entry, self.batch.pk
        take_block = self.block_taker(writer)
        data_rows = 0
        try:
            while block := list(islice(records, CHUNK_ROWS)):
                first, data_rows = data_rows + 2, data_rows + len(block)
                self.tick(self.reading, rows=data_rows)
                if take_block(first, block):
                    continue
                for row, fields in enumerate(block, first):
                    entry = fast(row, fields) or slow(row, fields)
                    if entry is None:
                        raise _Retry  # a bad row: the staged pass lists every problem
                    writer.add((*entry, batch_id))
            if data_rows == 0:
                raise _FileProblem(_("The file has a header but no rows."), row=None)
            writer.close()
        except csv.Error:
            writer.abandon()
            raise _Retry from None  # the staged pass names the row
        except UnicodeDecodeError as exc:
            writer.abandon()
            raise self.rows.problem(exc, 0) from None
        except BaseException:
            writer.abandon()
            raise
        self.outcome.rows = self.outcome.entries = data_rows
        self.outcome.accounts = len(self.directory.used)
        return self.outcome

    def _staged(self) -> _Outcome:
        rows = self.read_header_row()
        self._columns()
        self.stage = f"stmt_entry_stage_{self.batch.pk}"
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {quote(self.stage)}")
            columns = ", ".join(f"{quote(name)} {kind}" for name, kind in _STAGE_COLUMNS)
            cursor.execute(f"CREATE TEMPORARY TABLE {quote(self.stage)} ({columns})")
        writer = _Writer(self.stage, [name for name, _type in _STAGE_COLUMNS])
        try:
            return self._read(rows, writer)
        except BaseException:
            writer.abandon()
            raise
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP TABLE IF EXISTS {quote(self.stage)}")
            except DatabaseError:  # the transaction is failing anyway; its rollback drops it
                pass

    def _read(self, rows: Iterator[tuple[int, list[str]]], writer: _Writer) -> _Outcome:
        fast, slow = self.fast_entry_function(), self.slow_entry
        row = 1
        try:
            for row, fields in rows:
                if not row % 2000:
                    self.tick(self.reading, rows=row - 1)
                entry = fast(row, fields)
                if entry is None:
                    entry = slow(row, fields)
                    if entry is None:
                        continue
                writer.add(entry)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise self.rows.problem(exc, row + 1) from None
        data_rows = row - 1
        self.outcome.rows = data_rows
        if data_rows == 0:
            raise _FileProblem(_("The file has a header but no rows."), row=None)
        writer.close()
        self.tick(_("checking"), force=True)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(self.stage)}")
        self._check_duplicates()
        skipped = self._check_stored()
        if self.errors:
            raise _Refused
        self.tick(_("writing"), force=True)
        self._insert(skip_stored=skipped > 0)
        self.outcome.skipped = skipped
        self.outcome.accounts = len(self.directory.used)
        return self.outcome

    def block_taker(self, writer: _Writer) -> Callable[[int, list[list[str]]], bool]:
        """Takes a block of rows whole if every value in it is plainly good, as the statements'
        block pass does (``StatementImport.block_taker``); False (nothing done) otherwise."""
        known: dict[str, _Account] = {}
        versions = {"": "1", **{text: text for text in _VERSIONS}}
        batch_id = str(self.batch.pk)
        i_acct, i_txn, i_version = self.i_acct, self.i_txn, self.i_version
        i_release, i_accounted, i_ref = self.i_release, self.i_accounted, self.i_ref

        def take_block(first: int, block: list[list[str]]) -> bool:
            n = len(block)
            columns = self.block_columns(block)
            if columns is None:
                return False
            raw_accounts, txns = columns[i_acct], columns[i_txn]
            released, accounted = columns[i_release], columns[i_accounted]
            version_texts = columns[i_version] if i_version is not None else ("",) * n
            references = columns[i_ref] if i_ref is not None else ("",) * n
            if (
                not self.block_accounts_ok(raw_accounts, known)
                or _REQUIRED_TRANSACTIONS_RE.fullmatch("\n".join(txns)) is None
                or not self.all_dates({*released, *accounted})
                or not versions.keys() >= set(version_texts)
                or (i_ref is not None and not _references_ok(references))
            ):
                return False
            money = self.block_money(columns)
            if money is None:
                return False
            _values, components = money
            ids = {raw: known[raw].id for raw in set(raw_accounts)}
            self.directory.used.update(ids.values())
            writer.add_block(
                _copy_block(
                    [
                        map(str, range(first, first + n)),
                        map(str, map(ids.__getitem__, raw_accounts)),
                        txns,
                        map(versions.__getitem__, version_texts),
                        released,
                        accounted,
                        _copy_safe(references),
                        *components,
                        columns[self.amount_index],
                        repeat(batch_id, n),
                    ]
                ),
                n,
            )
            return True

        return take_block

    def fast_entry_function(self) -> Callable[[int, list[str]], tuple | None]:
        """A clean row whose values are all known good, or None (then the slow path decides)."""
        width = self.header.width
        accounts = self.directory.cache
        used = self.directory.used
        valid_dates = self.valid_dates
        i_acct, i_txn = self.i_acct, self.i_txn
        i_version = -1 if self.i_version is None else self.i_version
        i_release, i_accounted = self.i_release, self.i_accounted
        i_ref = -1 if self.i_ref is None else self.i_ref
        fast_money = self.fast_money_function()
        account_type = _Account
        versions = {"": 1, **_VERSIONS}

        def fast_entry(row: int, fields: list[str]) -> tuple | None:
            if len(fields) != width:
                return None
            account = accounts.get(fields[i_acct])
            if type(account) is not account_type:
                return None
            txn = fields[i_txn]
            if len(txn) != 14 or not txn.isdigit() or not txn.isascii():
                return None
            release, accounted = fields[i_release], fields[i_accounted]
            if release not in valid_dates or accounted not in valid_dates:
                return None
            fields = [*fields, ""]  # position -1: a column the file does not have, read as blank
            version = versions.get(fields[i_version])
            if version is None:
                return None
            reference = fields[i_ref]
            if reference and (len(reference) > MAX_REFERENCE or reference != reference.strip()):
                return None
            money = fast_money(fields)
            if money is None:
                return None
            used.add(account.id)
            return (
                row,
                account.id,
                txn,
                version,
                release,
                accounted,
                reference,
                *money.components,
                money.amount_text,
            )

        return fast_entry

    def slow_entry(self, row: int, fields: list[str]) -> tuple | None:
        if not self.shape_ok(fields, row):
            return None
        errors = self.errors
        before = errors.count
        account = self.directory.resolve(fields[self.i_acct].strip(), row, errors)
        txn = fields[self.i_txn].strip()
        if not txn:
            errors.add(row, "transaction_number", "", _("Required: 14 digits."))
        else:
            try:
                txn = parse_transaction_number(txn)
            except ValueError as exc:
                errors.add(row, "transaction_number", txn, str(exc))
        text = fields[self.i_version].strip() if self.i_version is not None else ""
        version = 1
        if text:
            if text.isdigit() and text.isascii() and 1 <= int(text) <= 32767:
                version = int(text)
            else:
                errors.add(
                    row, "version", text, _("A CAD version is a whole number from 1 (1, 2, 3…).")
                )
        release = self.date(fields, self.i_release, row, "release_date")
        accounted = self.date(fields, self.i_accounted, row, "accounted_on")
        reference = self.reference(fields, self.i_ref, row, "client_reference")
        money = self.money(fields, row)
        if errors.count != before or account is None or money is None:
            return None
        return (
            row,
            account.id,
            txn,
            version,
            release,
            accounted,
            reference,
            *money.components,
            money.amount_text,
        )

    def _check_duplicates(self) -> None:
        stage = connection.ops.quote_name(self.stage)
        key = "program_account_id, transaction_number, version"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.row_no, d.first_row, s.transaction_number, s.version "  # noqa: S608
                f"FROM {stage} s JOIN (SELECT {key}, MIN(row_no) AS first_row FROM {stage} "
                f"GROUP BY {key} HAVING COUNT(*) > 1) d "
                f"ON s.program_account_id = d.program_account_id "
                f"AND s.transaction_number = d.transaction_number AND s.version = d.version "
                f"WHERE s.row_no <> d.first_row ORDER BY s.row_no"
            )
            while rows := cursor.fetchmany(1000):
                for row, first, txn, version in rows:
                    self.errors.add(
                        row,
                        "transaction_number",
                        txn,
                        _(
                            "Version %(version)s of this transaction is already on row %(first)d "
                            "for the same account: a version is declared once (an amendment is a "
                            "new version)."
                        )
                        % {"version": version, "first": first},
                    )

    def _check_stored(self) -> int:
        """Rows already stored: identical ones are skipped (counted), different ones are errors."""
        stage = connection.ops.quote_name(self.stage)
        table = connection.ops.quote_name(BrokerEntry._meta.db_table)
        join = (
            f"FROM {stage} s JOIN {table} e ON e.program_account_id = s.program_account_id "
            f"AND e.transaction_number = s.transaction_number AND e.version = s.version"
        )
        same = " AND ".join(f"s.{c} = e.{c}" for c in _ENTRY_VALUES)
        compared = _ENTRY_VALUES[2:]  # after transaction_number and version
        differing = []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {same} THEN 1 ELSE 0 END), 0) {join}"
            )
            matched, identical = cursor.fetchone()
            if matched > identical:
                cursor.execute(
                    f"SELECT s.row_no, s.transaction_number, s.version, e.source_batch_id, "
                    f"{', '.join('s.' + c for c in compared)}, "
                    f"{', '.join('e.' + c for c in compared)} "
                    f"{join} WHERE NOT ({same}) ORDER BY s.row_no"
                )
                while rows := cursor.fetchmany(1000):
                    differing.extend(rows)
                    if len(differing) > self.errors.cap:
                        break
        n = len(compared)
        for row, txn, version, batch_id, *values in differing:
            ours, stored = values[:n], values[n:]
            changed = [
                f"{name} {_shown(old)} → {_shown(new)}"
                for name, new, old in zip(compared, ours, stored, strict=True)
                if _shown(new) != _shown(old)
            ]
            self.errors.add(
                row,
                "transaction_number",
                txn,
                _(
                    "Version %(version)s of this transaction was imported before (batch "
                    "#%(batch)s) with other values (%(changes)s). Send a change as a new version."
                )
                % {"version": version, "batch": batch_id, "changes": "; ".join(changed)},
            )
        return identical

    def _insert(self, *, skip_stored: bool) -> None:
        quote = connection.ops.quote_name
        stage = quote(self.stage)
        table = quote(BrokerEntry._meta.db_table)
        values = ", ".join(_ENTRY_VALUES)
        where = ""
        if skip_stored:
            where = (
                f" WHERE NOT EXISTS (SELECT 1 FROM {table} e WHERE "  # noqa: S608
                f"e.program_account_id = s.program_account_id AND "
                f"e.transaction_number = s.transaction_number AND e.version = s.version)"
            )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (program_account_id, {values}, position, source_batch_id) "  # noqa: S608
                f"SELECT s.program_account_id, {', '.join('s.' + v for v in _ENTRY_VALUES)}, "
                f"s.row_no, %s FROM {stage} s{where}",
                [self.batch.pk],
            )
            self.outcome.entries = cursor.rowcount


def _shown(value: object) -> str:
    """A stored value as the file would write it (amounts with 2 places, dates ISO)."""
    if isinstance(value, float | int | Decimal):
        return f"{Decimal(str(value)):.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value or "")


IMPORTS: dict[str, type[_Import]] = {Kind.STATEMENT: StatementImport, Kind.ENTRIES: EntryImport}


# --- Batches: receiving, claiming, running -------------------------------------------------------


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
        raise AlreadyImported(live.first()) from None


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
        result = import_stream(
            kind=kind, stream=unwrap_file(upload), file_name=upload.name, user=user
        )
        if result.already_imported:
            raise AlreadyImported(result.batch)
        return result.batch, False
    batch = receive_upload(kind=kind, upload=upload, user=user)
    from statements.enqueue import heavy_import_batch

    batch_id = batch.pk
    transaction.on_commit(lambda: heavy_import_batch.delay(batch_id=batch_id))
    return batch, True


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
    """Import a claimed (running) batch from ``stream`` or its stored upload; record the outcome."""
    user = batch.uploaded_by
    try:
        if stream is not None:
            _execute(batch, stream, user)
        else:
            try:
                stored = batch.source_file.open("rb")
            except (OSError, ValueError):
                _fail(batch, _("The uploaded file is no longer there; upload it again."))
            else:
                with stored:
                    _execute(batch, unwrap_file(stored), user)
                batch.source_file.delete(save=False)
                ImportBatch.objects.filter(pk=batch.pk).update(source_file="")
    except Exception:
        log.exception("Import batch %s failed", batch.pk)
        _fail(batch, _("The import stopped on an unexpected error and nothing was imported."))
        raise
    batch.refresh_from_db()
    return batch


def _fail(batch: ImportBatch, reason: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.REFUSED,
        phase="",
        error_count=1,
        errors=[{"row": None, "column": "", "value": "", "reason": reason}],
        message=reason,
        finished_at=timezone.now(),
    )


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
                entries_imported.send(sender=ImportBatch, batch=batch)
    except _Refused:
        _finish(batch, job, status=ImportBatch.Status.REFUSED, outcome=job.outcome)
    except _FileProblem as problem:
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


def _finish(batch: ImportBatch, job: _Import, *, status: str, outcome: _Outcome) -> None:
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
    return Imported(batch=batch, message=batch.message)


def import_path(*, kind: str, path: str | Path, user: User | None = None) -> Imported:
    path = Path(path)
    with path.open("rb") as stream:
        return import_stream(kind=kind, stream=stream, file_name=path.name, user=user)
