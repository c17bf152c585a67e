"""Reconciliation pieces for other pages: the statement page's panel (current run, amounts by
status, "Reconcile now", downloads) and the importer page's chart of billed vs declared.

Each checks ``clients.access`` itself and renders nothing for someone without the finance view,
so the pages that include them need no change beyond the one tag.
"""

from __future__ import annotations

from typing import Any

from django import template

from carm_portal.calendar import cbsa_today
from carm_portal.worker_health import worker_health
from clients import access
from clients.access import Perm
from clients.models import Importer
from statements import balance as balances
from statements import charts, reports
from statements.models import ReconciliationRun, Statement
from statements.reconciliation.selectors import current_run

register = template.Library()


@register.inclusion_tag("statements/_reconciliation_panel.html", takes_context=True)
def reconciliation_panel(context: template.Context, statement: Statement) -> dict[str, Any]:
    """The statement's current reconciliation in brief, and the way to (re)run it (three
    queries: the latest run, the current one, its figures)."""
    request = context["request"]
    user = request.user
    importer_id = statement.program_account.importer_id
    if not access.can(user, Perm.VIEW_FINANCE, importer_id):
        return {"show": False}
    latest = (
        ReconciliationRun.objects.filter(statement=statement)
        .select_related("run_by")
        .order_by("-created_at", "-pk")
        .first()
    )
    current = latest if latest is not None and latest.is_current else current_run(statement)
    if current is not None:
        current.statement = statement
    summary = reports.status_summary(current) if current else None
    return {
        "show": True,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "statement": statement,
        "latest": latest,
        "current": current,
        "run": current,
        "summary": summary,
        "chart": charts.status_chart(summary) if summary else None,
        "balance": reports.balance(current) if current else None,
        "statement_balance": balances.check(statement) if current else None,
        "can_manage": access.can(user, Perm.MANAGE_STATEMENTS, importer_id),
        "can_download": access.can(user, Perm.DOWNLOAD_RECONCILIATION, importer_id),
        # A run waits for a worker: staff see whether any is there to take it.
        "worker_health": (
            worker_health()
            if latest is not None and not latest.is_finished and access.is_broker(user)
            else None
        ),
    }


@register.inclusion_tag("statements/_billed_vs_declared.html", takes_context=True)
def billed_vs_declared(context: template.Context, importer: Importer) -> dict[str, Any]:
    """Monthly totals billed by CBSA against those the broker declared, last 12 months."""
    user = context["request"].user
    if not access.can(user, Perm.VIEW_FINANCE, importer):
        return {"show": False}
    return {
        "show": True,
        "importer": importer,
        "chart": charts.billed_vs_declared(importer, today=cbsa_today()),
    }


@register.filter
def status_name(code: str) -> str:
    """``{{ item.status|status_name }}``: the plain name of docs/formats.md."""
    return reports.status_name(code)
