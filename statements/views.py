"""Statement pages: the lists (portfolio and per importer), one statement with its lines and
totals, and the imports (upload, batch page, error CSV). Thin function views; every one goes
through ``clients.access``.

Imports touch many importers at once, so they are for users who may manage statements (the
broker's staff); an importer's people see their own statements, never the batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carm_portal import csv_cells, stored_english
from carm_portal.calendar import cbsa_today, start_of_day
from carm_portal.history import Source, history_entries
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.worker_health import worker_health
from clients import access
from clients.access import Perm
from clients.models import Importer
from clients.portfolio import portfolio_from
from statements import balance as balances
from statements import list_rows, selectors
from statements.due import due_soon_days
from statements.filters_html import filters_html
from statements.forms import LineFilterForm, StatementFilterForm, UploadForm
from statements.importing.batches import import_upload
from statements.importing.problems import AlreadyImported
from statements.models import ImportBatch, Statement, StatementLine
from statements.reconciliation.selectors import pending_statements, reconciled_since

if TYPE_CHECKING:
    from clients.access import AnyUser

PAGE_SIZE = 50
LINES_PAGE_SIZE = 100
ERRORS_PAGE_SIZE = 100
IMPORTER_FIELD = "program_account__importer"


# --- Who may import ---------------------------------------------------------------------------------


def can_import(user: AnyUser) -> bool:
    """Someone who may manage the statements of at least one importer (the broker's staff)."""
    return access.holds_anywhere(user, Perm.MANAGE_STATEMENTS)


def _require_import(user: AnyUser) -> None:
    if not can_import(user):
        raise PermissionDenied(_("Importing statements is for the broker's staff."))


def visible_batches(user: AnyUser) -> QuerySet[ImportBatch]:
    """Broker staff see every batch; anyone else only the batches they sent themselves."""
    return access.uploads_visible_to(
        ImportBatch.objects.select_related("uploaded_by"), user, by_field="uploaded_by"
    )


def _get_batch(user: AnyUser, pk: int) -> ImportBatch:
    try:
        batch = visible_batches(user).get(pk=pk)
    except ImportBatch.DoesNotExist:
        raise Http404(_("Not found.")) from None
    _require_import(user)
    return batch


# --- Statement lists --------------------------------------------------------------------------------


def _statement_list(
    request: HttpRequest,
    statements,
    *,
    importer: Importer | None,
    template: str = "statements/statement_list.html",
) -> HttpResponse:
    today = cbsa_today()
    portfolio = portfolio_from(request.GET, user=request.user)
    statements = portfolio.apply(statements, importer_field=IMPORTER_FIELD)
    dates = selectors.statement_dates(statements)
    form = StatementFilterForm(request.GET or None, dates=dates, with_search=importer is None)
    counts = selectors.worklist_counts(statements, today=today)
    if form.is_bound and form.is_valid():
        statements = selectors.filter_statements(statements, form.cleaned_data, today=today)
        statements = reconciliation_filter(statements, form.cleaned_data)
    statements = statements.select_related("program_account__importer").order_by(
        "-statement_date", "program_account__importer__legal_name", "program_account__bn15", "pk"
    )
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for statement in rows:
        statement.overdue = statement.is_overdue(today)
        statement.due_soon = statement.is_due_soon(today)
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "statements": rows,
            "rows": list_rows.statement_rows(rows, with_importer=importer is None),
            # what the form's HTML depends on besides the language and the query string: the
            # periods offered, the importer (no search; its own "Clear" link), the due-soon days
            "filters": filters_html(
                "statements/_statement_filters.html",
                form,
                depends_on=(tuple(dates), importer.pk if importer else None, due_soon_days()),
                context={"importer": importer},
            ),
            "counts": counts,
            "importer": importer,
            "today": today,
            "portfolio": portfolio,
            "can_import": can_import(request.user),
        },
    )


def reconciliation_filter(statements: QuerySet[Statement], data: dict) -> QuerySet[Statement]:
    """The list's reconciliation filters: ``reconcile=pending`` (what ``reconcile --all-pending``
    would visit) and ``reconciled_since`` (a run that succeeded on or after that day, Eastern)."""
    if data.get("reconcile") == "pending":
        statements = pending_statements(statements)
    if since := data.get("reconciled_since"):
        statements = reconciled_since(statements, start_of_day(since))
    return statements


@login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    """Statements across the portfolio (broker staff) or across one's own importers."""
    statements = access.scope_for(
        Statement.objects.all(), request.user, Perm.VIEW_FINANCE, importer_field=IMPORTER_FIELD
    )
    if not access.holds_anywhere(request.user, Perm.VIEW_FINANCE):
        raise PermissionDenied(_("Your role does not show statements."))
    return _statement_list(request, statements, importer=None)


@login_required
def importer_statements(request: HttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_FINANCE)
    statements = Statement.objects.filter(program_account__importer=importer)
    return _statement_list(request, statements, importer=importer)


# --- One statement ----------------------------------------------------------------------------------


@login_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = access.get_scoped(
        Statement.objects.select_related(
            "program_account__importer", "source_batch", "source_batch__uploaded_by"
        ),
        request.user,
        pk,
        Perm.VIEW_FINANCE,
        importer_field=IMPORTER_FIELD,
    )
    today = cbsa_today()
    totals = selectors.statement_totals(statement)
    line_form = LineFilterForm(request.GET or None)
    lines = StatementLine.objects.filter(statement=statement).order_by("position")
    if line_form.is_valid() and line_form.cleaned_data.get("type"):
        lines = lines.filter(line_type=line_form.cleaned_data["type"])
    if line_form.is_valid() and line_form.cleaned_data.get("transaction"):
        lines = lines.filter(transaction_number=line_form.cleaned_data["transaction"])
    page = Paginator(lines, LINES_PAGE_SIZE).get_page(request.GET.get("page"))
    columns = [(c.name, c.label) for c in totals.components]  # those this statement uses
    rows = list(page.object_list)
    for line in rows:
        line.cells = [getattr(line, name) for name, _label in columns]
    history = history_entries(
        [Source(Statement, Statement.history.filter(id=statement.pk), lambda r: _("Statement"))],
        hidden={"line_count"},
    )
    return render(
        request,
        "statements/statement_detail.html",
        {
            "statement": statement,
            "importer": statement.program_account.importer,
            "totals": totals,
            "check": totals.balance_check(statement),
            "statement_balance": balances.check(statement),
            "page": page,
            "lines": rows,
            "columns": columns,
            "line_form": line_form,
            "today": today,
            "overdue": statement.is_overdue(today),
            "due_soon": statement.is_due_soon(today),
            "can_see_batch": access.is_broker(request.user),
            "history": history,
        },
    )


# --- Imports ----------------------------------------------------------------------------------------


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    _require_import(request.user)
    batches = visible_batches(request.user)
    status = request.GET.get("status", "")
    if status in ImportBatch.Status.values:
        batches = batches.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in ImportBatch.Kind.values:
        batches = batches.filter(kind=kind)
    page = Paginator(batches.defer("errors", "unknown_accounts"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "statements/batch_list.html",
        {
            "page": page,
            "batches": list(page.object_list),
            "status": status,
            "kind": kind,
            "statuses": ImportBatch.Status.choices,
            "kinds": ImportBatch.Kind.choices,
        },
    )


@login_required
def upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_import(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        upload_file = form.cleaned_data["file"]
        try:
            batch, queued = import_upload(kind=kind, upload=upload_file, user=request.user)
        except AlreadyImported as exc:
            messages.warning(request, str(exc))
            return redirect(exc.batch)
        if queued:
            messages.info(
                request,
                _(
                    "Queued — it will start when a worker is available; this page follows its "
                    "progress."
                ),
            )
        elif batch.status == ImportBatch.Status.ACCEPTED:
            messages.success(request, batch.message)
        else:
            messages.error(request, batch.message)
        return redirect(batch)
    return render(
        request,
        "statements/upload.html",
        {"form": form, "inline_limit": settings.STATEMENTS_INLINE_IMPORT_MAX_BYTES},
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch(request.user, pk)
    errors = Paginator(batch.errors, ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    statements = []
    if batch.kind == ImportBatch.Kind.STATEMENT and batch.status == ImportBatch.Status.ACCEPTED:
        statements = list(
            batch.statements.select_related("program_account__importer").order_by(
                "program_account__bn15", "statement_date"
            )[:50]
        )
    return render(
        request,
        "statements/batch_detail.html",
        {
            "batch": batch,
            "page": errors,
            "errors": list(errors.object_list),
            "statements": statements,
            "refresh_seconds": 2 if not batch.is_finished else None,
            "worker_health": (
                worker_health()
                if not batch.is_finished and access.is_broker(request.user)
                else None
            ),
        },
    )


@login_required
def batch_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The error table of a batch as CSV (row, column, value, reason), to fix the file against."""
    batch = _get_batch(request.user, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-errors.csv"'
    writer = csv_cells.writer(response)  # an uploaded value may be a formula: written as text
    writer.writerow(["row", "column", "value", "reason"])
    for error in batch.errors:
        reason = stored_english.translate(error["reason"])  # in the downloader's language
        writer.writerow([error["row"] or "", error["column"], error["value"], reason])
    if batch.hidden_error_count:
        writer.writerow(
            [
                "",
                "",
                "",
                ngettext(
                    "… and %(n)d more problem, not listed.",
                    "… and %(n)d more problems, not listed.",
                    batch.hidden_error_count,
                )
                % {"n": batch.hidden_error_count},
            ]
        )
    return response
