"""Charges (scoped: an importer's people see only their own) with CSV export; staff mark them
billed or waived; admins edit the fee schedule."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal import csv_cells
from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm, Perm
from services import charges as charging
from services.forms import ChargeFilterForm, FeeFormSet
from services.models import BillableService, Charge, Fee


def _charges(request: AuthenticatedHttpRequest):
    form = ChargeFilterForm(request.GET or None)
    queryset = access.scope_for(Charge.objects.all(), request.user, Perm.VIEW_CHARGES)
    if form.is_valid():
        if form.cleaned_data["status"]:
            queryset = queryset.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["service"]:
            queryset = queryset.filter(service=form.cleaned_data["service"])
    return form, queryset


@login_required
def charge_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not access.holds_anywhere(request.user, Perm.VIEW_CHARGES):
        access.require_global(request.user, GlobalPerm.BILL_CHARGES)
    form, queryset = _charges(request)
    page = Paginator(queryset.select_related("importer"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "services/charge_list.html",
        {
            "form": form,
            "page": page,
            "charges": list(page.object_list),
            "total": queryset.aggregate(total=Sum("amount"))["total"],
            "can_bill": access.can_global(request.user, GlobalPerm.BILL_CHARGES),
            "statuses": Charge.Status.choices,
        },
    )


@login_required
def charge_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not access.holds_anywhere(request.user, Perm.VIEW_CHARGES):
        access.require_global(request.user, GlobalPerm.BILL_CHARGES)
    _form, queryset = _charges(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="service-charges.csv"'
    writer = csv_cells.writer(response)
    writer.writerow(
        [
            _("Importer"),
            _("BN9"),
            _("Service"),
            _("Description"),
            _("Amount (CAD)"),
            _("Status"),
            _("Date"),
        ]
    )
    writer.writerows(charging.csv_rows(queryset))
    return response


@login_required
@require_POST
def charge_status(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.BILL_CHARGES)
    status = request.POST.get("status", "")
    ids = [int(v) for v in request.POST.getlist("charge") if v.isdigit()]
    if status not in Charge.Status.values or not ids:
        messages.error(request, _("Tick the charges and choose a status."))
    else:
        changed = charging.set_status(
            charges=Charge.objects.filter(pk__in=ids), status=status, by=request.user
        )
        messages.success(request, _("%(n)d charges updated.") % {"n": changed})
    return redirect("services:charge_list")


@login_required
def fee_schedule(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_FEES)
    for service in BillableService.values:
        Fee.objects.get_or_create(service=service, defaults={"amount": 0, "active": False})
    formset = FeeFormSet(request.POST or None, queryset=Fee.objects.order_by("service"))
    if request.method == "POST" and formset.is_valid():
        formset.save()
        messages.success(request, _("Fee schedule saved."))
        return redirect("services:fee_schedule")
    return render(request, "services/fee_schedule.html", {"formset": formset})
