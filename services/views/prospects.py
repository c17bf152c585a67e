"""The staff pipeline: prospects with filters, one prospect's page, and the conversion to client."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm
from services.forms import ProspectFilterForm, ProspectForm
from services.models import Prospect
from services.pipeline import (
    ConversionError,
    Filters,
    client_progress,
    convert_to_importer,
    pipeline,
)

PAGE_SIZE = 50


@login_required
def prospect_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_PROSPECTS)
    form = ProspectFilterForm(request.GET or None)
    filters = Filters()
    if form.is_valid():
        data = form.cleaned_data
        filters = Filters(
            stage=data["stage"],
            owner_id=data["owner"].pk if data["owner"] else None,
            due_by=data["due_by"],
            q=data["q"],
            include_unconfirmed=data["unconfirmed"],
        )
    page = Paginator(pipeline(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "services/prospect_list.html",
        {
            "form": form,
            "page": page,
            "prospects": list(page.object_list),
            "can_manage_fees": access.can_global(request.user, GlobalPerm.MANAGE_FEES),
        },
    )


@login_required
def prospect_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_PROSPECTS)
    prospect = get_object_or_404(Prospect.objects.select_related("owner", "importer"), pk=pk)
    form = ProspectForm(request.POST or None, instance=prospect)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Prospect updated."))
        return redirect(prospect)
    return render(
        request,
        "services/prospect_detail.html",
        {
            "prospect": prospect,
            "form": form,
            "can_convert": access.can_global(request.user, GlobalPerm.CREATE_IMPORTER),
            "progress": client_progress(prospect),
        },
    )


@login_required
@require_POST
def prospect_convert(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_PROSPECTS)
    access.require_global(request.user, GlobalPerm.CREATE_IMPORTER)
    prospect = get_object_or_404(Prospect, pk=pk)
    try:
        outcome = convert_to_importer(prospect=prospect, by=request.user)
    except ConversionError as exc:
        messages.error(request, _("Could not make this prospect a client: %(why)s") % {"why": exc})
        return redirect(prospect)
    if outcome.created:
        messages.success(
            request,
            _("%(name)s is now a client; %(email)s was invited to the onboarding wizard.")
            % {"name": outcome.importer.legal_name, "email": prospect.email},
        )
    else:
        messages.info(request, _("This prospect was already made a client."))
    return redirect(outcome.importer)
