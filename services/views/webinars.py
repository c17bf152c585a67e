"""Webinar pages for staff (sessions, attendees, attendance, CSV) and for an importer's people
(register from the home page, cancel their own registration)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal import csv_cells
from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm
from services.forms import WebinarSessionForm
from services.models import Registration, WebinarSession
from services.webinar_seats import (
    RegistrationClosed,
    cancel,
    cancel_session,
    mark_attendance,
    register,
    with_seat_counts,
)


@login_required
def session_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    now = timezone.now()
    sessions = with_seat_counts(WebinarSession.objects.all())
    return render(
        request,
        "services/session_list.html",
        {
            "upcoming": list(sessions.filter(starts_at__gt=now).order_by("starts_at", "id")),
            "past": list(sessions.filter(starts_at__lte=now).order_by("-starts_at", "-id")[:50]),
        },
    )


@login_required
def session_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    form = WebinarSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        session = form.save()
        messages.success(request, _("Session scheduled."))
        return redirect("services:session_detail", session.pk)
    return render(request, "services/session_form.html", {"form": form})


@login_required
def session_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    session = get_object_or_404(WebinarSession, pk=pk)
    form = WebinarSessionForm(request.POST or None, instance=session)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Session updated."))
        return redirect("services:session_detail", session.pk)
    return render(request, "services/session_form.html", {"form": form, "session": session})


@login_required
def session_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    session = get_object_or_404(with_seat_counts(WebinarSession.objects.all()), pk=pk)
    registrations = list(session.registrations.select_related("importer").order_by("status", "id"))
    return render(
        request,
        "services/session_detail.html",
        {
            "session": session,
            "registrations": registrations,
            "has_started": session.starts_at <= timezone.now(),
        },
    )


@login_required
@require_POST
def session_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    session = get_object_or_404(WebinarSession, pk=pk)
    told = cancel_session(session=session)
    messages.success(
        request, _("Session cancelled; %(n)d registered people are told.") % {"n": told}
    )
    return redirect("services:session_detail", session.pk)


@login_required
@require_POST
def session_attendance(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    session = get_object_or_404(WebinarSession, pk=pk)
    ids = {int(v) for v in request.POST.getlist("attended") if v.isdigit()}
    came = mark_attendance(session=session, attended_ids=ids)
    messages.success(request, _("Attendance saved: %(n)d attended.") % {"n": came})
    return redirect("services:session_detail", session.pk)


@login_required
def session_csv(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    session = get_object_or_404(WebinarSession, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="webinar-{session.pk}-attendees.csv"'
    writer = csv_cells.writer(response)
    writer.writerow(
        [
            _("Name"),
            _("Email"),
            _("Company"),
            _("Importer"),
            _("Status"),
            _("Attended"),
            _("Registered at"),
        ]
    )
    attended_labels = {True: _("yes"), False: _("no"), None: ""}
    for r in session.registrations.select_related("importer").order_by("status", "id"):
        writer.writerow(
            [
                r.name,
                r.email,
                r.company,
                r.importer.legal_name if r.importer else "",
                r.get_status_display(),
                attended_labels[r.attended],
                r.created_at.isoformat(),
            ]
        )
    return response


@login_required
@require_POST
def registration_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Staff cancel anyone's registration; an importer's person cancels their own."""
    registration = get_object_or_404(Registration.objects.select_related("session"), pk=pk)
    staff = access.can_global(request.user, GlobalPerm.MANAGE_WEBINARS)
    if not staff and registration.user_id != request.user.pk:
        raise Http404(_("Not found."))
    promoted = cancel(registration=registration)
    messages.success(request, _("Registration cancelled."))
    if promoted is not None and staff:
        messages.info(
            request,
            _("%(name)s moved from the waitlist to the freed seat.") % {"name": promoted.name},
        )
    if staff:
        return redirect("services:session_detail", registration.session_id)
    return redirect("home")


@login_required
@require_POST
def register_me(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An importer's person signs up from the home page, for one of the importers they act for."""
    importer = access.get_importer(request.user, request.POST.get("importer"))
    if not access.may_register_for_webinars(request.user, importer):
        raise PermissionDenied(_("Broker staff register attendees from the session's page."))
    session = get_object_or_404(WebinarSession, pk=pk, cancelled_at=None)
    try:
        registration = register(
            session=session,
            name=request.user.get_full_name() or request.user.email,
            email=request.user.email,
            company=importer.legal_name,
            importer=importer,
            user=request.user,
            language=translation.get_language() or "en",
        )
    except RegistrationClosed:
        messages.error(request, _("Registration for this session is closed."))
        return redirect("home")
    if registration.status == Registration.Status.WAITLISTED:
        messages.info(request, _("The session is full: you are on the waitlist."))
    else:
        messages.success(request, _("You are registered. The calendar file is in your email."))
    return redirect("home")
