"""Delegation pages: the portfolio list, one delegation with its story, the forms, the renewal flow
and the open alerts. Thin function views; every one goes through ``clients.access``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    F,
    QuerySet,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.calendar import cbsa_today
from carm_portal.history import Source, history_entries
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.severity import severity_order
from clients import access
from clients.access import Perm
from clients.portfolio import portfolio_from
from delegation.checks import load_facts
from delegation.forms import (
    DelegationFilterForm,
    DelegationForm,
    RenewalConfirmForm,
    RenewalRequestForm,
)
from delegation.models import Delegation, DelegationAlert, RenewalRequest
from delegation.records import (
    RenewalError,
    cancel_renewal,
    confirm_renewal,
    request_renewal,
    save_delegation,
)
from delegation.rules import Kind, Thresholds, evaluate_importer, kind_family, kind_label
from delegation.selectors import (
    family_match,
    filter_delegations,
    listed_bn15,
    open_alert_badges,
)

PAGE_SIZE = 50

#: What a row of the list shows (``delegation/templatetags/delegation_rows.py``): compiling and
#: reading the importer's and the agent's other 30 columns for 50 rows cost more Python than
#: the rows' own markup.
LIST_COLUMNS = (
    "importer",
    "relationship",
    "authority",
    "status",
    "expiry_date",
    "importer__legal_name",
    "importer__bn9",
    "importer__assigned_agent__full_name",
    "importer__assigned_agent__email",
)


def _label_alerts(alerts: list[DelegationAlert]) -> list[DelegationAlert]:
    for alert in alerts:
        alert.label = kind_label(alert.kind)
    return alerts


def _filter_and_sort(
    queryset: QuerySet[Delegation], form: DelegationFilterForm, today: dt.date
) -> QuerySet[Delegation]:
    if not form.is_valid():
        return queryset
    data = form.cleaned_data
    queryset = filter_delegations(
        queryset,
        today=today,
        q=data.get("q") or "",
        status=data.get("status") or "",
        finding=data.get("finding") or "",
        expiring_within_days=data.get("expiring_within"),
        agent=data.get("agent"),
        renewal_open=data.get("renewal") == "open",
    )
    sort = data.get("sort") or "expiry"
    order = {
        "expiry": ["expiry_date", "importer__legal_name", "id"],
        "-expiry": ["-expiry_date", "importer__legal_name", "id"],
        "importer": ["importer__legal_name", "expiry_date", "id"],
    }[sort]
    if sort == "expiry":
        return queryset.order_by(F("expiry_date").asc(nulls_first=True), *order[1:])
    return queryset.order_by(*order)


@login_required
def delegation_list(request: HttpRequest) -> HttpResponse:
    today = cbsa_today()
    is_broker = access.is_broker(request.user)
    form = DelegationFilterForm(
        request.GET or None, agents=access.assignable_agents() if is_broker else None
    )
    portfolio = portfolio_from(request.GET, user=request.user)
    queryset = (
        portfolio.apply(access.scope(Delegation.objects.all(), request.user))
        .select_related("importer", "importer__assigned_agent")
        .only(*LIST_COLUMNS)
    )
    queryset = _filter_and_sort(queryset, form, today)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    delegations = list(page.object_list)
    # What the rows show of the alerts and accounts, not model instances: a query each.
    ids = [d.pk for d in delegations]
    alert_badges, accounts = open_alert_badges(ids), listed_bn15(ids)
    for d in delegations:
        d.days = d.days_left(today)
        d.alert_badges = alert_badges[d.pk]
        d.listed_bn15 = accounts[d.pk]
    counts = dict(
        access.scope(DelegationAlert.objects.filter(resolved_at=None), request.user)
        .values_list("severity")
        .annotate(n=Count("id"))
        .values_list("severity", "n")
    )
    return render(
        request,
        "delegation/delegation_list.html",
        {
            "form": form,
            "page": page,
            "delegations": delegations,
            "today": today,
            "alert_counts": counts,
            "is_broker": is_broker,
            "portfolio": portfolio,
        },
    )


def _delegation_history(delegation: Delegation) -> list:
    return history_entries(
        [
            Source(
                Delegation,
                Delegation.history.filter(id=delegation.pk),
                lambda r: _("Delegation"),
            ),
            Source(
                RenewalRequest,
                RenewalRequest.history.filter(delegation_id=delegation.pk),
                lambda r: _("Renewal request to %(day)s") % {"day": r.requested_expiry_date},
            ),
            Source(
                DelegationAlert,
                DelegationAlert.history.filter(delegation_id=delegation.pk),
                lambda r: _("Alert “%(kind)s”") % {"kind": kind_label(r.kind)},
            ),
        ],
        hidden={"key", "message", "blank_expiry_confirmed", "raised_on"},
    )


def _live_findings(delegation: Delegation, today: dt.date) -> list:
    importers, delegations = load_facts([delegation.importer_id])
    findings = evaluate_importer(
        importers[delegation.importer_id],
        delegations.get(delegation.importer_id, []),
        today=today,
        thresholds=Thresholds.from_settings(),
    )
    return [f for f in findings if f.delegation_id == delegation.pk]


@login_required
def delegation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = access.get_scoped(
        Delegation.objects.select_related("importer", "recorded_by"), request.user, pk
    )
    today = cbsa_today()
    findings = _live_findings(delegation, today)
    renewals = list(
        delegation.renewals.select_related("requested_by", "confirmed_by").order_by("-requested_at")
    )
    open_renewal = next((r for r in renewals if r.status == RenewalRequest.Status.OPEN), None)
    user = request.user
    context = {
        "delegation": delegation,
        "importer": delegation.importer,
        "today": today,
        "days_left": delegation.days_left(today),
        "accounts": list(delegation.program_accounts.order_by("bn15")),
        "findings": findings,
        "alerts": _label_alerts(
            list(delegation.alerts.order_by(F("resolved_at").desc(nulls_first=True), "-raised_at"))
        ),
        "renewals": renewals,
        "open_renewal": open_renewal,
        "can_manage": access.can(user, Perm.MANAGE_DELEGATION, delegation.importer_id),
        "can_confirm": access.can(user, Perm.CONFIRM_DELEGATION, delegation.importer_id),
        "to_bam": access.acts_in_ccp(user, delegation.importer_id),
        "renewal_form": RenewalRequestForm(
            initial={"requested_expiry_date": today + dt.timedelta(days=365)}, today=today
        ),
        "confirm_form": RenewalConfirmForm(
            on_behalf=access.is_broker(user),
            initial={
                "confirmed_expiry_date": open_renewal.requested_expiry_date
                if open_renewal
                else None
            },
            today=today,
        ),
        "history": _delegation_history(delegation),
        "history_lead": _("Every change to this delegation, its renewal requests and its alerts."),
    }
    return render(request, "delegation/delegation_detail.html", context)


@login_required
def delegation_create(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.MANAGE_DELEGATION)
    form = DelegationForm(
        request.POST or None,
        importer=importer,
        initial={"requested_on": cbsa_today(), "status": Delegation.Status.REQUESTED},
    )
    if request.method == "POST" and form.is_valid():
        delegation = save_delegation(form=form, by=request.user)
        messages.success(request, _("Delegation recorded."))
        return redirect(delegation)
    return render(
        request,
        "delegation/delegation_form.html",
        {"form": form, "importer": importer, "title": _("Record a delegation")},
    )


@login_required
def delegation_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    delegation = access.get_scoped(
        Delegation.objects.select_related("importer"), request.user, pk, Perm.MANAGE_DELEGATION
    )
    form = DelegationForm(request.POST or None, instance=delegation, importer=delegation.importer)
    if request.method == "POST" and form.is_valid():
        save_delegation(form=form, by=request.user)
        messages.success(request, _("Delegation updated."))
        return redirect(delegation)
    return render(
        request,
        "delegation/delegation_form.html",
        {
            "form": form,
            "importer": delegation.importer,
            "delegation": delegation,
            "title": _("Edit the delegation"),
        },
    )


@login_required
@require_POST
def renewal_request(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    delegation = access.get_scoped(
        Delegation.objects.select_related("importer"), request.user, pk, Perm.MANAGE_DELEGATION
    )
    form = RenewalRequestForm(request.POST)
    if form.is_valid():
        try:
            request_renewal(
                delegation=delegation,
                expiry_date=form.cleaned_data["requested_expiry_date"],
                message=form.cleaned_data["message"],
                by=request.user,
            )
        except RenewalError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Renewal requested: the importer's BAM sees it on their home page.")
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))  # ErrorList items are str at runtime
    return redirect(delegation)


def _renewal(request: HttpRequest, pk: int, perm: Perm) -> RenewalRequest:
    return access.get_scoped(
        RenewalRequest.objects.select_related("delegation", "delegation__importer"),
        request.user,
        pk,
        perm,
        importer_field="delegation__importer",
    )


@login_required
@require_POST
def renewal_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    renewal = _renewal(request, pk, Perm.CONFIRM_DELEGATION)
    form = RenewalConfirmForm(request.POST, on_behalf=access.is_broker(request.user))
    if form.is_valid():
        try:
            confirm_renewal(
                renewal=renewal,
                expiry_date=form.cleaned_data["confirmed_expiry_date"],
                by=request.user,
                importer_person=form.cleaned_data.get("importer_person", ""),
                channel=form.cleaned_data.get("channel", ""),
            )
        except RenewalError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Thank you: the delegation now runs to the new date."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))  # ErrorList items are str at runtime
    return redirect(request.POST["next"] if _safe_next(request) else renewal.delegation)


def _safe_next(request: HttpRequest) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@login_required
@require_POST
def renewal_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    renewal = _renewal(request, pk, Perm.MANAGE_DELEGATION)
    try:
        cancel_renewal(renewal=renewal, by=request.user)
    except RenewalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Renewal request cancelled."))
    return redirect(renewal.delegation)


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    """Open alerts across the user's importers, most severe first."""
    severity = request.GET.get("severity", "")
    family = request.GET.get("kind", "")
    portfolio = portfolio_from(request.GET, user=request.user)
    alerts = portfolio.apply(
        access.scope(DelegationAlert.objects.filter(resolved_at=None), request.user)
    )
    if severity in DelegationAlert.Severity.values:
        alerts = alerts.filter(severity=severity)
    if family:
        alerts = alerts.filter(family_match(family))
    alerts = alerts.select_related("importer", "delegation").order_by(
        severity_order(), "raised_on", "importer__legal_name", "id"
    )
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    items = _label_alerts(list(page.object_list))
    kinds = sorted({kind_family(k.value) for k in Kind})
    return render(
        request,
        "delegation/alert_list.html",
        {
            "page": page,
            "alerts": items,
            "severity": severity,
            "kind": family,
            "severities": DelegationAlert.Severity.choices,
            "kinds": [(k, kind_label(k)) for k in kinds],
            "portfolio": portfolio,
        },
    )
