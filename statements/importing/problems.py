"""What an import answers besides its counts: the bad rows it lists, and the exceptions that end it.

``AlreadyImported`` is for callers (the upload page and API show the earlier batch). ``Refused``
and ``FileProblem`` travel from the importers to ``batches._execute``, which turns them into the
batch row's outcome; ``Retry`` stays inside an importer (its first pass hands over to the careful
pass).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from statements.models import ImportBatch

MAX_VALUE_SHOWN = 80


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


class Refused(Exception):
    """Raised inside the import's transaction to roll it back."""


class FileProblem(Exception):
    """The file cannot be read at all (encoding, layout, header): one error, then stop."""

    def __init__(self, reason: str, *, row: int | None = None, column: str = "", value: str = ""):
        self.reason, self.row, self.column, self.value = reason, row, column, value
        super().__init__(reason)


class Retry(Exception):
    """An optimistic first pass met a problem: read the file again the careful way, which
    finds and lists every problem (or, for a row it only did not dare to take, accepts it)."""
