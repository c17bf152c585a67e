"""Reconciliation pages: start a run, a run's page (summary, chart, balance check, items, live
progress), an item with its workflow, the downloads (PDF, CSV) and the portfolio worklist.

Thin function views. Every one goes through ``clients.access``: the pages need the finance view
of the statement's importer, starting a run and working exceptions need ``MANAGE_STATEMENTS``,
the downloads ``DOWNLOAD_RECONCILIATION`` (finance teams only), the worklist the broker's
portfolio view. Figures come from ``statements/reports.py``, charts from ``statements/charts.py``,
changes from ``statements/workflow.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from carm_portal.calendar import cbsa_today
from carm_portal.history import Source, history_entries
from carm_portal.http import AuthenticatedHttpRequest, HtmxHttpRequest
from carm_portal.money import ZERO
from carm_portal.pagination import CountedPaginator
from carm_portal.worker_health import worker_health
from clients import access
from clients.access import GlobalPerm, Perm
from clients.portfolio import portfolio_from
from statements import balance as balances
from statements import charts, list_rows, reports, workflow
from statements.filters_html import filters_html, remembered
from statements.models import (
    COMPONENT_LABELS,
    COMPONENTS,
    BrokerEntry,
    ReconciliationComment,
    ReconciliationItem,
    ReconciliationRun,
    Statement,
    StatementLine,
)
from statements.reconciliation.runs import start_reconciliation
from statements.reconciliation.selectors import (
    count_and_total_at_risk,
    current_run,
    live_run,
    open_exceptions,
    with_amount_at_risk,
)
from statements.reconciliation_forms import (
    AssignForm,
    BulkForm,
    CommentForm,
    ResolveForm,
    WorklistForm,
    filter_worklist,
)

IMPORTER_FIELD = "program_account__importer"
ITEMS_PAGE_SIZE = 50
WORKLIST_PAGE_SIZE = 50
RUNS_SHOWN = 10
LINES_PAGE_SIZE = 100  # as the statement page (statements/views.py)
Status = ReconciliationRun.Status
PdfStatus = ReconciliationRun.PdfStatus


# --- Lookups ---------------------------------------------------------------------------------------


def get_statement(request: HttpRequest, pk: int, perm: Perm = Perm.VIEW_FINANCE) -> Statement:
    """The statement if the user may see its importer (else 404) and holds ``perm`` (else 403)."""
    return access.get_scoped(
        Statement.objects.select_related("program_account__importer"),
        request.user,
        pk,
        perm,
        importer_field=IMPORTER_FIELD,
    )


def get_run(statement: Statement, run_pk: int) -> ReconciliationRun:
    try:
        run = ReconciliationRun.objects.select_related("run_by").get(pk=run_pk, statement=statement)
    except ReconciliationRun.DoesNotExist:
        raise Http404(_("Not found.")) from None
    run.statement = statement
    return run


def permissions(request: HttpRequest, statement: Statement) -> dict[str, bool]:
    importer_id = statement.program_account.importer_id
    return {
        "can_manage": access.can(request.user, Perm.MANAGE_STATEMENTS, importer_id),
        "can_download": access.can(request.user, Perm.DOWNLOAD_RECONCILIATION, importer_id),
    }


# --- Starting a run --------------------------------------------------------------------------------


@login_required
@require_POST
def reconcile(request: AuthenticatedHttpRequest, statement_pk: int) -> HttpResponse:
    """Queue a reconciliation of the statement (a worker runs it; the run page follows it)."""
    statement = get_statement(request, statement_pk, Perm.MANAGE_STATEMENTS)
    live = live_run(statement)  # queued, or running and not left behind by a dead worker
    if live is not None:
        messages.info(request, _("A reconciliation of this statement is already under way."))
        return redirect(live)
    run = start_reconciliation(
        statement=statement, run_by=request.user, trigger=ReconciliationRun.Trigger.PAGE
    )
    messages.success(
        request,
        _(
            "Queued — it will start when a worker is available; this page follows it until it "
            "is done."
        ),
    )
    return redirect(run)


# --- A run -----------------------------------------------------------------------------------------


@login_required
def run_current(request: HttpRequest, statement_pk: int) -> HttpResponse:
    """The statement's current run (the latest that succeeded), or the statement if none."""
    statement = get_statement(request, statement_pk)
    run = current_run(statement)
    if run is None:
        messages.info(request, _("This statement has not been reconciled yet."))
        return redirect(statement)
    return redirect(run)


def _status_filter(request: HttpRequest) -> str:
    """``exceptions`` (default), ``all`` or one status code."""
    value = request.GET.get("status", "exceptions")
    if value in ("all", "exceptions") or value in reports.STATUS_ORDER:
        return value
    return "exceptions"


@login_required
def run_detail(request: HttpRequest, statement_pk: int, run_pk: int) -> HttpResponse:
    statement = get_statement(request, statement_pk)
    run = get_run(statement, run_pk)
    context: dict[str, Any] = {
        "statement": statement,
        "importer": statement.program_account.importer,
        "run": run,
        **permissions(request, statement),
    }
    runs = list(
        ReconciliationRun.objects.filter(statement=statement)
        .select_related("run_by")
        .order_by("-created_at", "-pk")[:RUNS_SHOWN]
    )
    context["runs"] = runs
    if not run.is_finished and access.is_broker(request.user):
        context["worker_health"] = worker_health()  # is any worker there to take it?
    context["current"] = next((r for r in runs if r.is_current), None) or (
        current_run(statement) if not run.is_current else run
    )
    if run.status == Status.SUCCEEDED:
        summary = reports.status_summary(run)
        shown = _status_filter(request)
        items = ReconciliationItem.objects.filter(run=run)
        if shown == "exceptions":
            items = items.filter(is_exception=True)
        elif shown != "all":
            items = items.filter(status=shown)
        items = (
            items.annotate(status_rank=reports.status_order())
            .select_related("assigned_to")
            .order_by("status_rank", "position")
        )
        page = Paginator(items, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        for item in rows:
            item.status_label = reports.status_name(item.status)
            item.components_text = reports.components_text(item.components_differing)
        statement_balance = balances.check(statement)
        context.update(
            summary=summary,
            chart=charts.status_chart(summary),
            balance=reports.balance(run),
            statement_balance=statement_balance,
            exception_total=summary.exception_count,
            shown=shown,
            page=page,
            items=rows,
            filters=[("exceptions", _("Exceptions"), summary.exception_count)]
            + [(row.code, row.label, row.count) for row in summary.present]
            + [("all", _("All items"), summary.item_count)],
        )
    return render(request, "statements/reconciliation_run.html", context)


@login_required
def run_progress(request: HtmxHttpRequest, statement_pk: int, run_pk: int) -> HttpResponse:
    """The progress box, polled by HTMX while the run is queued or running; once it has ended
    the page reloads itself to show the result."""
    statement = get_statement(request, statement_pk)
    run = get_run(statement, run_pk)
    if not request.htmx:
        return redirect(run)
    if run.is_finished:
        return HttpResponseClientRefresh()
    return render(request, "statements/_reconciliation_progress.html", {"run": run})


# --- Downloads -------------------------------------------------------------------------------------


def _finished_run(request: HttpRequest, statement_pk: int, run_pk: int) -> ReconciliationRun:
    statement = get_statement(request, statement_pk, Perm.DOWNLOAD_RECONCILIATION)
    run = get_run(statement, run_pk)
    if run.status != Status.SUCCEEDED:
        raise Http404(_("This run has no report: it did not complete."))
    return run


def _enqueue_pdf(run: ReconciliationRun) -> None:
    if reports.request_pdf(run):
        reports.dispatch_pdf_on_commit(run.pk)


@login_required
def run_pdf(request: HtmxHttpRequest, statement_pk: int, run_pk: int) -> HttpResponseBase:
    """The PDF report: rendered at once for a small run; a large one by a worker, this page
    saying so (and following it) until the file is ready to download."""
    run = _finished_run(request, statement_pk, run_pk)
    filename = reports.csv_filename(run, "pdf")
    if not reports.is_large(run):
        data, _rendered = reports.fresh_or_new_pdf(run, user=request.user)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    fresh = reports.stored_pdf_is_fresh(run)
    if fresh and not request.htmx and request.method == "GET":
        return FileResponse(
            run.pdf_file.open("rb"),
            as_attachment=True,
            filename=filename,
            content_type="application/pdf",
        )
    if not fresh and (request.method == "POST" or run.pdf_status != PdfStatus.FAILED):
        _enqueue_pdf(run)  # once: a render already queued or under way is left to finish
    if request.method == "POST":
        return redirect("statements:reconciliation_pdf", run.statement_id, run.pk)
    context = {
        "run": run,
        "statement": run.statement,
        "importer": run.statement.program_account.importer,
    }
    if request.htmx:
        return render(request, "statements/_reconciliation_pdf_status.html", context)
    return render(request, "statements/reconciliation_pdf_wait.html", context)


@login_required
def run_csv(request: HttpRequest, statement_pk: int, run_pk: int) -> StreamingHttpResponse:
    """The CSV export (docs/formats.md), streamed: a run of a million items never sits in memory."""
    run = _finished_run(request, statement_pk, run_pk)
    response = StreamingHttpResponse(reports.csv_lines(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{reports.csv_filename(run, "csv")}"'
    return response


# --- An item and its workflow ---------------------------------------------------------------------


FORMS = {"assign": AssignForm, "comment": CommentForm, "resolve": ResolveForm}


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _component_rows(item: ReconciliationItem) -> list[dict[str, Any]]:
    """Each component the line or the entry uses: both values, the difference, whether it differs.

    Read from the line and the entry themselves; from the item's record of the differing
    components where one of them is gone."""
    line, entry = item.statement_line, item.entry
    differing = item.components_differing or {}
    rows = []
    for name in COMPONENTS:
        recorded = differing.get(name) or {}
        ours = getattr(line, name) if line is not None else _decimal(recorded.get("statement"))
        theirs = getattr(entry, name) if entry is not None else _decimal(recorded.get("entry"))
        if not ours and not theirs and name not in differing:
            continue
        rows.append(
            {
                "name": name,
                "label": COMPONENT_LABELS[name],
                "statement": ours,
                "entry": theirs,
                "difference": (ours or ZERO) - (theirs or ZERO),
                "differs": name in differing,
            }
        )
    return rows


@login_required
def item_detail(request: AuthenticatedHttpRequest, statement_pk: int, item_pk: int) -> HttpResponse:
    statement = get_statement(request, statement_pk)
    try:
        item = ReconciliationItem.objects.select_related(
            "run__run_by", "statement_line", "entry", "assigned_to", "resolved_by"
        ).get(pk=item_pk, statement=statement)
    except ReconciliationItem.DoesNotExist:
        raise Http404(_("Not found.")) from None
    item.statement = statement
    perms = permissions(request, statement)
    bound: dict[str, Any] = {}
    if request.method == "POST":
        access.require(request.user, Perm.MANAGE_STATEMENTS, statement.program_account.importer_id)
        if not workflow.can_work(item):
            messages.error(
                request,
                _("This item can no longer be changed: work on the statement's current run."),
            )
            return redirect(request.path)
        action = request.POST.get("action", "")
        try:
            if action == "reopen":
                workflow.reopen(item, user=request.user)
                messages.success(request, _("The item is open again."))
                return redirect(request.path)
            if action not in FORMS:
                raise Http404(_("Unknown action."))
            form = FORMS[action](request.POST, prefix=action)
            bound[action] = form
            if form.is_valid():
                data = form.cleaned_data
                if action == "assign":
                    workflow.assign(item, user=request.user, assignee=data["assignee"])
                    messages.success(request, _("Assignment saved."))
                elif action == "comment":
                    workflow.comment(item, user=request.user, text=data["text"])
                    messages.success(request, _("Comment added."))
                else:
                    workflow.resolve(
                        item, user=request.user, resolution=data["resolution"], note=data["note"]
                    )
                    messages.success(request, _("The item is resolved."))
                return redirect(request.path)
        except workflow.WorkflowError as exc:
            form = bound.get(action)
            if form is None:
                messages.error(request, exc.message)
                return redirect(request.path)
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    forms = {
        "assign": bound.get("assign")
        or AssignForm(prefix="assign", initial={"assignee": item.assigned_to_id}),
        "comment": bound.get("comment") or CommentForm(prefix="comment"),
        "resolve": bound.get("resolve")
        or ResolveForm(
            prefix="resolve", initial={"resolution": item.resolution, "note": item.note}
        ),
    }
    line_link = None
    if item.statement_line_id and item.statement_line is not None:
        before = StatementLine.objects.filter(
            statement=statement, position__lt=item.statement_line.position
        ).count()
        page = before // LINES_PAGE_SIZE + 1
        line_link = (
            f"{statement.get_absolute_url()}?page={page}#line-{item.statement_line.position}"
        )
    versions = []
    if item.transaction_number and item.line_type in ("CAD", "ADJUSTMENT", ""):
        versions = list(
            BrokerEntry.objects.filter(
                program_account_id=statement.program_account_id,
                transaction_number=item.transaction_number,
            ).order_by("version")
        )
    same_finding = ReconciliationItem.objects.filter(run__statement=statement, key=item.key).values(
        "pk"
    )
    history = history_entries(
        [
            Source(
                ReconciliationItem,
                ReconciliationItem.history.filter(id__in=same_finding),
                lambda r: _("Item"),
            )
        ],
        hidden={"position", "first_seen_at", "run", "statement", "importer", "resolved_at"},
    )
    comments = list(
        ReconciliationComment.objects.filter(statement=statement, key=item.key).select_related(
            "author"
        )
    )
    return render(
        request,
        "statements/reconciliation_item.html",
        {
            "statement": statement,
            "importer": statement.program_account.importer,
            "run": item.run,
            "item": item,
            "status_label": reports.status_name(item.status),
            "status_help": reports.STATUS_HELP.get(item.status, ""),
            "components": _component_rows(item),
            "line_link": line_link,
            "versions": versions,
            "comments": comments,
            "history": history,
            "forms": forms,
            "workable": workflow.can_work(item),
            "write_off_limit": settings.RECONCILIATION_WRITE_OFF_LIMIT,
            **perms,
        },
        status=200,
    )


# --- The portfolio worklist ------------------------------------------------------------------------


SORTS = {
    "age": ("first_seen_at", "pk"),
    "-age": ("-first_seen_at", "-pk"),
    "amount": ("-abs_at_risk", "first_seen_at", "pk"),
    "importer": ("importer__legal_name", "first_seen_at", "pk"),
}


@login_required
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open exceptions of the current runs across the portfolio (broker staff; importer users get
    the 403 of every broker-only page)."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    today = cbsa_today()
    portfolio = portfolio_from(request.GET, user=request.user)
    items = portfolio.apply(
        access.scope_for(
            open_exceptions(),
            request.user,
            Perm.VIEW_FINANCE,
        )
    )
    if request.method == "POST":
        return _bulk(request, items)
    staff = list(access.broker_staff())  # both forms' lists of people: one query
    staff_key = tuple((person.pk, str(person)) for person in staff)  # what their HTML shows
    form = WorklistForm(request.GET or None, staff=staff)
    sort = "age"
    if form.is_bound and form.is_valid():
        items = filter_worklist(items, form.cleaned_data, user=request.user, today=today)
        sort = form.cleaned_data.get("sort") or "age"
    # Of everything the filters list, not only this page; the count serves the paginator.
    listed, at_risk = count_and_total_at_risk(items)
    items = (
        with_amount_at_risk(items)
        .select_related("importer", "statement__program_account", "assigned_to")
        .order_by(*SORTS[sort])
    )
    page = CountedPaginator(items, WORKLIST_PAGE_SIZE, count=listed).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    for item in rows:
        item.status_label = reports.status_name(item.status)
        item.age_days = (today - timezone.localtime(item.first_seen_at).date()).days
        # The tick box's spoken name, here rather than a {% blocktranslate %} per row.
        item.tick_label = _("Tick %(what)s of %(importer)s") % {
            "what": item.transaction_number or item.key,
            "importer": item.importer.legal_name,
        }
    return render(
        request,
        "statements/reconciliation_worklist.html",
        {
            "form": form,
            # The bulk actions' fieldset: the same for every page in a language and staff list.
            "bulk_fields": remembered(
                ("statements/_worklist_bulk.html", get_language(), staff_key),
                lambda: worklist_bulk_fields(staff),
            ),
            "page": page,
            "total_at_risk": at_risk,
            "items": rows,
            "rows": list_rows.worklist_rows(rows),
            # the form's HTML depends on the language, the query string and the staff listed
            "filters": filters_html(
                "statements/_worklist_filters.html",
                form,
                depends_on=staff_key,
            ),
            "listed": list_rows.listed_inputs(rows),
            "today": today,
            "sort": sort,
            "portfolio": portfolio,
            "balance_differences": balance_differences(request),
        },
    )


def worklist_bulk_fields(staff: list[Any]) -> SafeString:
    """The worklist's bulk actions (``_worklist_bulk.html``) for an unbound ``BulkForm`` listing
    ``staff``; without the partial's last newline, which the page writes itself."""
    html = render_to_string(
        "statements/_worklist_bulk.html", {"bulk": BulkForm(prefix="bulk", staff=staff)}
    )
    return mark_safe(html.removesuffix("\n"))  # noqa: S308  # rendered (and escaped) by the engine


def balance_differences(
    request: AuthenticatedHttpRequest, limit: int = WORKLIST_PAGE_SIZE
) -> list[Any]:
    """Reconciled statements (a current run) whose balance check finds a difference, with the
    check and the current run: exceptions to explain beside the items (statements/balance.py),
    oldest first. Read off ``Statement.balance_differs`` (kept by whoever writes statements), the
    check's figures for the rows shown only: one query, whatever the number of statements."""
    current = ReconciliationRun.objects.filter(statement=OuterRef("pk"), is_current=True)
    statements = access.scope_for(
        Statement.objects.filter(balance_differs=True),
        request.user,
        Perm.VIEW_FINANCE,
        importer_field=IMPORTER_FIELD,
    )
    reconciled = ReconciliationRun.objects.filter(is_current=True).values("statement_id")
    rows: list[Any] = list(
        balances.with_previous_closing(statements.filter(pk__in=reconciled))
        .annotate(current_run_id=Subquery(current.values("pk")[:1]))
        .select_related("program_account__importer")
        .order_by("statement_date", "pk")[:limit]
    )
    for statement in rows:
        statement.balance_check = balances.check(statement)  # from the annotations: no query
    return rows


def _bulk(request: AuthenticatedHttpRequest, items) -> HttpResponse:
    """Assign or resolve the ticked exceptions at once; each goes through the workflow's rules,
    and the message says how many were done and why any were not."""
    back = request.get_full_path()
    # "Tick all": the exceptions the page listed (sent with it), without JavaScript; with it,
    # the script ticks each row's box as well. Either way only scoped items are touched below.
    ticked = "bulk-listed" if request.POST.get("bulk-all") else "bulk-items"
    ids = [int(v) for v in request.POST.getlist(ticked) if v.isdigit()]
    if not ids:
        messages.error(request, _("Nothing was changed. Tick at least one exception."))
        return redirect(back)
    posted = request.POST.copy()
    posted.setlist("bulk-items", [str(pk) for pk in ids])
    form = BulkForm(posted, prefix="bulk", ids=ids)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label}: {errors[0]}" if name in form.fields else str(errors[0])
            for name, errors in form.errors.items()
        )
        messages.error(request, _("Nothing was changed. %(problems)s") % {"problems": problems})
        return redirect(back)
    data = form.cleaned_data
    done, refused = 0, []
    for item in items.filter(pk__in=data["items"]).select_related("run").order_by("pk"):
        try:
            if data["action"] == "assign":
                workflow.assign(item, user=request.user, assignee=data["assignee"])
            else:
                workflow.resolve(
                    item, user=request.user, resolution=data["resolution"], note=data["note"]
                )
            done += 1
        except workflow.WorkflowError as exc:
            refused.append(f"{item.transaction_number or item.key}: {exc.message}")
        except PermissionDenied:
            refused.append(f"{item.transaction_number or item.key}: {_('not allowed')}")
    if done:
        messages.success(
            request,
            ngettext("%(n)d exception updated.", "%(n)d exceptions updated.", done) % {"n": done},
        )
    if refused:
        messages.error(request, _("Not changed: %(list)s") % {"list": "; ".join(refused[:10])})
    return redirect(back)
