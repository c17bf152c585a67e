"""The columns of each file kind, the header names each column answers to, and the header row.

A file's header may name a column in several ways (``BN15``, ``Account No``, ``transaction-no``…):
this module holds the one list of columns per kind (``STATEMENT_COLUMNS``, ``ENTRY_COLUMNS``, also
read by ``tests/statements/test_formats_doc.py`` against ``docs/formats.md``) and maps a header row
onto them (``read_header``), refusing a file whose header misses a required column or names one
twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from statements.importing.problems import FileProblem
from statements.models import COMPONENTS, ImportBatch

Kind = ImportBatch.Kind


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
            raise FileProblem(
                _("Columns “%(a)s” and “%(b)s” both mean %(name)s: keep only one of them.")
                % {"a": seen[name], "b": text.strip(), "name": name},
                row=1,
                column=name,
            )
        index[name] = position
        seen[name] = text.strip()
    missing = [c.name for c in columns if c.required and c.name not in index]
    if missing:
        raise FileProblem(
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
