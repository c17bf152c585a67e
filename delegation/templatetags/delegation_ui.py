"""Presentation helpers for delegation pages: the days-left badge, one definition for all pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count, F, Q
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carm_portal.calendar import cbsa_today
from clients import access
from clients.access import Perm
from clients.models import Importer
from delegation.forms import RenewalConfirmForm
from delegation.models import ConfirmationChannel, Delegation, DelegationAlert, RenewalRequest
from delegation.selectors import expiring_within, open_alerts_of, open_renewals

register = template.Library()


@register.simple_tag
def days_left_badge(days: int | None) -> SafeString:
    """Blank date, expired N days ago, or N days left, coloured by urgency (words, not colour alone)."""
    if days is None:
        return format_html('<span class="badge badge--blocking">{}</span>', _("Blank date"))
    if days < 0:
        text = ngettext("Expired %(n)d day ago", "Expired %(n)d days ago", -days) % {"n": -days}
        return format_html('<span class="badge badge--expired">{}</span>', text)
    text = ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    kind = "blocking" if days <= 7 else "warning" if days <= 30 else "ok"
    return format_html('<span class="badge badge--{}">{}</span>', kind, text)


@register.inclusion_tag("delegation/_importer_panel.html", takes_context=True)
def delegation_panel(
    context: template.Context,
    importer: Importer,
    alerts: list[DelegationAlert] | None = None,
    renewals: list[RenewalRequest] | None = None,
) -> dict[str, Any]:
    """The importer's delegations, open alerts and renewal requests, for its detail and home pages.

    A template tag so the clients app, which the delegation app builds on, needs no import of it.
    ``alerts`` and ``renewals``: the importer's open ones when the page has read them already
    (the importer's home, for its attention card), so the panel does not read them again.
    """
    request = context["request"]
    user = request.user
    today = cbsa_today()
    delegations = list(
        importer.delegations.order_by(F("expiry_date").desc(nulls_first=True), "-id")
    )
    importer_alerts = open_alerts_of(importer, delegations, alerts=alerts)
    for d in delegations:
        d.days = d.days_left(today)
    if renewals is None:
        renewals = open_renewals([importer.pk])
    active = [d for d in delegations if d.status == Delegation.Status.ACTIVE]
    return {
        "request": request,
        "importer": importer,
        "delegations": delegations,
        "current": active[0] if active else (delegations[0] if delegations else None),
        "importer_alerts": importer_alerts,
        "renewals": renewals,
        "can_manage": access.can(user, Perm.MANAGE_DELEGATION, importer),
        "can_confirm": access.can(user, Perm.CONFIRM_DELEGATION, importer),
        "to_bam": access.acts_in_ccp(user, importer),
        # broker staff confirm on the importer's word: they also say who and how
        "on_behalf": access.is_broker(user),
        "channels": ConfirmationChannel.choices,
        "confirm_form": RenewalConfirmForm(today=today),
    }


@register.inclusion_tag("delegation/_dashboard_summary.html", takes_context=True)
def delegation_summary(context: template.Context) -> dict[str, Any]:
    """Open delegation alerts by severity and the expiry calendar, for the broker's dashboard."""
    user = context["request"].user
    today = cbsa_today()
    alerts = access.scope(DelegationAlert.objects.filter(resolved_at=None), user)
    by_severity = dict(
        alerts.values_list("severity").annotate(n=Count("id")).values_list("severity", "n")
    )
    active = access.scope(Delegation.objects.filter(status=Delegation.Status.ACTIVE), user)
    windows = [(7, _("7 days")), (30, _("30 days")), (90, _("90 days"))]
    expiring = active.aggregate(
        **{
            f"within_{days}": Count(
                "id",
                filter=expiring_within(today=today, days=days),
            )
            for days, _label in windows
        },
        blank=Count("id", filter=Q(expiry_date=None)),
    )
    return {
        "severities": [
            (value, label, by_severity.get(value, 0))
            for value, label in DelegationAlert.Severity.choices
        ],
        "windows": [(days, label, expiring[f"within_{days}"]) for days, label in windows],
        "blank": expiring["blank"],
    }
