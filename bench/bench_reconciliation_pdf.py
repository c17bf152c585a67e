"""Benchmark: the reconciliation report (PDF by WeasyPrint, and the CSV export) of large runs.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_reconciliation_pdf.py``) against
PostgreSQL: ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/carm_bench``; the
database is created if missing and its tables rebuilt). One statement gets a run of N items spread
over every status (most matched, as in life, a few hundred exceptions with notes and
assignees). Prints, for the inline limit (``RECONCILIATION_PDF_INLINE_ITEMS``, rendered in the
request) and for 5,000 items (rendered by a worker): seconds, pages and bytes of the PDF, and the
same for the CSV, so a page count or a time that jumps shows at a glance. CPU seconds are this
process's own (WeasyPrint is single-threaded), the figure to compare on a busy machine.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carm_portal.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carm_bench"
)

from bench.common import fresh_database, print_table  # noqa: E402

SIZES = [500, 5_000]
STATUSES = [  # (code, share of the items)
    ("matched", 0.86),
    ("matched_within_tolerance", 0.01),
    ("amount_mismatch", 0.04),
    ("missing_on_statement", 0.02),
    ("other_broker", 0.02),
    ("unexpected_on_statement", 0.01),
    ("duplicate", 0.02),
    ("posted_by_cbsa", 0.02),
]


def populate(items: int, seed: int = 5):
    """A statement of importer #n and a current run with ``items`` items; returns the run."""
    from django.utils import timezone
    from stdnum import luhn

    from carm_portal.bulk import copy_rows
    from carm_portal.models import User
    from clients.models import Importer, ProgramAccount
    from statements.billing import statement_period
    from statements.models import ImportBatch, ReconciliationItem, ReconciliationRun, Statement

    rng = random.Random(seed)
    body = f"{30_000_000 + items:08d}"
    importer = Importer.objects.create(
        legal_name=f"Bench Reconciled {items} Ltd.",
        bn9=body + luhn.calc_check_digit(body),
        status="active",
        address_line1="1 Bench Street",
        city="Toronto",
        province="ON",
        postal_code="M5H 1A1",
    )
    account = ProgramAccount.objects.create(importer=importer, bn15=f"{importer.bn9}RM0001")
    batch = ImportBatch.objects.create(
        kind="statement", file_name="bench.csv", sha256=f"{items:064x}", status="accepted"
    )
    issued = dt.date(2026, 10, 25)
    period = statement_period(issued)
    statement = Statement.objects.create(
        program_account=account,
        statement_date=issued,
        period_start=period.start,
        period_end=period.end,
        due_date=period.due_date,
        opening_balance=Decimal("1000.00"),
        closing_balance=Decimal("1000.00"),
        source_batch=batch,
    )
    clerk, _ = User.objects.get_or_create(email="bench.finance@example.com")
    now = timezone.now()
    run = ReconciliationRun.objects.create(
        statement=statement,
        status="succeeded",
        is_current=True,
        run_by=clerk,
        started_at=now,
        finished_at=now,
        percent=100,
        item_count=items,
        balance_ok=True,
        computed_closing=Decimal("1000.00"),
    )
    codes = rng.choices([c for c, _ in STATUSES], weights=[w for _, w in STATUSES], k=items)
    columns = [
        "run_id", "statement_id", "importer_id", "position", "status", "is_exception", "flagged",
        "key", "transaction_number", "line_type", "entry_version", "statement_amount",
        "entry_amount", "difference", "components_differing", "resolution", "note",
        "assigned_to_id", "first_seen_at", "reopened",
    ]  # fmt: skip

    def rows():
        for n, code in enumerate(codes, start=1):
            txn = f"12345{n:09d}"
            amount = Decimal(rng.randint(1_000, 2_000_000)) / 100
            entry = amount
            comps = "{}"
            if code in ("amount_mismatch", "matched_within_tolerance"):
                entry = amount - Decimal("0.27")
                comps = '{"gst": {"statement": "1.27", "entry": "1.00", "difference": "0.27"}}'
            stmt = None if code == "missing_on_statement" else amount
            ent = (
                None
                if code in ("other_broker", "unexpected_on_statement", "posted_by_cbsa")
                else entry
            )
            exception = code not in ("matched", "matched_within_tolerance")
            worked = exception and n % 3 == 0
            yield (
                run.pk, statement.pk, importer.pk, n, code, exception, False, f"txn:{txn}", txn,
                "PAYMENT" if code == "posted_by_cbsa" else "CAD", None if ent is None else 1,
                stmt, ent, (stmt or 0) - (ent or 0), comps,
                "explained" if worked else "",
                "Checked with the client; CBSA adjustment expected next statement." if worked else "",
                clerk.pk if exception else None, now, False,
            )  # fmt: skip

    copy_rows(ReconciliationItem, columns, rows())
    return run


def measure(items: int) -> list[list[str]]:
    from pypdf import PdfReader

    from statements import reports

    run = populate(items)
    started, cpu = time.perf_counter(), time.process_time()
    pdf = reports.render_pdf(run)
    pdf_seconds, pdf_cpu = time.perf_counter() - started, time.process_time() - cpu
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    out = io.StringIO(newline="")
    started, cpu = time.perf_counter(), time.process_time()
    rows = reports.write_csv(run, out)
    csv_seconds, csv_cpu = time.perf_counter() - started, time.process_time() - cpu
    size = len(out.getvalue().encode())
    return [
        [
            f"{items:,}",
            "PDF",
            f"{pdf_seconds:.2f}",
            f"{pdf_cpu:.2f}",
            f"{pages:,}",
            f"{len(pdf):,}",
        ],
        [f"{rows:,}", "CSV", f"{csv_seconds:.2f}", f"{csv_cpu:.2f}", "", f"{size:,}"],
    ]


def main() -> None:
    import logging

    fresh_database()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from django.conf import settings

    rows = []
    for size in sorted({settings.RECONCILIATION_PDF_INLINE_ITEMS, *SIZES}):
        rows.extend(measure(size))
    print_table(
        "Reconciliation report (WeasyPrint PDF and CSV export of one run)",
        ["items", "format", "seconds", "cpu seconds", "pages", "bytes"],
        rows,
    )
    print(
        f"Runs of more than {settings.RECONCILIATION_PDF_INLINE_ITEMS} items "
        "(RECONCILIATION_PDF_INLINE_ITEMS) render in a worker on the heavy queue."
    )


if __name__ == "__main__":
    main()
