"""The compliance pages: the corrections tracker, one importer's compliance, late accounting.

Thin views: ``clients.access`` decides who sees what (404 for an importer the user may not see,
403 for a role without the right), the domain functions in ``services/compliance/`` do the work.
Corrections are financial records: seeing them takes ``view_finance``, working them
``manage_statements``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.calendar import cbsa_today
from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm, Perm
from services.compliance.corrections import (
    CorrectionError,
    change_status,
    days_left,
    free_until,
    limitation_date,
    open_correction,
)
from services.compliance.documents import DocumentError, file_document, read_upload, set_legal_hold
from services.compliance.late_accounting import (
    decorate,
    first_versions,
    late_entries,
    monthly_rates,
)
from services.compliance_forms import (
    CorrectionFilterForm,
    CorrectionForm,
    CorrectionStatusForm,
    DocumentForm,
    LegalHoldForm,
)
from services.models import ComplianceAlert, ComplianceDocument, Correction

PAGE_SIZE = 50
RATE_MONTHS = 12


def _decorate_corrections(corrections: list[Correction], today: dt.date) -> list[Correction]:
    for c in corrections:
        c.days_left = days_left(c, today=today)  # type: ignore[attr-defined]
        c.days_overdue = max(0, -c.days_left)  # type: ignore[attr-defined]
        c.free_until = free_until(c.accounted_on)  # type: ignore[attr-defined]
        c.is_free = today <= c.free_until  # type: ignore[attr-defined]
    return corrections


@login_required
def correction_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every correction the user may see, the nearest deadline first."""
    today = cbsa_today()
    form = CorrectionFilterForm(request.GET or None)
    corrections = access.scope_for(
        Correction.objects.select_related("importer", "program_account"),
        request.user,
        Perm.VIEW_FINANCE,
    )
    status = Correction.Status.OPEN
    if form.is_valid():
        status = form.cleaned_data["status"]
        if q := form.cleaned_data["q"].strip():
            corrections = corrections.filter(
                Q(transaction_number__startswith=q) | Q(importer__legal_name__icontains=q)
            )
    elif not request.GET:
        form = CorrectionFilterForm(initial={"status": status})
    if status:
        corrections = corrections.filter(status=status)
    page = Paginator(corrections.order_by("deadline", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    alerts = list(
        access.scope_for(
            ComplianceAlert.objects.filter(resolved_at=None).select_related("importer"),
            request.user,
            Perm.VIEW_FINANCE,
        ).order_by("deadline", "id")[:20]
    )
    return render(
        request,
        "compliance/correction_list.html",
        {
            "form": form,
            "page": page,
            "corrections": _decorate_corrections(list(page.object_list), today),
            "alerts": alerts,
            "today": today,
        },
    )


@login_required
def correction_create(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.MANAGE_STATEMENTS)
    form = CorrectionForm(request.POST or None, importer=importer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            correction = open_correction(
                importer=importer,
                program_account=data["program_account"],
                transaction_number=data["transaction_number"],
                reason=data["reason"],
                reason_to_believe_on=data["reason_to_believe_on"],
                accounted_on=data["accounted_on"],
                amount_before=data["amount_before"],
                amount_after=data["amount_after"],
                note=data["note"],
                by=request.user,
            )
        except CorrectionError as error:
            form.add_error(error.field or None, str(error))
        else:
            messages.success(request, _("Correction recorded."))
            return redirect(correction)
    return render(request, "compliance/correction_form.html", {"form": form, "importer": importer})


@login_required
def correction_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    correction = access.get_scoped(
        Correction.objects.select_related("importer", "program_account", "statement", "created_by"),
        request.user,
        pk,
        Perm.VIEW_FINANCE,
    )
    today = cbsa_today()
    _decorate_corrections([correction], today)
    can_manage = access.can(request.user, Perm.MANAGE_STATEMENTS, correction.importer_id)
    return render(
        request,
        "compliance/correction_detail.html",
        {
            "correction": correction,
            "importer": correction.importer,
            "today": today,
            "limit": limitation_date(correction.accounted_on),
            "can_manage": can_manage,
            "status_form": CorrectionStatusForm() if can_manage else None,
            "history": correction.history.select_related("history_user").order_by("-history_date"),
            "alerts": correction.alerts.order_by("-raised_at"),
        },
    )


@login_required
@require_POST
def correction_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    correction = access.get_scoped(
        Correction.objects.all(), request.user, pk, Perm.MANAGE_STATEMENTS
    )
    form = CorrectionStatusForm(request.POST)
    if form.is_valid():
        try:
            change_status(
                correction,
                status=form.cleaned_data["status"],
                by=request.user,
                note=form.cleaned_data["note"],
                filed_version=form.cleaned_data["filed_version"],
            )
        except CorrectionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Correction updated."))
    else:
        messages.error(request, _("Choose a status."))
    return redirect(correction)


@login_required
def importer_compliance(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """One importer's compliance after release: corrections, late accounting, alerts."""
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_FINANCE)
    today = cbsa_today()
    since = (today.replace(day=1) - dt.timedelta(days=31 * (RATE_MONTHS - 1))).replace(day=1)
    entries = first_versions(importer_ids=[importer.pk], since=since)
    late_page = Paginator(
        late_entries(entries).select_related("program_account").order_by("-accounted_on", "id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    corrections = _decorate_corrections(
        list(
            importer.corrections.filter(status=Correction.Status.OPEN)
            .select_related("program_account")
            .order_by("deadline", "id")
        ),
        today,
    )
    return render(
        request,
        "compliance/importer_compliance.html",
        {
            "importer": importer,
            "today": today,
            "corrections": corrections,
            "rates": monthly_rates(entries, by="program_account__importer"),
            "page": late_page,
            "late": decorate(list(late_page.object_list)),
            "alerts": importer.compliance_alerts.filter(resolved_at=None).order_by(
                "deadline", "id"
            ),
            "can_manage": access.can(request.user, Perm.MANAGE_STATEMENTS, importer),
        },
    )


@login_required
def late_accounting(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The portfolio's monthly late-accounting rates, per importer and per agent (broker staff)."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    today = cbsa_today()
    since = (today.replace(day=1) - dt.timedelta(days=62)).replace(day=1)
    entries = first_versions(since=since)
    by_importer = monthly_rates(entries, by="program_account__importer")
    by_agent = monthly_rates(entries, by="program_account__importer__assigned_agent")
    importers = dict(
        access.visible_importers(request.user)
        .filter(pk__in={r.key for r in by_importer})
        .values_list("pk", "legal_name")
    )
    agents = {a.pk: a for a in access.broker_staff().filter(pk__in={r.key for r in by_agent})}
    return render(
        request,
        "compliance/late_accounting.html",
        {
            "since": since,
            "by_importer": [(r, importers.get(r.key or 0, "")) for r in by_importer if r.late],
            "by_agent": [(r, agents.get(r.key or 0)) for r in by_agent],
        },
    )


@login_required
def document_list(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """An importer's compliance documents, and (for those who may) the upload form."""
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_FINANCE)
    can_file = access.can(request.user, Perm.FILE_DOCUMENTS, importer)
    form = None
    if can_file:
        form = DocumentForm(request.POST or None, request.FILES or None, importer=importer)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            try:
                file_document(
                    importer=importer,
                    document_type=data["document_type"],
                    name=upload.name,
                    data=read_upload(upload),
                    record_date=data["record_date"],
                    description=data["description"],
                    statement=data["statement"],
                    transaction_number=data["transaction_number"],
                    correction=data["correction"],
                    by=request.user,
                )
            except DocumentError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("Document filed."))
                return redirect("compliance:documents", importer_pk=importer.pk)
    elif request.method == "POST":
        access.require(request.user, Perm.FILE_DOCUMENTS, importer)
    documents = ComplianceDocument.objects.filter(importer=importer).select_related(
        "uploaded_by", "statement"
    )
    page = Paginator(documents.order_by("-record_date", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "compliance/document_list.html",
        {
            "importer": importer,
            "form": form,
            "page": page,
            "documents": list(page.object_list),
            "can_hold": access.can(request.user, Perm.MANAGE_STATEMENTS, importer),
            "today": cbsa_today(),
        },
    )


@login_required
def document_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """The file, as an attachment, after the access check: never a public media URL."""
    document = access.get_scoped(
        ComplianceDocument.objects.all(), request.user, pk, Perm.VIEW_FINANCE
    )
    if not document.file:
        raise Http404(_("This document was purged."))
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def document_hold(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    document = access.get_scoped(
        ComplianceDocument.objects.all(), request.user, pk, Perm.MANAGE_STATEMENTS
    )
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        try:
            set_legal_hold(
                document,
                hold=form.cleaned_data["legal_hold"],
                reason=form.cleaned_data["legal_hold_reason"],
                by=request.user,
            )
        except DocumentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Legal hold updated."))
    return redirect("compliance:documents", importer_pk=document.importer_id)
