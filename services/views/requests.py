"""Service request pages: create (SOA retrieval, bond application, help), follow, reply; staff
assign, move along, attach the statement received, approve a bond; the staff work list."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm, Perm
from services import requests_flow as flow
from services.forms import (
    AdvanceForm,
    AssignForm,
    BondApprovalForm,
    BondEditForm,
    BondRequestForm,
    HelpRequestForm,
    ReplyForm,
    SoaRequestForm,
    StatementFileForm,
)
from services.models import RequestKind, RequestStatus, ServiceRequest
from services.requests_flow import CLOSED

FORMS: dict[str, type[SoaRequestForm] | type[BondRequestForm]] = {
    RequestKind.SOA_RETRIEVAL: SoaRequestForm,
    RequestKind.BOND: BondRequestForm,
}


@login_required
def request_create(request: AuthenticatedHttpRequest, importer_pk: int, kind: str) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.REQUEST_SERVICES)
    if kind not in RequestKind.values:
        raise Http404(_("No such service."))
    form: forms.Form
    if kind == RequestKind.HELP:
        form = HelpRequestForm(request.POST or None)
    else:
        form = FORMS[kind](request.POST or None, importer=importer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if kind == RequestKind.SOA_RETRIEVAL:
            created = flow.request_soa(
                importer=importer,
                program_account=data["program_account"],
                period=data["period"],
                by=request.user,
            )
        elif kind == RequestKind.BOND:
            created = flow.request_bond(
                importer=importer,
                program_account=data["program_account"],
                surety_company=data["surety_company"],
                by=request.user,
            )
        else:
            created = flow.request_help(
                importer=importer, topic=data["topic"], message=data["message"], by=request.user
            )
        messages.success(request, _("Request sent to our team."))
        return redirect(created)
    return render(
        request,
        "services/request_form.html",
        {"importer": importer, "form": form, "kind": RequestKind(kind)},
    )


def _request(request: AuthenticatedHttpRequest, pk: int, perm: Perm = Perm.VIEW) -> ServiceRequest:
    return access.get_scoped(
        ServiceRequest.objects.select_related(
            "importer", "assignee", "program_account", "import_batch", "security", "created_by"
        ),
        request.user,
        pk,
        perm,
    )


@login_required
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = _request(request, pk)
    staff = access.can_global(request.user, GlobalPerm.DELIVER_SERVICES)
    may_reply = staff or access.can(request.user, Perm.REQUEST_SERVICES, obj.importer_id)
    return render(
        request,
        "services/request_detail.html",
        {
            "req": obj,
            "replies": list(obj.replies.select_related("author")),
            "staff": staff,
            "may_reply": may_reply and obj.status not in CLOSED,
            "next_statuses": [(s, RequestStatus(s).label) for s in flow.next_statuses(obj)],
            "reply_form": ReplyForm(),
            "assign_form": AssignForm(initial={"assignee": obj.assignee_id}),
            "bond_form": BondEditForm(
                initial={"bond_amount": obj.bond_amount, "surety_company": obj.surety_company}
            ),
            "approval_form": BondApprovalForm(),
            "file_form": StatementFileForm(),
        },
    )


@login_required
@require_POST
def request_reply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = _request(request, pk)
    if not access.can_global(request.user, GlobalPerm.DELIVER_SERVICES):
        access.require(request.user, Perm.REQUEST_SERVICES, obj.importer_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            flow.reply(request=obj, author=request.user, body=form.cleaned_data["body"])
        except flow.RequestError as exc:
            messages.error(request, str(exc))
    return redirect(obj)


def _staff_request(request: AuthenticatedHttpRequest, pk: int) -> ServiceRequest:
    obj = _request(request, pk)
    access.require_global(request.user, GlobalPerm.DELIVER_SERVICES)
    return obj


@login_required
@require_POST
def request_advance(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = _staff_request(request, pk)
    form = AdvanceForm(request.POST)
    if form.is_valid():
        try:
            flow.advance(request=obj, to=form.cleaned_data["to"], by=request.user)
        except flow.RequestError as exc:
            messages.error(request, str(exc))
    return redirect(obj)


@login_required
@require_POST
def request_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = _staff_request(request, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        obj.assignee = form.cleaned_data["assignee"]
        obj.save(update_fields=["assignee", "updated_at"])
    return redirect(obj)


@login_required
@require_POST
def request_bond_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = _staff_request(request, pk)
    form = BondEditForm(request.POST)
    if obj.kind == RequestKind.BOND and obj.status == RequestStatus.DRAFT and form.is_valid():
        obj.bond_amount = form.cleaned_data["bond_amount"]
        obj.surety_company = form.cleaned_data["surety_company"]
        obj.save(update_fields=["bond_amount", "surety_company", "updated_at"])
    else:
        messages.error(request, _("Only a draft bond application can be changed."))
    return redirect(obj)


@login_required
@require_POST
def request_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = _staff_request(request, pk)
    form = BondApprovalForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the bond number and its effective date."))
        return redirect(obj)
    try:
        flow.approve_bond(request=obj, by=request.user, **form.cleaned_data)
        messages.success(request, _("Bond approved and recorded as the account's security."))
    except flow.RequestError as exc:
        messages.error(request, str(exc))
    return redirect(obj)


@login_required
@require_POST
def request_attach(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    obj = _staff_request(request, pk)
    form = StatementFileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the statement file."))
        return redirect(obj)
    try:
        obj = flow.attach_statement(request=obj, upload=form.cleaned_data["file"], by=request.user)
    except flow.RequestError as exc:
        messages.error(request, str(exc))
        return redirect(obj)
    if obj.status == RequestStatus.IMPORTED:
        messages.success(request, _("Statement imported."))
    else:
        messages.warning(request, _("The file was not imported yet: see the import's page."))
    return redirect(obj)


@login_required
def request_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Staff work list: open requests first, oldest first; ``?kind=`` (a service, ``services``
    for all but help) and ``?assignee=me`` narrow it (the Today view links them)."""
    access.require_global(request.user, GlobalPerm.DELIVER_SERVICES)
    show_closed = request.GET.get("closed") == "1"
    kind = request.GET.get("kind", "")
    mine = request.GET.get("assignee") == "me"
    queryset = flow.worklist(
        kind=kind, assignee=request.user if mine else None, include_closed=show_closed
    ).select_related("importer", "assignee")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "services/request_list.html",
        {
            "page": page,
            "requests": list(page.object_list),
            "show_closed": show_closed,
            "mine": mine,
            "kind": kind if kind == flow.SERVICES or kind in RequestKind.values else "",
        },
    )
    if not show_closed:
        queryset = queryset.exclude(status__in=CLOSED)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "services/request_list.html",
        {"page": page, "requests": list(page.object_list), "show_closed": show_closed},
    )
