"""Reading a file's bytes: its SHA-256, and its CSV records, decoded strictly as UTF-8.

A file that is not UTF-8 text (UTF-16, a workbook, Windows-1252) or not valid CSV is refused with
one ``FileProblem`` naming the row where the problem is, as a spreadsheet numbers it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
from collections.abc import Iterator
from typing import IO

from django.utils.translation import gettext as _

from statements.importing.problems import FileProblem


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


def _row_with_nul(stream: IO[bytes]) -> int | None:
    """The row (1 = header) of the first NUL byte, or None; leaves the stream at the start.

    PostgreSQL cannot store a NUL in text, and no CSV value has one: a file with one is refused
    whole before any row is read. One pass of ``bytes.find`` (memchr) per chunk: cheap even for a
    million-row file; the row is counted only when a NUL is found.
    """
    stream.seek(0)
    newlines = 0
    try:
        while chunk := stream.read(1 << 20):
            at = chunk.find(b"\x00")
            if at >= 0:
                return newlines + chunk.count(b"\n", 0, at) + 1
            newlines += chunk.count(b"\n")
        return None
    finally:
        stream.seek(0)


def _utf8_hint() -> str:
    return _('Save it from your spreadsheet as "CSV UTF-8 (comma delimited)" and import it again.')


class _Found(Exception):
    def __init__(self, raw: bytes, exc: UnicodeDecodeError):
        self.raw, self.exc = raw, exc


class Rows:
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
            raise FileProblem(_("The file is UTF-16 text, not UTF-8.") + " " + _utf8_hint(), row=1)
        if head.startswith(b"PK\x03\x04"):
            raise FileProblem(
                _("This is a spreadsheet workbook (.xlsx), not a CSV file.") + " " + _utf8_hint(),
                row=1,
            )
        if (row := _row_with_nul(self.stream)) is not None:
            self.row = row
            raise FileProblem(
                _(
                    "Row %(row)d holds a NUL character (byte 0x00), which no CSV value may hold: "
                    "the file is damaged or not text."
                )
                % {"row": row}
                + " "
                + _utf8_hint(),
                row=row,
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

    def problem(self, exc: Exception, row: int) -> FileProblem:
        """The answer for a decoding or CSV error met while reading ``row``."""
        if isinstance(exc, UnicodeDecodeError):
            return self._encoding_problem()
        self.row = row
        return FileProblem(
            _("Row %(row)d is not valid CSV (%(detail)s): check its quotes.")
            % {"row": row, "detail": exc},
            row=row,
        )

    def _encoding_problem(self) -> FileProblem:
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
            return FileProblem(
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
        return FileProblem(_("The file is not UTF-8 text.") + " " + _utf8_hint(), row=None)
