"""Fixtures for the statements tests: the sample accounts, CSV builders, a database snapshot."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from clients.models import ProgramAccount
from statements.importing.batches import import_stream
from statements.models import BrokerEntry, ImportBatch, Statement, StatementLine
from tests.factories import ImporterFactory, ProgramAccountFactory

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
ACCOUNT_A = "123456782RM0001"  # the BN15s of docs/samples (valid check digits)
ACCOUNT_B = "876543216RM0001"

STATEMENT_HEADER = (
    "account_number,statement_date,line_type,transaction_number,posted_on,reference,"
    "customs_duties,excise_duties,excise_taxes,gst,anti_dumping,countervailing,surtaxes,"
    "safeguards,provincial_taxes,interest,other,amount,due_date"
)
ENTRY_HEADER = (
    "account_number,transaction_number,version,release_date,accounted_on,client_reference,"
    "customs_duties,excise_duties,excise_taxes,gst,anti_dumping,countervailing,surtaxes,"
    "safeguards,provincial_taxes,interest,other,amount"
)
HEADERS = {"statement": STATEMENT_HEADER, "entries": ENTRY_HEADER}


def statement_row(**values: str) -> dict[str, str]:
    """A valid CAD line of the 2025-06-25 statement of ACCOUNT_A, with ``values`` changed."""
    row = {
        "account_number": ACCOUNT_A,
        "statement_date": "2025-06-25",
        "line_type": "CAD",
        "transaction_number": "12345000000017",
        "posted_on": "2025-05-21",
        "reference": "",
        "customs_duties": "410.50",
        "gst": "1020.53",
        "amount": "1431.03",
        "due_date": "",
    }
    row.update(values)
    return row


def entry_row(**values: str) -> dict[str, str]:
    """A valid version-1 entry of ACCOUNT_A, with ``values`` changed."""
    row = {
        "account_number": ACCOUNT_A,
        "transaction_number": "12345000000017",
        "version": "1",
        "release_date": "2025-05-16",
        "accounted_on": "2025-05-20",
        "client_reference": "F-25-0417",
        "customs_duties": "410.50",
        "gst": "1020.53",
        "amount": "1431.03",
    }
    row.update(values)
    return row


ROWS: dict[str, Callable[..., dict[str, str]]] = {"statement": statement_row, "entries": entry_row}


def csv_text(kind: str, rows: list[dict[str, str]], header: str | None = None) -> str:
    columns = (header or HEADERS[kind]).split(",")
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(row.get(c, "") for c in columns))
    return "\n".join(lines) + "\n"


def run_import(kind: str, content: str | bytes, *, name: str = "test.csv", user=None):
    data = content.encode() if isinstance(content, str) else content
    return import_stream(kind=kind, stream=io.BytesIO(data), file_name=name, user=user)


def snapshot() -> dict[str, object]:
    """Everything an import may write, to compare before and after a refused file."""
    return {
        "statements": list(Statement.objects.values_list("pk", "closing_balance", "line_count")),
        "lines": StatementLine.objects.count(),
        "entries": list(BrokerEntry.objects.values_list("pk", "amount")),
        "statement_history": Statement.history.count(),
        "live_batches": list(
            ImportBatch.objects.exclude(status="refused").values_list("pk", "status")
        ),
    }


@pytest.fixture
def accounts(db) -> dict[str, ProgramAccount]:
    """The two program accounts the sample files are for."""
    a = ImporterFactory(legal_name="Alpha Imports Inc.", bn9=ACCOUNT_A[:9])
    b = ImporterFactory(legal_name="Bravo Trading Ltd.", bn9=ACCOUNT_B[:9])
    return {
        ACCOUNT_A: ProgramAccountFactory(importer=a, bn15=ACCOUNT_A),
        ACCOUNT_B: ProgramAccountFactory(importer=b, bn15=ACCOUNT_B),
    }


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"
