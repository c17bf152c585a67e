"""Statements in headless Chromium, as the broker's finance clerk: a bad statement file refused
with its problems by row (nothing written), the good one imported, its reconciliation watched to
the end on the run page (HTMX polling, a real Celery worker), one exception resolved and the rest
assigned at once from the worklist (tick all, the sticky bulk bar), and the PDF read back.

The expected figures come from the sample files themselves (docs/samples/statement.csv and
entries.csv), not from the code under test. Screenshots go to var/screenshots/statements-*.png.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from clients.access import BrokerRole
from statements.importing.batches import import_path
from statements.models import ImportBatch, Statement, StatementLine
from statements.reconciliation import runs
from statements.tasks import heavy_reconcile_runs, heavy_reconcile_statement
from tests.browser.helpers import BROWSER_MARKS, page_width, shoot, sign_in
from tests.factories import DEFAULT_PASSWORD, ImporterFactory, ProgramAccountFactory, UserFactory
from tests.mfa import totp_code

pytestmark = [*BROWSER_MARKS, pytest.mark.integration]

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
ACCOUNT_A = "123456782RM0001"  # the BN15s of the sample files
ACCOUNT_B = "876543216RM0001"


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def clerk(media):
    """The finance clerk, a colleague to assign work to, the sample importers and their
    entries (the broker's side, imported beforehand)."""
    alpha = ImporterFactory(legal_name="Alpha Imports Inc.", bn9=ACCOUNT_A[:9])
    bravo = ImporterFactory(legal_name="Bravo Trading Ltd.", bn9=ACCOUNT_B[:9])
    ProgramAccountFactory(importer=alpha, bn15=ACCOUNT_A)
    ProgramAccountFactory(importer=bravo, bn15=ACCOUNT_B)
    user = UserFactory(
        email="sam.okafor@broker.example.com", full_name="Sam Okafor", roles=[BrokerRole.FINANCE]
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    UserFactory(
        email="priya.shah@broker.example.com", full_name="Priya Shah", roles=[BrokerRole.AGENT]
    )
    import_path(kind="entries", path=SAMPLES / "entries.csv", user=user)
    return user


@pytest.fixture
def held(monkeypatch, worker_queue):
    """Reconciliations queued by an import wait here until the test sends them to the worker,
    so the run page is seen queued first and then follows the run to its end."""
    waiting: list[list[int]] = []

    def hold(ids: list[int], task_id: str) -> bool:
        waiting.append(list(ids))
        return True  # "the broker took it"

    monkeypatch.setattr(runs, "_enqueue", hold)

    def release() -> None:
        for ids in waiting:
            if len(ids) == 1:
                heavy_reconcile_statement.apply_async(kwargs={"run_id": ids[0]}, queue=worker_queue)
            else:
                heavy_reconcile_runs.apply_async(kwargs={"run_ids": ids}, queue=worker_queue)
        waiting.clear()

    return release


def bad_file(tmp_path: Path) -> Path:
    """The sample statement with two rows spoiled: a decimal comma in row 3's amount and a
    31 June in row 6's posting date (spreadsheet rows: the header is row 1)."""
    lines = (SAMPLES / "statement.csv").read_text().splitlines()
    lines[2] = lines[2].replace(",1431.03,", ',"1431,03",')
    lines[5] = lines[5].replace("2025-06-04", "2025-06-31")
    path = tmp_path / "statement-bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def upload(page: Page, base_url: str, path: Path) -> None:
    page.goto(f"{base_url}/statements/imports/new/")
    page.get_by_label("Statement of account lines").check()
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()


def test_import_reconcile_work_the_exceptions_and_read_the_pdf(
    page: Page, live_server, clerk, held, tmp_path
):
    sign_in(page, live_server.url, clerk.email, DEFAULT_PASSWORD, totp=totp_code())

    # A bad file: refused, every problem listed by its spreadsheet row, nothing written.
    upload(page, live_server.url, bad_file(tmp_path))
    expect(page.get_by_role("heading", name="Import #", level=1)).to_contain_text("Refused")
    problems = page.get_by_role("table", name="Problems found, by row").locator("tbody tr")
    expect(problems.filter(has_text="1431,03")).to_have_count(1)
    expect(problems.filter(has_text="1431,03").locator("td").nth(0)).to_have_text("3")
    expect(problems.filter(has_text="1431,03").locator("td").nth(1)).to_have_text("amount")
    expect(problems.filter(has_text="2025-06-31").locator("td").nth(0)).to_have_text("6")
    expect(problems.filter(has_text="2025-06-31").locator("td").nth(1)).to_have_text("posted_on")
    shoot(page, "statements-import-refused")
    assert (Statement.objects.count(), StatementLine.objects.count()) == (0, 0)

    # The good file: a statement for each of the two accounts.
    upload(page, live_server.url, SAMPLES / "statement.csv")
    expect(page.get_by_role("heading", name="Import #", level=1)).to_contain_text("Accepted")
    created = page.get_by_role("region", name="Statements created")
    expect(created.get_by_role("listitem")).to_have_count(2)
    expect(created).to_contain_text("Alpha Imports Inc.")
    expect(created.get_by_role("listitem").filter(has_text=ACCOUNT_A)).to_contain_text("$2,400.03")
    shoot(page, "statements-import-accepted")

    # The statement's reconciliation, queued by the import: watch it run to the end.
    created.get_by_role("link", name=ACCOUNT_A).click()
    panel = page.locator("#reconciliation")
    expect(panel).to_contain_text("Queued")
    panel.get_by_role("link", name="run #").click()
    expect(page.get_by_role("heading", name="Queued — it will start")).to_be_visible()
    shoot(page, "statements-run-queued")
    held()
    heading = page.get_by_role("heading", name="Reconciliation", level=1)
    expect(heading).to_contain_text("Succeeded", timeout=60_000)
    expect(page.locator("#run-progress")).to_have_count(0)

    # What the files say: 10 lines and one declared entry never billed (11 items); the lines
    # add up to closing − opening = 2400.03 − 1250.00; entry ...033 declared 400.34, billed
    # 400.61; the two lines of ...041 charge one entry twice.
    stats = page.get_by_role("list", name="Reconciliation in figures")
    expect(stats.locator(".stat", has_text="Items").locator(".stat__value")).to_have_text("11")
    by_status = page.get_by_role("region", name="By status")
    expect(by_status.locator("tfoot")).to_contain_text("$1,150.03")
    items = page.get_by_role("table", name="Reconciliation items by status")
    mismatch = items.locator("tbody tr", has_text="12345000000033")
    expect(mismatch).to_contain_text("$400.61")
    expect(mismatch).to_contain_text("$400.34")
    expect(mismatch).to_contain_text("$0.27")
    shoot(page, "statements-run-finished")

    # The PDF, read back.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Alpha Imports Inc." in text
    assert ACCOUNT_A in text
    assert "$1,150.03" in text  # the lines' total
    assert "$2,400.03" in text  # the stated closing balance
    # Exceptions first, then the matched items (the two lines of ...017 and ...025).
    assert text.index("8 exceptions to explain") < text.index("Matched (2)")

    # The worklist: every open exception of Alpha's statement (Bravo's matched whole).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reconciliation").click()
    # 033, 074, the two of another broker (54321…), 058, the two of 041, the interest.
    expect(page.get_by_text("8 open exceptions")).to_be_visible()
    rows = page.locator("table.recon-worklist tbody tr")
    expect(rows).to_have_count(8)
    shoot(page, "statements-worklist")

    # Resolve one: the amount that differs, explained.
    rows.filter(has_text="12345000000033").get_by_role("link", name="12345000000033").click()
    page.get_by_role("radio", name="Explained").check()
    page.get_by_label("Note").fill("CBSA applied the new GST rate; our entry used the old one.")
    page.get_by_role("button", name="Save the resolution").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("12345000000033")
    page.goto(f"{live_server.url}/statements/reconciliation/")
    expect(page.get_by_text("7 open exceptions")).to_be_visible()
    expect(rows).to_have_count(7)
    expect(rows.filter(has_text="12345000000033")).to_have_count(0)

    # Assign the other seven at once: tick all, and the bulk bar stays in view while the list
    # scrolls on a short screen.
    page.set_viewport_size({"width": 1280, "height": 480})
    # A laptop's width: the finance clerk's longer menu wraps instead of widening the page.
    wide, screen = page_width(page)
    assert wide <= screen, f"{wide}px wide on a {screen}px screen"
    bar = page.locator("fieldset.recon-bulk")
    page.locator("#bulk-all").check()
    for n in range(7):
        expect(rows.nth(n).locator('input[name="bulk-items"]')).to_be_checked()
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    # Scrolled to the end, past the heading and the filters: the bar is held at the top.
    expect(page.get_by_role("heading", name="Reconciliation exceptions")).not_to_be_in_viewport()
    top = bar.evaluate("(el) => el.getBoundingClientRect().top")
    assert -1 <= top <= 2, top
    shoot(page, "statements-worklist-ticked")
    bar.get_by_label("Assign to", exact=True).last.select_option(
        label="Priya Shah <priya.shah@broker.example.com>"
    )
    bar.get_by_role("button", name="Apply to the ticked exceptions").click()
    expect(page.get_by_text("7 exceptions updated.")).to_be_visible()
    expect(rows.filter(has_text="Priya Shah")).to_have_count(7)
    shoot(page, "statements-worklist-assigned")
    assert ImportBatch.objects.filter(status="refused").count() == 1
