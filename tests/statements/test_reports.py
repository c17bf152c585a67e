"""Reconciliation reports: the figures, the PDF rendered for real and read back, the CSV round trip,
the worker's PDF (large reports) and the reconciliation_report command."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from pypdf import PdfReader

from carm_portal.celery import app
from statements import reports
from statements.models import ReconciliationItem, ReconciliationRun
from statements.tasks import heavy_render_reconciliation_pdf
from tests.factories import ProgramAccountFactory, UserFactory
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def account(db):
    from tests.factories import ImporterFactory

    importer = ImporterFactory(legal_name="Alpha Imports Inc.", bn9="123456782")
    return ProgramAccountFactory(importer=importer, bn15="123456782RM0001")


@pytest.fixture
def run(account):
    return reconciled_statement(account, run_by=UserFactory(email="fin@broker.example.com"))


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- The figures -----------------------------------------------------------------------------


def test_the_summary_adds_up_each_status_in_cents(run):
    summary = reports.status_summary(run)

    assert [(r.code, r.count, r.statement_total, r.entry_total, r.difference_total) for r in
            summary.present] == [
        ("matched", 2, D("1696.03"), D("1696.03"), D("0.00")),
        ("amount_mismatch", 1, D("400.61"), D("400.34"), D("0.27")),
        ("missing_on_statement", 1, D("0.00"), D("186.00"), D("-186.00")),
        ("other_broker", 2, D("86.35"), D("0.00"), D("86.35")),
        ("unexpected_on_statement", 1, D("94.00"), D("0.00"), D("94.00")),
        ("duplicate", 2, D("114.60"), D("0.00"), D("114.60")),
        ("posted_by_cbsa", 2, D("-1241.56"), D("0.00"), D("-1241.56")),
    ]  # fmt: skip
    assert (summary.item_count, summary.exception_count, summary.open_count) == (11, 8, 8)
    assert summary.get("missing_on_statement").amount == D("186.00")
    assert summary.get("matched_within_tolerance").count == 0
    assert summary.get("amount_mismatch").label == "Amount differs"


def test_the_context_groups_items_in_the_order_of_formats_md(run):
    context = reports.report_context(run)

    assert [(g.total.code, [i.position for i in g.items]) for g in context["groups"]] == [
        ("matched", [1, 2]),
        ("amount_mismatch", [4]),
        ("missing_on_statement", [11]),
        ("other_broker", [7, 8]),
        ("unexpected_on_statement", [9]),
        ("duplicate", [5, 6]),
        ("posted_by_cbsa", [3, 10]),
    ]
    assert context["balance"] == reports.Balance(
        opening=D("1250.00"),
        lines=D("1150.03"),
        computed=D("2400.03"),
        closing=D("2400.03"),
        difference=D("0.00"),
        ok=True,
    )
    assert context["run_by"].email == "fin@broker.example.com"


# --- CSV -------------------------------------------------------------------------------------


def test_the_csv_starts_as_formats_md_shows(run):
    out = io.StringIO(newline="")

    reports.write_csv(run, out)

    lines = out.getvalue().splitlines()
    assert lines[:5] == [
        "status,transaction_number,line_type,statement_amount,entry_amount,difference,"
        "components_differing,resolution,assigned_to,note",
        "matched,12345000000017,CAD,1431.03,1431.03,0.00,,,,",
        "matched,12345000000025,CAD,265.00,265.00,0.00,,,,",
        "amount_mismatch,12345000000033,CAD,400.61,400.34,0.27,gst,,,",
        "missing_on_statement,12345000000074,CAD,,186.00,-186.00,,,,",
    ]
    assert len(lines) == 12


def test_the_csv_round_trips(run):
    agent = UserFactory(email="agent@broker.example.com")
    item = run.items.get(status="amount_mismatch")
    item.components_differing = {
        "gst": {"statement": "1", "entry": "0", "difference": "1"},
        "customs_duties": {"statement": "1", "entry": "0", "difference": "1"},
    }
    item.resolution, item.assigned_to = "explained", agent
    item.note = 'Broker "amended" the CAD,\nsee file F-25-0417 = €12'
    item.save()
    out = io.StringIO(newline="")
    reports.write_csv(run, out)

    rows = reports.read_csv(io.StringIO(out.getvalue(), newline=""))

    expected = [
        {
            "status": i.status,
            "transaction_number": i.transaction_number,
            "line_type": i.line_type,
            "statement_amount": i.statement_amount,
            "entry_amount": i.entry_amount,
            "difference": i.difference,
            "components_differing": reports.components_text(i.components_differing).split(";")
            if i.components_differing
            else [],
            "resolution": i.resolution,
            "assigned_to": i.assigned_to.email if i.assigned_to else "",
            "note": i.note,
        }
        for i in reports.ordered_items(run).select_related("assigned_to")
    ]
    assert rows == expected
    assert rows[2]["components_differing"] == ["customs_duties", "gst"]  # file column order
    assert rows[2]["note"] == 'Broker "amended" the CAD,\nsee file F-25-0417 = €12'


def test_read_csv_refuses_another_file():
    with pytest.raises(ValueError, match="Not a reconciliation export"):
        reports.read_csv(io.StringIO("a,b\n1,2\n"))


# --- PDF -------------------------------------------------------------------------------------


def test_the_pdf_carries_the_summary_balance_and_who_ran_it(run):
    data = reports.render_pdf(run)

    assert data.startswith(b"%PDF")
    text = squash(" ".join(pdf_pages(data)))  # pypdf may or may not space out table cells
    for expected in [
        "Alpha Imports Inc.",
        "123456782RM0001",
        "2025-05-18 – 2025-06-17",  # the billing period
        "Page 1 of ",
        f"run by {run.run_by}",
        "Amount differs 1 $400.61 $400.34 $0.27 $0.27 1",
        "Missing on statement 1 $0.00 $186.00 \u2212$186.00 $186.00 1",
        "Matched 2 $1,696.03 $1,696.03 $0.00",
        "Total 11",
        "Opening balance $1,250.00",
        "Plus the lines $1,150.03",
        "Gives $2,400.03",
        "Closing balance the statement states no stated balance",  # the factory states none
        "No stated balance: the statement file has no CLOSING_BALANCE row",
        "balanced",
        "12345000000033",
    ]:
        assert squash(expected) in text, expected


def test_the_pdf_lists_exceptions_before_matched_items(run):
    text = flat(" ".join(pdf_pages(reports.render_pdf(run))))

    exceptions = text.index(flat("8 exceptions to explain"))
    assert exceptions < text.index(flat("Amount differs (1)")) < text.index(flat("Matched (2)"))
    assert text.index(flat("Posted by CBSA (2)")) < text.index(flat("Matched (2)"))
    assert "12345000000033" in text and "1431.03" not in text.replace("1,431.03", "")


def test_the_pdf_items_use_the_full_page_width(run):
    """Every items table's columns add up to the page: none is left to an empty last column."""
    html = reports.render_html(run)
    widths = dict(re.findall(r"(?<!matched )\.(w-[a-z]+) \{ width: ([\d.]+)%; \}", html))
    matched = dict(re.findall(r"\.matched \.(w-[a-z]+) \{ width: ([\d.]+)%; \}", html))
    for table, sizes in (("items matched", {**widths, **matched}), ("items", widths)):
        cols = re.search(rf'<table class="{table}">\s*<colgroup>(.*?)</colgroup>', html, re.S)
        assert cols, table
        classes = re.findall(r'<col class="(w-[a-z]+)">', cols.group(1))
        assert len(classes) == len(re.findall(r"<col\b", cols.group(1)))  # no unsized column
        assert sum(float(sizes[c]) for c in classes) == pytest.approx(100), table


def test_the_french_pdf_formats_money_in_french(run):
    with translation.override("fr"):
        text = squash(" ".join(pdf_pages(reports.render_pdf(run))))
    assert squash("400,61 $") in text and squash("Page 1 sur") in text
    assert squash("\u2212186,00 $") in text


def test_every_page_of_a_long_pdf_carries_the_importer_account_period_and_page_number(account):
    run = reconciled_statement(account, extra_items=150)

    pages = [flat(t) for t in pdf_pages(reports.render_pdf(run))]

    assert len(pages) > 2
    for number, text in enumerate(pages, start=1):
        assert "Alpha Imports Inc." in text
        assert "123456782RM0001" in text
        assert "2025-05-18 – 2025-06-17" in text
        assert f"Page {number} of {len(pages)}" in text
    # the items table repeats its header on the pages it runs over
    assert all("Transaction" in text for text in pages[1:])


def test_the_pdf_of_an_empty_run_says_so(account):
    run = reconciled_statement(account)
    run.items.all().delete()

    text = flat(" ".join(pdf_pages(reports.render_pdf(run))))

    assert "found nothing to report" in text


def test_a_name_cannot_break_out_of_the_page_margin_css(account):
    account.importer.legal_name = 'Quote " and </style><h1>x</h1> \\ Inc.'
    account.importer.save()
    run = reconciled_statement(account)

    text = flat(" ".join(pdf_pages(reports.render_pdf(run))))

    assert 'Quote " and </style><h1>x</h1> \\ Inc.' in text


# --- The worker's PDF (large reports) --------------------------------------------------------


def test_the_pdf_task_goes_to_the_heavy_queue():
    route = app.amqp.router.route({}, heavy_render_reconciliation_pdf.name, args=(), kwargs={})

    assert route["queue"].name == "heavy"


def test_the_task_renders_a_queued_pdf_once_and_stores_it(run, media):
    assert reports.request_pdf(run) is True
    assert reports.request_pdf(run) is False  # already queued: one render

    name = heavy_render_reconciliation_pdf(run_id=run.pk)

    run.refresh_from_db()
    assert (run.pdf_status, run.pdf_file.name) == ("ready", name)
    assert run.pdf_file.read().startswith(b"%PDF")
    assert heavy_render_reconciliation_pdf(run_id=run.pk) == ""  # a duplicate delivery: nothing
    assert reports.stored_pdf_is_fresh(run)


def test_a_stored_pdf_goes_stale_when_an_item_changes(run, media):
    reports.request_pdf(run)
    heavy_render_reconciliation_pdf(run_id=run.pk)
    run.refresh_from_db()
    item = run.items.get(status="amount_mismatch")

    item.note = "Looked at it"
    item.save()

    assert not reports.stored_pdf_is_fresh(run)


def test_a_failed_render_is_marked_failed(run, media, monkeypatch):
    def boom(run):
        raise RuntimeError("font missing")

    monkeypatch.setattr(reports, "render_pdf", boom)
    reports.request_pdf(run)

    with pytest.raises(RuntimeError):
        heavy_render_reconciliation_pdf(run_id=run.pk)

    run.refresh_from_db()
    assert run.pdf_status == "failed"
    assert reports.request_pdf(run) is True  # may be asked for again


def test_the_task_ignores_a_run_that_is_gone(media):
    assert heavy_render_reconciliation_pdf(run_id=987654) == ""


# --- The command -----------------------------------------------------------------------------


def test_the_command_writes_both_formats(run, tmp_path):
    out = io.StringIO()
    csv_path, pdf_path = tmp_path / "r.csv", tmp_path / "r.pdf"

    call_command(
        "reconciliation_report",
        "--statement", str(run.statement_id), "--format", "csv", "--output", str(csv_path),
        stdout=out,
    )  # fmt: skip
    call_command(
        "reconciliation_report",
        "--statement", str(run.statement_id), "--run", str(run.pk),
        "--format", "pdf", "--output", str(pdf_path),
        stdout=out,
    )  # fmt: skip

    with csv_path.open(newline="", encoding="utf-8") as file:
        assert len(reports.read_csv(file)) == 11
    assert pdf_path.read_bytes().startswith(b"%PDF")
    assert f"CSV of run #{run.pk} (123456782RM0001, statement of 2025-06-25): 11 items" in (
        out.getvalue()
    )
    assert "PDF of run" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--statement", "999999"], "No statement with id 999999."),
        (["--run", "999999"], "has no run with id 999999"),
        (["--output", "/no/such/dir/r.csv"], "No such directory: /no/such/dir"),
    ],
)
def test_the_command_refuses_bad_input_clearly(run, tmp_path, args, message):
    options = {
        "--statement": str(run.statement_id),
        "--format": "csv",
        "--output": str(tmp_path / "r.csv"),
    }
    for flag, value in zip(args[::2], args[1::2], strict=True):
        options[flag] = value

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("reconciliation_report", *[x for kv in options.items() for x in kv])


def test_the_command_says_when_a_statement_was_never_reconciled(run, tmp_path):
    ReconciliationRun.objects.filter(pk=run.pk).update(is_current=False)

    with pytest.raises(CommandError, match="has not been reconciled yet"):
        call_command(
            "reconciliation_report",
            "--statement", str(run.statement_id), "--format", "csv",
            "--output", str(tmp_path / "r.csv"),
        )  # fmt: skip


def test_the_command_refuses_a_failed_run(run, tmp_path):
    failed = ReconciliationRun.objects.create(
        statement=run.statement, status="failed", error="worker lost"
    )

    with pytest.raises(CommandError, match="did not succeed"):
        call_command(
            "reconciliation_report",
            "--statement", str(run.statement_id), "--run", str(failed.pk),
            "--format", "pdf", "--output", str(tmp_path / "r.pdf"),
        )  # fmt: skip


def test_an_unknown_format_is_refused(run, tmp_path):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "reconciliation_report",
            "--statement", str(run.statement_id), "--format", "xlsx",
            "--output", str(tmp_path / "r.xlsx"),
        )  # fmt: skip


def test_items_are_counted(run):
    assert ReconciliationItem.objects.filter(run=run).count() == 11


# --- With the engine: the sample files of docs/formats.md ------------------------------------


def test_the_export_of_the_reconciled_samples_reads_as_formats_md_shows(accounts, settings):
    from statements.models import Statement
    from statements.reconciliation.runs import reconcile_statement
    from tests.statements.conftest import ACCOUNT_A, SAMPLES, run_import

    settings.BROKER_ASECS = ["12345"]
    run_import("statement", (SAMPLES / "statement.csv").read_bytes(), name="statement.csv")
    run_import("entries", (SAMPLES / "entries.csv").read_bytes(), name="entries.csv")
    statement = Statement.objects.get(program_account__bn15=ACCOUNT_A)

    run = reconcile_statement(statement=statement, run_by=None)
    out = io.StringIO(newline="")
    reports.write_csv(run, out)

    assert out.getvalue().splitlines()[:5] == [
        "status,transaction_number,line_type,statement_amount,entry_amount,difference,"
        "components_differing,resolution,assigned_to,note",
        "matched,12345000000017,CAD,1431.03,1431.03,0.00,,,,",
        "matched,12345000000025,CAD,265.00,265.00,0.00,,,,",
        "amount_mismatch,12345000000033,CAD,400.61,400.34,0.27,gst,,,",
        "missing_on_statement,12345000000074,CAD,,186.00,-186.00,,,,",
    ]
    text = squash(" ".join(pdf_pages(reports.render_pdf(run))))
    assert squash("Opening balance $1,250.00") in text
    assert squash("Gives $2,400.03") in text
    assert squash("Closing balance the statement states $2,400.03") in text  # its CLOSING_BALANCE
    assert squash("Stated minus computed $0.00") in text
    assert "balance_difference" not in out.getvalue()  # it balances: no row after the items
    assert "balanced" in text


def test_the_pdf_shows_each_exception_at_the_worklists_amount_and_adds_them_up(accounts, settings):
    """A line charged twice differs from our entry by 0.00, yet puts its amount at risk: the PDF
    shows the worklist's amount for every item, and adds them up as the worklist does."""
    from statements.models import Statement
    from statements.reconciliation.runs import reconcile_statement
    from statements.reconciliation.selectors import open_exceptions, total_at_risk
    from tests.statements.conftest import ACCOUNT_A, SAMPLES, run_import

    settings.BROKER_ASECS = ["12345"]
    run_import("statement", (SAMPLES / "statement.csv").read_bytes(), name="statement.csv")
    run_import("entries", (SAMPLES / "entries.csv").read_bytes(), name="entries.csv")
    run = reconcile_statement(
        statement=Statement.objects.get(program_account__bn15=ACCOUNT_A), run_by=None
    )
    duplicates = run.items.filter(status="duplicate")
    assert [i.difference for i in duplicates] == [D("0.00"), D("0.00")]  # as the engine finds them

    text = squash(" ".join(pdf_pages(reports.render_pdf(run))))

    # statement.csv charges 12345000000041 twice at 57.30: each line risks 57.30.
    assert text.count(squash("12345000000041 CAD v1 $57.30 $57.30 $0.00 $57.30 charged again")) == 2
    assert squash("Charged twice 2 $114.60 $114.60 $0.00 $114.60 2") in text
    # The other exceptions risk their difference, added by size: 186.00 missing on the statement,
    # 98.75 and 12.40 (a credit) of another broker, 94.00 not in our records, the 0.27 of GST,
    # the 8.44 of interest; the 1,250.00 payment is no exception.
    assert squash("12345000000074 CAD v1 \u2014 $186.00 \u2212$186.00 \u2212$186.00") in text
    assert squash("Missing on statement 1 $0.00 $186.00 \u2212$186.00 $186.00 1") in text
    assert squash("Another broker's transaction 2 $86.35 $0.00 $86.35 $111.15 2") in text
    assert squash("Posted by CBSA 2 \u2212$1,241.56 $0.00 \u2212$1,241.56 $8.44 1") in text
    expected = D("114.60") + D("186.00") + D("98.75") + D("12.40") + D("94.00") + D("0.27")
    expected += D("8.44")
    assert squash(f"Total 11 $1,150.03 $2,396.97 \u2212$1,246.94 ${expected} 8") in text
    assert squash(f"Still open: ${expected} at risk.") in text
    # ... which is the worklist's total for this statement.
    assert total_at_risk(open_exceptions().filter(statement=run.statement)) == expected
