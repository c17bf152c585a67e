"""CSV cells a spreadsheet cannot run: text that would start a formula is written as text.

Excel, LibreOffice and Google Sheets treat a cell beginning with ``=``, ``+``, ``-``, ``@`` (and a
tab or carriage return before one of them) as a formula: a note such as ``=HYPERLINK(...)`` or an
uploaded value such as ``=cmd|' /C calc'!A0`` would run when a finance team opens our export. Such a
text cell gets a leading apostrophe, which spreadsheets read as "this is text" and do not show.
Numbers stay numbers (``-186.00`` is an amount, not a formula). The escaping is reversible:
``unescape`` gives back the exact text, so our own readers (``statements.reports.read_csv``) round
trip, and a text that really began with an apostrophe before a trigger keeps it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def escape(value: Any) -> Any:
    """``value`` as a spreadsheet will take it as text (non-strings are returned as they are)."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    if value.startswith("'") and value.lstrip("'").startswith(_TRIGGERS):
        return "'" + value  # apostrophes before a trigger: one more, so unescape() is exact
    return value


def unescape(value: str) -> str:
    """The text ``escape`` was given."""
    if value.startswith("'") and value.lstrip("'").startswith(_TRIGGERS):
        return value[1:]
    return value


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


class SafeWriter:
    """``csv.writer`` whose rows have every cell escaped (same ``writerow`` / ``writerows``)."""

    def __init__(self, file: _Writable, **kwargs: Any) -> None:
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([escape(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file: _Writable, **kwargs: Any) -> SafeWriter:
    return SafeWriter(file, **kwargs)
