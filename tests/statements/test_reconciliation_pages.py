"""Reconciliation pages: the run page (figures, chart, balance, items, progress, failure), the item
page and its forms, the downloads (small PDF at once, large PDF by the worker, streamed CSV), the
worklist's filters, the charts on the statement and importer pages, and constant queries."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from statements import charts, reports
from statements.models import ReconciliationComment, ReconciliationItem, ReconciliationRun
from statements.tasks import heavy_render_reconciliation_pdf
from tests.factories import (
    BrokerEntryFactory,
    ReconciliationRunFactory,
    StatementFactory,
    StatementLineFactory,
)
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC))


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


@pytest.fixture
def run(account):
    return reconciled_statement(account)


def run_url(run: ReconciliationRun, name: str = "statements:reconciliation") -> str:
    return reverse(name, args=[run.statement_id, run.pk])


def item_url(item: ReconciliationItem) -> str:
    return reverse("statements:reconciliation_item", args=[item.statement_id, item.pk])


def text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html)


# --- The run page ----------------------------------------------------------------------------


def test_the_run_page_shows_the_figures_chart_balance_and_exceptions(personas, client_for, run):
    response = client_for(personas.broker_finance).get(run_url(run))

    page = text(response)
    assert response.status_code == 200
    assert "Amount differs 1 $400.61 $400.34 $0.27 1" in page
    assert "Total 11 $1,150.03 $2,282.37 \u2212$1,132.34 8" in page
    assert "Balanced" in page and "Gives $2,400.03" in page
    assert "Closing balance the statement states no stated balance" in page
    html = response.content.decode()
    assert 'role="img"' in html and "<title" in html and "<desc" in html  # the accessible chart
    assert "The figures" in html  # and its table
    # exceptions by default: every exception, no match, no payment (no decision needed)
    shown = [i.position for i in response.context["items"]]
    assert shown == [4, 11, 7, 8, 9, 5, 6, 10]
    assert "Download PDF" in page and "Download CSV" in page


def test_the_run_page_filters_by_status(personas, client_for, run):
    client = client_for(personas.broker_agent)

    matched = client.get(run_url(run), {"status": "matched"})
    everything = client.get(run_url(run), {"status": "all"})
    nonsense = client.get(run_url(run), {"status": "drop table"})

    assert [i.position for i in matched.context["items"]] == [1, 2]
    assert len(everything.context["items"]) == 11
    assert nonsense.context["shown"] == "exceptions"
    assert "Download PDF" not in text(matched)  # an agent does not download


def test_the_run_page_follows_a_run_in_progress(personas, client_for, account):
    statement = StatementFactory(program_account=account)
    running = ReconciliationRunFactory(
        statement=statement, status="running", is_current=False, percent=40, phase="matching"
    )
    client = client_for(personas.broker_agent)

    page = client.get(run_url(running)).content.decode()
    partial = client.get(
        run_url(running, "statements:reconciliation_progress"), headers={"HX-Request": "true"}
    )

    assert 'hx-trigger="every 2s"' in page and "htmx" in page
    assert "Reconciling: matching" in text(partial) and 'value="40"' in partial.content.decode()
    ReconciliationRun.objects.filter(pk=running.pk).update(status="succeeded", is_current=True)
    done = client.get(
        run_url(running, "statements:reconciliation_progress"), headers={"HX-Request": "true"}
    )
    assert done["HX-Refresh"] == "true"


def test_a_failed_run_shows_its_error_and_that_the_previous_result_stands(
    personas, client_for, run
):
    failed = ReconciliationRunFactory(
        statement=run.statement, status="failed", is_current=False, error="Worker lost."
    )

    page = text(client_for(personas.broker_agent).get(run_url(failed)))
    panel = text(
        client_for(personas.broker_agent).get(reverse("statements:detail", args=[run.statement_id]))
    )

    assert "This reconciliation failed" in page and "Worker lost." in page
    assert f"The previous result is still current: run #{run.pk}" in page
    assert f"The latest run ( #{failed.pk} ) failed." in panel
    assert "The result below is still current." in panel


def test_the_current_run_link_goes_to_the_current_run_or_back_to_the_statement(
    personas, client_for, run, account
):
    client = client_for(personas.broker_agent)
    never = StatementFactory(program_account=account, statement_date=dt.date(2026, 9, 25))

    to_run = client.get(reverse("statements:reconciliation_current", args=[run.statement_id]))
    to_statement = client.get(reverse("statements:reconciliation_current", args=[never.pk]))

    assert to_run["Location"] == run_url(run)
    assert to_statement["Location"] == never.get_absolute_url()


def test_reconcile_now_queues_a_run_once(
    personas, client_for, account, django_capture_on_commit_callbacks
):
    statement = StatementFactory(program_account=account)
    client = client_for(personas.broker_agent)
    url = reverse("statements:reconcile", args=[statement.pk])

    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(url)
        second = client.post(url)

    runs = list(ReconciliationRun.objects.filter(statement=statement))
    assert len(runs) == 1 and runs[0].status == "queued" and runs[0].run_by == personas.broker_agent
    assert first["Location"] == second["Location"] == run_url(runs[0])
    assert client.get(url).status_code == 405


def test_the_run_page_is_constant_query(
    personas, client_for, account, django_assert_max_num_queries
):
    client = client_for(personas.broker_finance)
    few = reconciled_statement(account)
    many = reconciled_statement(
        account,
        extra_items=60,
        statement=StatementFactory(program_account=account, statement_date=dt.date(2026, 9, 25)),
    )
    for item in many.items.all()[:30]:
        item.assigned_to = personas.broker_agent
        item.save()

    with django_assert_max_num_queries(14) as small:
        few_page = client.get(run_url(few), {"status": "all"})
    with django_assert_max_num_queries(14) as large:
        many_page = client.get(run_url(many), {"status": "all"})

    assert (few_page.status_code, many_page.status_code) == (200, 200)
    assert {i.pk for i in few_page.context["items"]} == set(few.items.values_list("pk", flat=True))
    assert few_page.context["page"].paginator.count == few.items.count() == 11
    assert many_page.context["page"].paginator.count == many.items.count() == 71
    assert len(many_page.context["items"]) == 50
    assert len(small.captured_queries) == len(large.captured_queries)


# --- The item page and the workflow ----------------------------------------------------------


def test_the_item_page_shows_the_line_entry_components_and_versions(personas, client_for, run):
    item = run.items.get(status="amount_mismatch")
    item.statement_line.gst, item.statement_line.customs_duties = D("312.41"), D("88.20")
    item.statement_line.save()
    item.entry.gst, item.entry.customs_duties = D("312.14"), D("88.20")
    item.entry.save()
    BrokerEntryFactory(
        program_account=run.statement.program_account,
        transaction_number=item.transaction_number,
        version=2,
        amount=D("400.34"),
    )

    response = client_for(personas.bam_a).get(item_url(item))

    page = text(response)
    assert "GST differs $312.41 $312.14 $0.27" in page
    assert "Customs duties $88.20 $88.20" in page
    assert f"{run.statement.get_absolute_url()}?page=1#line-6" in response.content.decode()
    assert "Version 1 · $400.34" in page and "Version 2 · $400.34" in page
    assert "Save the resolution" not in page  # a BAM reads, the broker's staff work it


def test_resolving_from_the_page_records_who_and_shows_history(personas, client_for, run):
    item = run.items.get(status="amount_mismatch")
    client = client_for(personas.broker_finance)

    response = client.post(
        item_url(item),
        {"action": "resolve", "resolve-resolution": "explained", "resolve-note": "GST rounding."},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.resolution, item.note, item.resolved_by) == (
        "explained",
        "GST rounding.",
        personas.broker_finance,
    )
    page = text(client.get(item_url(item)))
    assert "Resolved: Explained" in page
    assert "Resolution : — → changed to Explained" in page


def test_a_refused_resolution_shows_the_form_again_with_what_was_typed(
    personas, client_for, run, settings
):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = D("50.00")
    item = run.items.get(status="missing_on_statement")  # difference -186.00
    client = client_for(personas.broker_agent)

    response = client.post(
        item_url(item),
        {"action": "resolve", "resolve-resolution": "written_off", "resolve-note": "Too small"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "above the write-off limit of $50.00" in html
    assert "Too small</textarea>" in html
    assert 'value="written_off" checked' in html or "checked" in html
    item.refresh_from_db()
    assert item.resolution == ""


def test_a_note_is_required_to_explain(personas, client_for, run):
    item = run.items.get(status="amount_mismatch")

    response = client_for(personas.broker_agent).post(
        item_url(item), {"action": "resolve", "resolve-resolution": "explained", "resolve-note": ""}
    )

    assert response.status_code == 200
    assert "needs an explanation" in response.content.decode()


def test_assign_comment_and_reopen_from_the_page(personas, client_for, run):
    item = run.items.get(status="amount_mismatch")
    client = client_for(personas.broker_agent)

    client.post(item_url(item), {"action": "assign", "assign-assignee": personas.broker_finance.pk})
    client.post(item_url(item), {"action": "comment", "comment-text": "Asked the client."})
    client.post(
        item_url(item),
        {"action": "resolve", "resolve-resolution": "followed_up", "resolve-note": ""},
    )
    client.post(item_url(item), {"action": "reopen"})

    item.refresh_from_db()
    assert item.assigned_to == personas.broker_finance
    assert item.resolution == ""
    assert list(ReconciliationComment.objects.values_list("key", "text", "author")) == [
        (item.key, "Asked the client.", personas.broker_agent.pk)
    ]
    page = text(client.get(item_url(item)))
    assert "Asked the client." in page and "Reopened" in page


def test_an_assignee_must_be_broker_staff(personas, client_for, run):
    item = run.items.get(status="amount_mismatch")

    response = client_for(personas.broker_agent).post(
        item_url(item), {"action": "assign", "assign-assignee": personas.bam_a.pk}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_an_item_of_an_older_run_is_read_only(personas, client_for, run):
    ReconciliationRun.objects.filter(pk=run.pk).update(is_current=False)
    newer = ReconciliationRunFactory(statement=run.statement, is_current=True)
    item = run.items.get(status="amount_mismatch")
    client = client_for(personas.broker_agent)

    page = text(client.get(item_url(item)))
    response = client.post(item_url(item), {"action": "comment", "comment-text": "x"})

    assert "belongs to an earlier run" in page and "Save the resolution" not in page
    assert response.status_code == 302
    assert "can no longer be changed" in text(client.get(response["Location"]))
    assert not ReconciliationComment.objects.exists()
    assert newer.is_current


# --- Downloads -------------------------------------------------------------------------------


def test_a_small_pdf_downloads_at_once(personas, client_for, run):
    response = client_for(personas.bam_a).get(run_url(run, "statements:reconciliation_pdf"))

    assert response["Content-Type"] == "application/pdf"
    assert "attachment;" in response["Content-Disposition"]
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert "Alpha Imports Inc." in pages[0].extract_text()


def test_a_large_pdf_is_prepared_by_the_worker_then_downloaded(
    personas, client_for, run, settings, media, django_capture_on_commit_callbacks
):
    settings.RECONCILIATION_PDF_INLINE_ITEMS = 5
    client = client_for(personas.broker_finance)
    url = run_url(run, "statements:reconciliation_pdf")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        waiting = client.get(url)
        polled = client.get(url, headers={"HX-Request": "true"})

    assert waiting.status_code == 200 and "being prepared" in text(waiting)
    assert 'hx-trigger="every 2s"' in polled.content.decode()
    assert len(callbacks) == 1  # one render queued, however often the page asks
    run.refresh_from_db()
    assert run.pdf_status == "queued"

    heavy_render_reconciliation_pdf(run_id=run.pk)  # what the worker does
    ready = client.get(url, headers={"HX-Request": "true"})
    download = client.get(url)

    assert "The report is ready." in text(ready)
    assert download["Content-Type"] == "application/pdf"
    data = b"".join(download.streaming_content)
    assert "Alpha Imports Inc." in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_a_failed_worker_render_can_be_asked_for_again(
    personas, client_for, run, settings, media, django_capture_on_commit_callbacks
):
    settings.RECONCILIATION_PDF_INLINE_ITEMS = 5
    ReconciliationRun.objects.filter(pk=run.pk).update(pdf_status="failed")
    client = client_for(personas.broker_finance)
    url = run_url(run, "statements:reconciliation_pdf")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.get(url)
        assert len(callbacks) == 0
        retried = client.post(url)

    assert "could not be prepared" in text(page)
    assert retried.status_code == 302 and len(callbacks) == 1


def test_the_csv_streams_the_export(personas, client_for, run):
    response = client_for(personas.bam_a).get(run_url(run, "statements:reconciliation_csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="reconciliation-{run.statement.program_account.bn15}-2025-06-25-'
        f'run{run.pk}.csv"'
    )
    body = b"".join(response.streaming_content).decode()
    assert len(reports.read_csv(io.StringIO(body, newline=""))) == 11


def test_a_run_that_did_not_succeed_has_no_downloads(personas, client_for, run):
    failed = ReconciliationRunFactory(statement=run.statement, status="failed", is_current=False)
    client = client_for(personas.broker_finance)

    assert client.get(run_url(failed, "statements:reconciliation_pdf")).status_code == 404
    assert client.get(run_url(failed, "statements:reconciliation_csv")).status_code == 404


# --- The worklist ----------------------------------------------------------------------------


@pytest.fixture
def portfolio(personas):
    """Open exceptions of two importers, of various ages, amounts and assignees."""
    now = timezone.now()
    a = reconciled_statement(personas.importer_a.program_accounts.get())
    b = reconciled_statement(personas.importer_b.program_accounts.get())
    a.items.filter(status="amount_mismatch").update(
        first_seen_at=now - dt.timedelta(days=45), assigned_to=personas.broker_agent
    )
    b.items.filter(status="unexpected_on_statement").update(
        first_seen_at=now - dt.timedelta(days=3)
    )
    b.items.filter(status="duplicate").update(resolution="explained", note="ok")
    return a, b


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"assignee": "mine"}, [("A", "amount_mismatch")]),
        ({"age": "31-60"}, [("A", "amount_mismatch")]),
        ({"age": "0-7"}, [("B", "unexpected_on_statement")]),
        ({"status": "duplicate"}, [("A", "duplicate"), ("A", "duplicate")]),
        (
            {"min_amount": "150", "sort": "amount"},
            [("A", "missing_on_statement"), ("B", "missing_on_statement")],
        ),
        ({"q": "Bravo", "status": "other_broker"}, [("B", "other_broker"), ("B", "other_broker")]),
    ],
)
def test_the_worklist_filters(personas, client_for, portfolio, params, expected):
    a, _b = portfolio
    response = client_for(personas.broker_agent).get(reverse("statements:worklist"), params)

    rows = [("A" if i.run_id == a.pk else "B", i.status) for i in response.context["items"]]
    assert sorted(rows) == sorted(expected) if params.get("sort") != "amount" else rows == expected


def test_the_worklist_is_sorted_oldest_first_and_skips_resolved(personas, client_for, portfolio):
    a, _b = portfolio

    response = client_for(personas.broker_finance).get(reverse("statements:worklist"))

    items = response.context["items"]
    assert (items[0].run_id, items[0].status, items[0].age_days) == (a.pk, "amount_mismatch", 45)
    assert not [i for i in items if i.resolution]
    assert len(items) == 8 + 6  # B's two duplicates are resolved
    assert response.context["page"].paginator.count == 14


def test_the_worklist_refuses_bad_filters_politely(personas, client_for, portfolio):
    response = client_for(personas.broker_agent).get(
        reverse("statements:worklist"), {"min_amount": "lots", "age": "ancient"}
    )

    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()
    assert 'value="lots"' in response.content.decode()


def test_the_worklist_is_constant_query(
    personas, client_for, account, django_assert_max_num_queries
):
    client = client_for(personas.broker_agent)
    reconciled_statement(account)
    with django_assert_max_num_queries(10) as few:
        first = client.get(reverse("statements:worklist"))
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 8  # the sample's open exceptions
    for month in (7, 8, 9):
        run = reconciled_statement(
            account,
            extra_items=10,
            statement=StatementFactory(
                program_account=account, statement_date=dt.date(2025, month, 25)
            ),
        )
        run.items.filter(position__lte=5).update(assigned_to=personas.broker_finance)

    with django_assert_max_num_queries(10) as many:
        response = client.get(reverse("statements:worklist"))

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 8 + 3 * (8 + 10)
    assert len(response.context["items"]) == 50  # a full first page
    assert len(few.captured_queries) == len(many.captured_queries)


# --- Charts on the statement and importer pages ----------------------------------------------


def test_the_statement_page_panel_is_constant_query(
    personas, client_for, account, django_assert_max_num_queries
):
    client = client_for(personas.broker_finance)
    few = reconciled_statement(account)
    many = reconciled_statement(account, extra_items=40, statement_date=dt.date(2025, 7, 25))
    with django_assert_max_num_queries(40) as small:
        few_page = client.get(reverse("statements:detail", args=[few.statement_id]))
    with django_assert_max_num_queries(40) as large:
        many_page = client.get(reverse("statements:detail", args=[many.statement_id]))

    assert (few_page.status_code, many_page.status_code) == (200, 200)
    assert f"Run #{few.pk}," in few_page.content.decode()
    assert "11 items" in few_page.content.decode()
    assert f"Run #{many.pk}," in many_page.content.decode()
    assert "51 items" in many_page.content.decode()
    assert len(small.captured_queries) == len(large.captured_queries)


def test_billed_vs_declared_sums_lines_and_latest_entry_versions_by_month(account):
    october = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    StatementLineFactory(statement=october, line_type="CAD", amount=D("100.10"))
    StatementLineFactory(statement=october, line_type="ADJUSTMENT", amount=D("-0.10"))
    StatementLineFactory(statement=october, line_type="INTEREST", amount=D("5.00"))  # not billed
    old = StatementFactory(program_account=account, statement_date=dt.date(2025, 10, 25))
    StatementLineFactory(statement=old, line_type="CAD", amount=D("999.00"))  # 13 months ago
    BrokerEntryFactory(
        program_account=account, transaction_number="12345000000001", version=1,
        accounted_on=dt.date(2026, 9, 30), amount=D("80.00"),
    )  # fmt: skip
    BrokerEntryFactory(
        program_account=account, transaction_number="12345000000001", version=2,
        accounted_on=dt.date(2026, 10, 3), amount=D("90.00"),
    )  # fmt: skip
    BrokerEntryFactory(
        program_account=account, transaction_number="12345000000002",
        accounted_on=dt.date(2026, 11, 2), amount=D("10.01"),
    )  # fmt: skip

    chart = charts.billed_vs_declared(account.importer, today=dt.date(2026, 11, 23))

    by_month = {m.month: (m.billed, m.declared) for m in chart.months if m.billed or m.declared}
    assert by_month == {
        dt.date(2026, 10, 1): (D("100.00"), D("90.00")),
        dt.date(2026, 11, 1): (D("0.00"), D("10.01")),
    }
    assert chart.months[0].month == dt.date(2025, 12, 1)
    assert len(chart.months) == 12


def test_the_importer_page_shows_the_chart_to_finance_viewers_only(personas, client_for, run):
    url = reverse("clients:importer_detail", args=[personas.importer_a.pk])

    bam = client_for(personas.bam_a).get(url).content.decode()
    employee = client_for(personas.employee_a).get(url).content.decode()

    assert "Billed vs declared" in bam and 'role="img"' in bam
    assert "Billed vs declared" not in employee


def test_the_importer_chart_is_constant_query(
    personas, client_for, account, django_assert_max_num_queries
):
    client = client_for(personas.broker_finance)
    url = reverse("clients:importer_detail", args=[personas.importer_a.pk])

    def add_month(month: int) -> None:
        statement = StatementFactory(
            program_account=account, statement_date=dt.date(2026, month, 25)
        )
        StatementLineFactory(statement=statement, amount=D("10.00"))
        BrokerEntryFactory(
            program_account=account, accounted_on=dt.date(2026, month, 2), amount=D("10.00")
        )

    add_month(1)  # one month against ten: the page's sections are the same, only rows differ
    client.get(url)
    with django_assert_max_num_queries(60) as few:
        response = client.get(url)
    assert response.status_code == 200
    assert "Billed vs declared" in response.content.decode()
    for month in range(2, 11):
        add_month(month)
    with django_assert_max_num_queries(60) as many:
        response = client.get(url)

    assert response.status_code == 200
    chart = response.content.decode()
    assert "Billed vs declared" in chart and 'role="img"' in chart
    chart_queries = [q for q in many.captured_queries if "statements_brokerentry" in q["sql"]]
    assert len(chart_queries) >= 1
    assert len(few.captured_queries) == len(many.captured_queries)


def test_bulk_assign_and_resolve_from_the_worklist(personas, client_for, portfolio, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = D("100.00")
    a, _b = portfolio
    client = client_for(personas.broker_finance)
    url = reverse("statements:worklist")
    small = a.items.get(status="unexpected_on_statement")  # 94.00
    large = a.items.get(status="missing_on_statement")  # -186.00

    assign = client.post(
        url,
        {
            "bulk-items": [small.pk, large.pk],
            "bulk-action": "assign",
            "bulk-assignee": personas.broker_finance.pk,
        },
    )
    resolve = client.post(
        url,
        {
            "bulk-items": [small.pk, large.pk],
            "bulk-action": "resolve",
            "bulk-resolution": "written_off",
            "bulk-note": "Below the threshold",
        },
        follow=True,
    )

    assert assign.status_code == 302
    small.refresh_from_db()
    large.refresh_from_db()
    assert small.assigned_to == large.assigned_to == personas.broker_finance
    assert (small.resolution, large.resolution) == ("written_off", "")
    page = text(resolve)
    assert "1 exception updated." in page
    assert "12345000000074: A difference of \u2212$186.00 is above the write-off limit" in page


def test_bulk_without_a_resolution_changes_nothing(personas, client_for, portfolio):
    a, _b = portfolio
    item = a.items.get(status="unexpected_on_statement")

    response = client_for(personas.broker_agent).post(
        reverse("statements:worklist"),
        {"bulk-items": [item.pk], "bulk-action": "resolve", "bulk-resolution": ""},
        follow=True,
    )

    assert "Nothing was changed." in text(response)
    item.refresh_from_db()
    assert item.resolution == ""


def test_importer_users_cannot_post_to_the_worklist(personas, client_for, portfolio):
    a, _b = portfolio
    item = a.items.get(status="unexpected_on_statement")

    response = client_for(personas.bam_a).post(
        reverse("statements:worklist"),
        {"bulk-items": [item.pk], "bulk-action": "assign", "bulk-assignee": ""},
    )

    assert response.status_code == 403


# --- The worklist's bulk bar, amounts at risk and assignees --------------------------------------


def at_risk_of(item: ReconciliationItem) -> D:
    """The rule, written out: a line charged twice risks its amount, anything else its difference."""
    if item.status == "duplicate":
        return item.statement_amount or D("0.00")
    return item.difference


def test_a_line_charged_twice_shows_its_amount_and_the_total_at_risk_adds_up(
    personas, client_for, portfolio
):
    a, _b = portfolio
    # As the engine writes them: each duplicate line matches our entry, a difference of 0.00.
    a.items.filter(status="duplicate").update(difference=D("0.00"))
    client = client_for(personas.broker_finance)

    response = client.get(reverse("statements:worklist"))

    items = response.context["items"]
    expected = sum((abs(at_risk_of(i)) for i in items), D("0.00"))
    assert expected > 0
    assert response.context["total_at_risk"] == expected
    assert [i.at_risk for i in items if i.status == "duplicate"] == [D("57.30"), D("57.30")]
    html = text(response)
    assert "$57.30 charged again" in html
    assert f"Total amount at risk: ${expected:,}" in html

    duplicates = client.get(reverse("statements:worklist"), {"status": "duplicate"})
    assert duplicates.context["total_at_risk"] == D("114.60")  # what the filters list
    big = client.get(reverse("statements:worklist"), {"min_amount": "50", "status": "duplicate"})
    assert len(big.context["items"]) == 2  # the amount filter weighs a duplicate by its amount


def test_an_unassigned_exception_says_so_and_dates_do_not_wrap(personas, client_for, portfolio):
    response = client_for(personas.broker_finance).get(reverse("statements:worklist"))
    html = response.content.decode()

    cells = re.findall(r'data-label="Assigned to">(.*?)</td>', html)
    assert len(cells) == len(response.context["items"])
    assert cells.count('<span class="muted">Unassigned</span>') == len(cells) - 1
    assert personas.broker_agent.get_full_name() in html or str(personas.broker_agent) in html
    assert '<span class="nowrap">2025-06-25</span>' in html


def test_the_worklist_has_a_tick_all_box_and_its_script(personas, client_for, portfolio):
    html = client_for(personas.broker_agent).get(reverse("statements:worklist")).content.decode()

    assert re.search(r'<input type="checkbox" name="bulk-all" value="1" id="bulk-all"', html)
    assert '<label for="bulk-all" class="visually-hidden">Tick all 14 exceptions' in html
    assert html.count('name="bulk-listed"') == 14
    assert '<script src="/static/js/tick-all.js" defer></script>' in html


def test_tick_all_without_javascript_applies_to_every_listed_exception(
    personas, client_for, portfolio
):
    _a, _b = portfolio
    client = client_for(personas.broker_finance)
    listed = [i.pk for i in client.get(reverse("statements:worklist")).context["items"]]

    response = client.post(
        reverse("statements:worklist"),
        {
            "bulk-all": "1",
            "bulk-listed": listed,
            "bulk-action": "assign",
            "bulk-assignee": personas.broker_finance.pk,
        },
        follow=True,
    )

    assert f"{len(listed)} exceptions updated." in text(response)
    assigned = ReconciliationItem.objects.filter(pk__in=listed, assigned_to=personas.broker_finance)
    assert assigned.count() == len(listed) == 14


def test_nothing_ticked_says_tick_at_least_one(personas, client_for, portfolio):
    before = list(ReconciliationItem.objects.values_list("pk", "assigned_to_id"))

    response = client_for(personas.broker_agent).post(
        reverse("statements:worklist"),
        {"bulk-action": "assign", "bulk-assignee": personas.broker_agent.pk},
        follow=True,
    )

    page = text(response)
    assert "Tick at least one exception." in page
    assert "This field is required" not in page
    assert list(ReconciliationItem.objects.values_list("pk", "assigned_to_id")) == before


def test_the_worklist_with_its_total_runs_the_same_queries_for_1_or_50_exceptions(
    personas, client_for, account
):
    """One exception, then a full page of 50 of every kind, some assigned: the same queries."""
    client = client_for(personas.broker_agent)
    url = reverse("statements:worklist")
    run = reconciled_statement(account)
    run.items.filter(is_exception=True).exclude(status="missing_on_statement").update(
        resolution="explained"
    )
    with CaptureQueriesContext(connection) as one:
        first = client.get(url)
    assert len(first.context["items"]) == 1
    assert first.context["total_at_risk"] == D("186.00")

    for month in (7, 8, 9, 10):
        more = reconciled_statement(
            account,
            extra_items=10,
            statement=StatementFactory(
                program_account=account, statement_date=dt.date(2025, month, 25)
            ),
        )
        more.items.filter(position__lte=6).update(assigned_to=personas.broker_finance)
    with CaptureQueriesContext(connection) as fifty:
        full = client.get(url)
    assert len(full.context["items"]) == 50
    assert "Unassigned" in full.content.decode() and "charged again" in full.content.decode()
    assert len(one.captured_queries) == len(fifty.captured_queries)
