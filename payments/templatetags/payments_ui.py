"""Payment pieces for other apps' pages: the importer's payments and security panel (with its
chart), the paid / outstanding / overdue box of a statement, the nav link. (Money is formatted by
the ``money`` filter every template has: ``carm_portal/templatetags/formatting.py``.)

Template tags, so the clients and statements apps, which payments builds on, import nothing of it.
Each checks ``clients.access`` itself and renders nothing for someone without the finance view.
"""

from __future__ import annotations

from typing import Any

from django import template

from carm_portal.calendar import cbsa_today
from carm_portal.severity import severity_rank
from clients import access
from clients.access import Perm
from clients.models import Importer, ProgramAccount
from payments.models import Payment, PaymentAlert
from payments.rules import kind_label
from payments.selectors import (
    AccountSecurity,
    account_securities,
    owing_statements,
    statement_position,
    unapplied,
    with_allocated,
)
from statements.models import Statement

register = template.Library()

PANEL_STATEMENTS = 6
PANEL_PAYMENTS = 5


@register.simple_tag(takes_context=True)
def payments_visible(context: template.Context) -> bool:
    """Whether the signed-in user sees payments anywhere (for the nav link); no query for them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return access.holds_anywhere(user, Perm.VIEW_FINANCE)


@register.inclusion_tag("payments/_importer_panel.html", takes_context=True)
def payments_panel(
    context: template.Context, importer: Importer, alerts: list[PaymentAlert] | None = None
) -> dict[str, Any]:
    """Security per RM account (with its chart), statements still owing, recent payments, alerts.

    ``alerts``: the importer's open payment alerts when the page has read them already (the
    importer's home, for its attention card), so the panel does not read them again.
    """
    request = context["request"]
    user = request.user
    if not access.can(user, Perm.VIEW_FINANCE, importer):
        return {"show": False}
    today = cbsa_today()
    # The importer's pages have prefetched its accounts: no second query for them here.
    accounts = sorted(importer.program_accounts.all(), key=lambda a: a.bn15)
    active = [a for a in accounts if a.status == ProgramAccount.Status.ACTIVE]
    positions: list[AccountSecurity] = list(
        account_securities(active, today=today, with_chart=True).values()
    )
    owing = owing_statements([a.pk for a in accounts], today=today, limit=PANEL_STATEMENTS)
    payments = list(
        with_allocated(
            Payment.objects.filter(importer=importer).select_related("program_account")
        ).order_by("-paid_on", "-id")[:PANEL_PAYMENTS]
    )
    for payment in payments:
        payment.unapplied = unapplied(payment)
    if alerts is None:
        alerts = list(PaymentAlert.objects.filter(importer=importer, resolved_at=None))
    alerts = sorted(alerts, key=lambda a: (severity_rank(a.severity), a.deadline or today, a.pk))
    for alert in alerts:
        alert.label = kind_label(alert.kind)
    return {
        "show": True,
        "request": request,
        "importer": importer,
        "positions": positions,
        "owing": owing,
        "payments": payments,
        "alerts": alerts,
        "today": today,
        "can_manage": access.can(user, Perm.MANAGE_PAYMENTS, importer),
        "can_see_bank": access.can(user, Perm.VIEW_FINANCE, importer),
    }


@register.inclusion_tag("payments/_security_chart.html")
def security_chart(position: AccountSecurity) -> dict[str, Any]:
    """Monthly totals owed against the security's coverage line: SVG, with a table as its text."""
    return {"position": position, "chart": position.chart, "account": position.account}


@register.inclusion_tag("payments/_statement_payments.html", takes_context=True)
def statement_payments(context: template.Context, statement: Statement) -> dict[str, Any]:
    """Paid (cleared and in transit), outstanding, overdue and the interest estimate of a statement."""
    request = context["request"]
    user = request.user
    importer_id = statement.program_account.importer_id
    if not access.can(user, Perm.VIEW_FINANCE, importer_id):
        return {"show": False}
    today = cbsa_today()
    position = statement_position(statement, today=today)
    return {
        "show": True,
        "statement": statement,
        "position": position,
        "today": today,
        "can_manage": access.can(user, Perm.MANAGE_PAYMENTS, importer_id),
        "importer_id": importer_id,
    }
