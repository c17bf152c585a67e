"""Importing a broker-entries file (the broker's own CAD versions) into ``BrokerEntry``.

Entries go through a temporary staging table in the careful pass, so duplicates inside the file
and clashes with entries already stored are found in SQL, in sets, whatever the file's size;
entries identical to stored ones are skipped. ``EntryImport``'s docstring says how its two passes
share the work. The raw SQL here (``# noqa: S608``) builds only identifiers from the models' own
table and column names; every value is a bound parameter or goes through ``COPY``.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import islice, repeat

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from statements.importing.accounts import Account
from statements.importing.base import CHUNK_ROWS, Import, Outcome, references_ok
from statements.importing.columns import ENTRY_COLUMNS
from statements.importing.copy_writer import Writer, columns_of, copy_block, copy_safe
from statements.importing.problems import FileProblem, Refused, Retry
from statements.importing.values import (
    MAX_REFERENCE,
    REQUIRED_TRANSACTIONS_RE,
    parse_transaction_number,
)
from statements.models import COMPONENTS, BrokerEntry

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


class EntryImport(Import):
    """Broker entries. On PostgreSQL a first, optimistic pass copies the rows straight into their
    table; if it meets any problem (a bad row, a transaction version stored before or twice in the
    file: a unique-constraint violation) it is rolled back to its savepoint and the file is read
    again through a staging table, where every problem is found in SQL and listed, and entries
    identical to stored ones are skipped. Elsewhere the staged pass is the only one.
    """

    columns = ENTRY_COLUMNS
    # The program accounts the file added entries to (``accounts_with_new_entries``): every one
    # the file names, unless the staged pass skipped rows already stored.
    _accounts_added: set[int] | None = None

    def accounts_with_new_entries(self) -> set[int]:
        """Accounts that gained an entry (for ``statements.entries_received``)."""
        if self._accounts_added is not None:
            return self._accounts_added
        return set(self.directory.used)

    def run(self) -> Outcome:
        if self.optimistic():
            savepoint = transaction.savepoint()
            try:
                outcome = self._direct()
            except (Retry, IntegrityError, connection.Database.IntegrityError):  # type: ignore[attr-defined]  # each backend's DB-API module; not in the stubs
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

    def _direct(self) -> Outcome:
        records = self.read_header()
        self._columns()
        names = ["position", "program_account", *_ENTRY_VALUES, "source_batch"]
        writer = Writer(BrokerEntry._meta.db_table, columns_of(BrokerEntry, names))
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
                        raise Retry  # a bad row: the staged pass lists every problem
                    writer.add((*entry, batch_id))
            if data_rows == 0:
                raise FileProblem(_("The file has a header but no rows."), row=None)
            writer.close()
        except csv.Error:
            writer.abandon()
            raise Retry from None  # the staged pass names the row
        except UnicodeDecodeError as exc:
            writer.abandon()
            raise self.rows.problem(exc, 0) from None
        except BaseException:
            writer.abandon()
            raise
        self.outcome.rows = self.outcome.entries = data_rows
        self.outcome.accounts = len(self.directory.used)
        return self.outcome

    def _staged(self) -> Outcome:
        rows = self.read_header_row()
        self._columns()
        self.stage = f"stmt_entry_stage_{self.batch.pk}"
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {quote(self.stage)}")
            columns = ", ".join(f"{quote(name)} {kind}" for name, kind in _STAGE_COLUMNS)
            cursor.execute(f"CREATE TEMPORARY TABLE {quote(self.stage)} ({columns})")
        writer = Writer(self.stage, [name for name, _type in _STAGE_COLUMNS])
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

    def _read(self, rows: Iterator[tuple[int, list[str]]], writer: Writer) -> Outcome:
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
            raise FileProblem(_("The file has a header but no rows."), row=None)
        writer.close()
        self.tick(_("checking"), force=True)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(self.stage)}")
        self._check_duplicates()
        skipped = self._check_stored()
        if self.errors:
            raise Refused
        self.tick(_("writing"), force=True)
        self._insert(skip_stored=skipped > 0)
        self.outcome.skipped = skipped
        self.outcome.accounts = len(self.directory.used)
        return self.outcome

    def block_taker(self, writer: Writer) -> Callable[[int, list[list[str]]], bool]:
        """Takes a block of rows whole if every value in it is plainly good, as the statements'
        block pass does (``StatementImport.block_taker``); False (nothing done) otherwise."""
        known: dict[str, Account] = {}
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
                or REQUIRED_TRANSACTIONS_RE.fullmatch("\n".join(txns)) is None
                or not self.all_dates({*released, *accounted})
                or not versions.keys() >= set(version_texts)
                or (i_ref is not None and not references_ok(references))
            ):
                return False
            money = self.block_money(columns)
            if money is None:
                return False
            _values, components = money
            ids = {raw: known[raw].id for raw in set(raw_accounts)}
            self.directory.used.update(ids.values())
            writer.add_block(
                copy_block(
                    [
                        map(str, range(first, first + n)),
                        map(str, map(ids.__getitem__, raw_accounts)),
                        txns,
                        map(versions.__getitem__, version_texts),
                        released,
                        accounted,
                        copy_safe(references),
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
        account_type = Account
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
            if skip_stored:  # some accounts may have gained nothing: ask before inserting
                cursor.execute(f"SELECT DISTINCT s.program_account_id FROM {stage} s{where}")  # noqa: S608
                self._accounts_added = {pk for (pk,) in cursor.fetchall()}
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
