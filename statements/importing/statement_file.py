"""Importing a statement-of-account file: its lines, and one ``Statement`` per account and date.

Statement lines go straight to their table: on PostgreSQL each statement's id is reserved from the
sequence when its first line is written and the statement row is written at the end with its
totals; elsewhere the row is created when its first line is flushed (placeholder balances), and
completed at the end. What is held in memory grows with the number of statements in a file, never
with its number of lines. ``StatementImport``'s docstring says how its two passes share the work.

Length: one class whose block pass and careful pass must accept exactly the same rows; keeping them
side by side is what lets a reader check that they agree.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import compress, islice
from operator import ne
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import get_history_manager_for_model

from statements import balance, billing
from statements.importing.accounts import Account
from statements.importing.base import CHUNK_ROWS, Import, Money, Outcome, references_ok
from statements.importing.columns import STATEMENT_COLUMNS
from statements.importing.copy_writer import Writer, columns_of, copy_block, copy_safe
from statements.importing.problems import FileProblem, Refused, Retry
from statements.importing.values import (
    MAX_REFERENCE,
    TRANSACTIONS_RE,
    ZERO,
    parse_transaction_number,
)
from statements.models import COMPONENTS, Statement, StatementLine

ID_BLOCK = 256  # statement ids reserved from the sequence at a time (PostgreSQL)
# The row that carries the closing balance CBSA's statement states: at most one per statement,
# like the opening balance, but not a line (not stored in the lines table, not in their sum):
# its amount becomes ``Statement.stated_closing_balance``, which the balance check compares.
CLOSING_BALANCE = "CLOSING_BALANCE"
LINE_TYPES: tuple[str, ...] = (*StatementLine.LineType.values, CLOSING_BALANCE)


@dataclass
class _StatementAcc:
    """What an import learns about one statement while reading its lines."""

    account: Account
    statement_date: dt.date
    first_row: int
    due_date: dt.date | None = None
    due_text: str = ""
    due_row: int = 0
    opening: Decimal | None = None
    opening_row: int = 0
    closing: Decimal | None = None  # the stated closing balance (CLOSING_BALANCE row)
    closing_row: int = 0
    total: Decimal = ZERO  # the lines other than the opening balance
    lines: int = 0
    id: int | None = None
    saved: bool = False  # the row exists (elsewhere than PostgreSQL: created at first sight)
    conflict: bool = False


class _Line(NamedTuple):
    account: Account
    statement_date: str
    line_type: str
    transaction_number: str
    posted_on: str
    reference: str
    due_date: str | None
    money: Money


class StatementImport(Import):
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
    line_types = frozenset(LINE_TYPES)
    needs_transaction = frozenset({"CAD", "ADJUSTMENT"})
    negative_only = frozenset({"PAYMENT", "CREDIT"})

    def run(self) -> Outcome:
        if self.optimistic():
            savepoint = transaction.savepoint()
            try:
                outcome = self._run(in_blocks=True)
            except Retry:
                transaction.savepoint_rollback(savepoint)
                self._start_again()
            else:
                transaction.savepoint_commit(savepoint)
                return outcome
        return self._run(in_blocks=False)

    def _run(self, *, in_blocks: bool) -> Outcome:
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
        writer = self.writer = Writer(
            StatementLine._meta.db_table,
            columns_of(
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
        """In blocks, each taken whole or row by row; any problem: ``Retry``."""
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
                        raise Retry
        except csv.Error:
            raise Retry from None  # the row-by-row pass names the row
        except UnicodeDecodeError as exc:
            raise self.rows.problem(exc, 0) from None
        return read

    def _end(self, data_rows: int, statements: dict, *, retry: bool) -> Outcome:
        writer, errors = self.writer, self.errors
        self.outcome.rows = data_rows
        if data_rows == 0:
            raise FileProblem(_("The file has a header but no rows."), row=None)
        if errors:
            writer.abandon()
        else:
            writer.close()
        self.tick(_("checking"), force=True)
        self._check_existing(
            [acc for acc in statements.values() if not acc.saved and not acc.conflict]
        )
        if errors:
            raise Retry if retry else Refused
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
            stated_closing = line.line_type == CLOSING_BALANCE
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
            elif stated_closing:
                if acc.closing is not None:
                    errors.add(
                        row,
                        "line_type",
                        line.line_type,
                        _("This statement already has its stated closing balance (row %(first)d).")
                        % {"first": acc.closing_row},
                    )
                    return
                acc.closing, acc.closing_row = amount, row
            else:
                acc.total += amount
            if not stated_closing:
                acc.lines += 1
            if errors:
                return  # nothing more is written; the file will be refused
            if acc.id is None:
                self._give_id(acc)
                if acc.conflict:
                    return
            if stated_closing:
                return  # a figure of the statement, not one of its lines
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
        writer, directory = self.writer, self.directory
        accounts: dict[str, Account] = {}
        line_types, needs_transaction = self.line_types, self.needs_transaction
        i_acct, i_date, i_type, i_posted = self.i_acct, self.i_date, self.i_type, self.i_posted
        i_txn, i_ref, i_due = self.i_txn, self.i_ref, self.i_due
        opening = StatementLine.LineType.OPENING_BALANCE.value
        closing = CLOSING_BALANCE
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
            if TRANSACTIONS_RE.fullmatch("\n".join(txns)) is None:
                return False
            if missing_transaction.intersection(zip(types, map(bool, txns), strict=True)):
                return False
            if i_ref is not None and not references_ok(refs):
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
            closings: dict[int, tuple[_StatementAcc, Decimal, int]] = {}
            if closing in types:
                for index, kind in enumerate(types):
                    if kind == closing:
                        acc = found_accs[keys[index]]
                        if acc.closing is not None or id(acc) in closings:
                            return False
                        closings[id(acc)] = (acc, values[index], first + index)
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
            for acc, amount, row in closings.values():
                acc.closing, acc.closing_row = amount, row
                acc.total -= amount  # counted above: the stated closing balance is no line at all
                acc.lines -= 1
            for acc_key, acc in new.items():
                statements[acc_key] = acc
                self._give_id(acc)
            directory.used.update(acc.account.id for acc in found_accs.values())
            ids = {key: str(acc.id) for key, acc in found_accs.items()}
            block_columns: list[Iterable[str]] = [
                map(ids.__getitem__, keys),
                map(str, range(first, first + n)),
                types,
                txns,
                posted,
                copy_safe(refs),
                *components,
                columns[self.amount_index],
            ]
            if closings:  # the stated closing balances are not lines: leave their rows out
                keep = [kind != closing for kind in types]
                block_columns = [list(compress(column, keep)) for column in block_columns]
            if n > len(closings):  # (a block of nothing but stated closing balances copies nothing)
                writer.add_block(copy_block(block_columns), n - len(closings))
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
        account_type = Account

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
                % {"types": ", ".join(LINE_TYPES)},
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
        assert statement_date is not None and posted_on is not None  # else an error was counted
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
        stored: dict[tuple[int, dt.date], int] = {}
        for start in range(0, len(pending), 500):
            query = Q()
            for acc in pending[start : start + 500]:
                query |= Q(program_account_id=acc.account.id, statement_date=acc.statement_date)
            for account_id, day, source_batch_id in Statement.objects.filter(query).values_list(
                "program_account_id", "statement_date", "source_batch_id"
            ):
                stored[(account_id, day)] = source_batch_id
        fresh: list[_StatementAcc] = []
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
            stated_closing_balance=acc.closing,
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
            [
                "opening_balance",
                "closing_balance",
                "stated_closing_balance",
                "line_count",
                "due_date",
            ],
            batch_size=500,
        )
        get_history_manager_for_model(Statement).bulk_history_create(
            final,
            default_user=self.user,
            default_change_reason=_("Imported from batch #%(id)s") % {"id": self.batch.pk},
        )
        # A new statement changes its own check and its successor's (the previous closing).
        balance.refresh_accounts({acc.account.id for acc in accs})
        self.outcome.statements = len(final)
