"""What both importers share: reading the header, checking each value, the block checks, progress.

**Speed** (PostgreSQL): a first, optimistic pass reads the file in blocks of ``CHUNK_ROWS`` rows
and checks each block a column at a time (each distinct account, date and code once, a column's
amounts by one regular expression, the sums with ``map``), then sends it to ``COPY`` as text. A
block it does not dare to take goes row by row; any problem rolls the pass back to a savepoint,
and the careful pass (row by row for statements, the staging table for entries) reads the file
again and gives exactly the answer it would have given alone. Per-row Python work was what held
the import back; with blocks the server stores rows as fast as they come (``make bench``).

``Import`` holds what both passes of both importers use (the row-by-row fast and slow paths, the
block checks, ``optimistic`` and ``_start_again``); each importer's ``run`` chooses its passes
(``statement_file.StatementImport``, ``entry_file.EntryImport``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from itertools import chain, compress
from operator import add, ne
from typing import IO, TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from statements.importing.accounts import Account, Directory
from statements.importing.columns import Column, read_header
from statements.importing.problems import ErrorList, FileProblem
from statements.importing.progress import Progress
from statements.importing.reading import Rows
from statements.importing.values import (
    AMOUNTS_RE,
    MAX_REFERENCE,
    OPTIONAL_AMOUNTS_RE,
    ZERO,
    ZERO_IF_BLANK,
    Bad,
    Cache,
    parse_amount,
    parse_date,
)
from statements.models import COMPONENTS, ImportBatch

if TYPE_CHECKING:
    from carm_portal.models import User

CHUNK_ROWS = 2_000  # rows checked as one block (PostgreSQL), and between progress updates


@dataclass
class Outcome:
    statements: int = 0
    lines: int = 0
    entries: int = 0
    skipped: int = 0
    accounts: int = 0
    rows: int = 0


class Money(NamedTuple):
    components: list[str]  # file order, "0" where blank
    amount_text: str
    amount: Decimal


class Import:
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
        self.rows = Rows(stream)
        self.directory = Directory(user)
        self.progress = Progress.for_batch(batch)
        self.outcome = Outcome()
        self.dates = Cache()  # text -> text (valid) or Bad
        self.rows_read = 0
        self.valid_dates: set[str] = set()
        self.reading = _("reading")  # the progress phase

    # The slow path's checks, one value at a time --------------------------------------------

    def date_text(self, value: str) -> str | Bad:
        """``value`` if it is a valid date as YYYY-MM-DD, else why not (cached by text)."""
        known = self.dates.get(value)
        if known is None:
            try:
                parse_date(value)
            except ValueError as exc:
                known = self.dates.remember(value, Bad(str(exc)))
            else:
                known = self.dates.remember(value, value)
                if len(self.valid_dates) < Cache.LIMIT:
                    self.valid_dates.add(value)
        return known

    def all_dates(self, values: set[str]) -> bool:
        """Every value is a date exactly as written (no space around it): the fast paths' check."""
        return all(
            value == value.strip() and not isinstance(self.date_text(value), Bad)
            for value in values.difference(self.valid_dates)
        )

    def date(self, fields: list[str], index: int, row: int, column: str) -> str | None:
        value = fields[index].strip()
        known = self.date_text(value)
        if isinstance(known, Bad):
            if not value:
                self.errors.add(row, column, value, _("Required: a date as YYYY-MM-DD."))
            else:
                self.errors.add(row, column, value, known.reason)
            return None
        return known

    def money(self, fields: list[str], row: int) -> Money | None:
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
        return Money(components, value, amount)

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

    def fast_money_function(self) -> Callable[[list[str]], Money | None]:
        """As ``money`` for a clean row, recording nothing: None sends the row the slow way.

        Built once per file, with what it needs bound as locals: this runs for every row.
        """
        match = AMOUNTS_RE.fullmatch
        positions = [-1 if i is None else i for i in self.component_positions]
        amount_index = self.amount_index
        to_decimal = Decimal

        def fast_money(fields: list[str]) -> Money | None:
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
            return Money(components, text, amount)

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
            raise FileProblem(_("The file is empty."), row=None)
        if not any(f.strip() for f in fields):
            raise FileProblem(_("The first row must be the header; it is blank."), row=1)
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

    def run(self) -> Outcome:
        raise NotImplementedError

    # The block checks (PostgreSQL's first pass) -----------------------------------------------

    def block_columns(self, block: list[list[str]]) -> list[tuple[str, ...]] | None:
        """The block's columns, if every row has the header's width."""
        if set(map(len, block)) != {self.header.width}:
            return None
        return list(zip(*block, strict=True))

    def block_accounts_ok(self, raw_accounts: tuple[str, ...], known: dict[str, Account]) -> bool:
        """Every account is one the user may import for; ``known`` keeps those seen before."""
        for raw in set(raw_accounts).difference(known):
            found = self.directory.lookup(raw)
            if type(found) is not Account:
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
            or OPTIONAL_AMOUNTS_RE.fullmatch("\n".join(chain(amounts, *given))) is None
        ):
            return None
        values = list(map(Decimal, amounts))
        if not _block_sums_ok(values, given):
            return None
        zeros = ("0",) * len(amounts)
        components: list[Sequence[str]] = [
            list(map(ZERO_IF_BLANK.get, columns[i], columns[i]))
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
        self.rows = Rows(self.stream)
        self.errors = ErrorList(self.errors.cap)
        self.warnings = []
        self.outcome = Outcome()
        self.directory.unknown.clear()
        self.directory.used.clear()
        # The batch page's bar starts again: say why (a problem, or rows that need a closer look)
        self.reading = _("reading again, row by row")
        self.tick(self.reading, rows=0, force=True)


def _block_sums_ok(amounts: list[Decimal], columns: list[tuple[str, ...]]) -> bool:
    """Each row's components sum to its amount, unless they are all zero (the amount stands
    alone): ``money``'s rule, for a block of rows at once. ``columns`` hold checked amounts or
    blanks (columns with none at all are left out)."""
    given = [list(map(Decimal, map(ZERO_IF_BLANK.get, c, c))) for c in columns]
    if not given:
        return True
    sums = reduce(lambda a, b: list(map(add, a, b)), given)
    return not any(
        any(column[i] for column in given)
        for i in compress(range(len(amounts)), map(ne, sums, amounts))
    )


def references_ok(references: tuple[str, ...]) -> bool:
    """As the fast paths take them: not too long, no space around (else the slow path trims)."""
    return max(map(len, references)) <= MAX_REFERENCE and all(
        map(str.__eq__, references, map(str.strip, references))
    )
