"""The training pages: courses, their sessions, completions recorded in bulk, the refresh list,
one importer's training and the completion certificate.

Thin views: ``clients.access`` decides who sees what (404 for an importer the user may not see,
403 for a role without the right), ``services.compliance.training`` holds the rules. The course
pages and the refresh list are the broker's (``view_portfolio``); an importer's training page is
for whoever holds ``view_training`` on it (broker staff, its BAM, read only); a certificate is
also its person's own (``access.may_see_training_of``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carm_portal.calendar import cbsa_today
from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm, Perm
from clients.models import Membership
from clients.portfolio import portfolio_from
from services.compliance.training import (
    TrainingError,
    attendees,
    current_training,
    due_for_refresh,
    latest,
    record_completions,
    status_of,
    valid_until,
    webinar_attendee_importers,
)
from services.models import Course, TrainingCompletion, TrainingSession
from services.training_certificate import certificate_filename, render_certificate
from services.training_forms import DueFilterForm, PickImporterForm, RecordForm, SessionForm

PAGE_SIZE = 50
HISTORY_ROWS = 20


def _badge(rows: list[TrainingCompletion], today: dt.date) -> list[TrainingCompletion]:
    """Each row's status badge and last valid day, for the tables."""
    for row in rows:
        row.status = status_of(row, today=today)  # type: ignore[attr-defined]
        row.valid_until = valid_until(row)  # type: ignore[attr-defined]
    return rows


@login_required
def course_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The courses per role, with how many people are trained (not lapsed) and the sessions."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    today = cbsa_today()
    trained = dict(
        latest(TrainingCompletion.objects.filter(lapses_on__gt=today))
        .order_by()
        .values("course")
        .annotate(n=Count("id"))
        .values_list("course", "n")
    )
    courses = list(
        Course.objects.annotate(session_count=Count("sessions")).order_by("role", "name")
    )
    for course in courses:
        course.trained = trained.get(course.pk, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "compliance/training/course_list.html",
        {
            "courses": courses,
            "can_manage": access.can_global(request.user, GlobalPerm.MANAGE_TRAINING),
        },
    )


@login_required
def course_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One course: its sessions, and each person's latest completion (the lapsed ones first)."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    course = get_object_or_404(Course, pk=pk)
    today = cbsa_today()
    completions = (
        latest(access.scope_for(course.completions.all(), request.user, Perm.VIEW_TRAINING))
        .select_related("membership__user", "importer", "session")
        .order_by("lapses_on", "id")
    )
    page = Paginator(completions, PAGE_SIZE).get_page(request.GET.get("page"))
    can_record = access.holds_anywhere(request.user, Perm.RECORD_TRAINING)
    sessions = list(
        course.sessions.select_related("webinar", "booking__importer").annotate(
            completion_count=Count("completions")
        )
    )
    if can_record:
        recordable = access.scope_for(
            Membership.objects.filter(user__is_active=True), request.user, Perm.RECORD_TRAINING
        )
        for session in sessions:
            # A webinar's attendees, by importer: one "record" link each, as a walk-through has.
            session.attendee_importers = webinar_attendee_importers(session, recordable)  # type: ignore[attr-defined]
    return render(
        request,
        "compliance/training/course_detail.html",
        {
            "course": course,
            "sessions": sessions,
            "page": page,
            "completions": _badge(list(page.object_list), today),
            "today": today,
            "can_manage": access.can_global(request.user, GlobalPerm.MANAGE_TRAINING),
            "pick_form": (
                PickImporterForm(importers=access.visible_importers(request.user))
                if can_record
                else None
            ),
        },
    )


@login_required
def session_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A session of the course: on a day, by a trainer, maybe in a past webinar or walk-through."""
    access.require_global(request.user, GlobalPerm.MANAGE_TRAINING)
    course = get_object_or_404(Course, pk=pk)
    form = SessionForm(request.POST or None, now=timezone.now())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["held_on"] > cbsa_today():
            form.add_error("held_on", _("A session is recorded once it has been held."))
        else:
            TrainingSession.objects.create(
                course=course,
                held_on=data["held_on"],
                trainer=data["trainer"],
                webinar=data["webinar"],
                booking=data["booking"],
            )
            messages.success(request, _("Session recorded."))
            return redirect("compliance:training_course", pk=course.pk)
    return render(
        request, "compliance/training/session_form.html", {"course": course, "form": form}
    )


@login_required
def pick_importer(request: AuthenticatedHttpRequest) -> HttpResponse:
    """From a course's page: go to the chosen importer's recording page, that course selected."""
    if not access.holds_anywhere(request.user, Perm.RECORD_TRAINING):
        access.require_global(request.user, GlobalPerm.MANAGE_TRAINING)
    form = PickImporterForm(request.GET or None, importers=access.visible_importers(request.user))
    if form.is_valid():
        importer = form.cleaned_data["importer"]
        access.require(request.user, Perm.RECORD_TRAINING, importer)
        url = _record_url(importer.pk)
        course = request.GET.get("course", "")
        return redirect(f"{url}?course={course}" if course.isdigit() else url)
    return render(request, "compliance/training/pick_importer.html", {"form": form})


def _record_url(importer_pk: int) -> str:
    return reverse("compliance:training_record", kwargs={"importer_pk": importer_pk})


def _initial(request: AuthenticatedHttpRequest, form: RecordForm) -> dict:
    """The course and session named in the link (``?course=``, ``?session=``), and the people who
    attended that session (a webinar's marked attendance, a walk-through's booker) ticked."""
    initial: dict = {"completed_on": cbsa_today()}
    course_id = request.GET.get("course", "")
    if course_id.isdigit():
        initial["course"] = int(course_id)
    session_id = request.GET.get("session", "")
    if session_id.isdigit():
        session = TrainingSession.objects.filter(pk=int(session_id)).first()
        if session is not None:
            initial.update(
                course=session.course_id, session=session.pk, completed_on=session.held_on
            )
            people = form.fields["people"].queryset  # type: ignore[attr-defined]
            initial["people"] = sorted(attendees(session, people))
    return initial


@login_required
def record(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """Record that some of the importer's people completed a course (in bulk; idempotent)."""
    importer = access.get_importer(request.user, importer_pk, Perm.RECORD_TRAINING)
    if request.method == "POST":
        form = RecordForm(request.POST, importer=importer)
    else:
        form = RecordForm(importer=importer)
        form.initial = _initial(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = record_completions(
                memberships=data["people"],
                course=data["course"],
                completed_on=data["completed_on"],
                session=data["session"],
                by=request.user,
                today=cbsa_today(),
            )
        except TrainingError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            if result.created:
                messages.success(
                    request,
                    ngettext(
                        "%(n)d completion recorded.",
                        "%(n)d completions recorded.",
                        len(result.created),
                    )
                    % {"n": len(result.created)},
                )
            if result.already:
                messages.info(
                    request,
                    ngettext(
                        "%(n)d was already recorded (not recorded twice).",
                        "%(n)d were already recorded (not recorded twice).",
                        len(result.already),
                    )
                    % {"n": len(result.already)},
                )
            return redirect("compliance:training_importer", importer_pk=importer.pk)
    return render(
        request, "compliance/training/record_form.html", {"importer": importer, "form": form}
    )


@login_required
def importer_training(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """Who of the importer's people is trained for what, who is due, and the record's history."""
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_TRAINING)
    today = cbsa_today()
    rows = _badge(list(current_training([importer.pk])), today)
    trained_ids = {row.membership_id for row in rows}
    untrained = [
        m
        for m in importer.memberships.filter(user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
        if m.pk not in trained_ids
    ]
    history = (
        TrainingCompletion.history.filter(importer_id=importer.pk)
        .select_related("history_user", "course", "membership__user")
        .order_by("-history_date")[:HISTORY_ROWS]
    )
    return render(
        request,
        "compliance/training/importer_training.html",
        {
            "importer": importer,
            "rows": rows,
            "untrained": untrained,
            "history": history,
            "today": today,
            "can_record": access.can(request.user, Perm.RECORD_TRAINING, importer),
        },
    )


@login_required
def due_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """People whose training lapses within 30 days or has lapsed, across the portfolio."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    today = cbsa_today()
    form = DueFilterForm(request.GET or None)
    portfolio = portfolio_from(request.GET, user=request.user)
    completions = portfolio.apply(
        access.scope_for(TrainingCompletion.objects.all(), request.user, Perm.VIEW_TRAINING)
    )
    due = due_for_refresh(completions, today=today)
    if form.is_valid():
        if form.cleaned_data["state"] == DueFilterForm.EXPIRED:
            due = due.filter(lapses_on__lte=today)
        elif form.cleaned_data["state"] == DueFilterForm.EXPIRING:
            due = due.filter(lapses_on__gt=today)
        if form.cleaned_data["role"]:
            due = due.filter(course__role=form.cleaned_data["role"])
    page = Paginator(
        due.select_related("membership__user", "importer", "course").order_by(
            "lapses_on", "importer__legal_name", "id"
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "compliance/training/due_list.html",
        {
            "form": form,
            "portfolio": portfolio,
            "page": page,
            "completions": _badge(list(page.object_list), today),
            "today": today,
        },
    )


@login_required
def certificate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The completion certificate (PDF): broker staff, the importer's BAM and the person."""
    completion = access.get_scoped(
        TrainingCompletion.objects.select_related(
            "membership__user", "importer", "course", "session"
        ),
        request.user,
        pk,
        Perm.VIEW,
    )
    access.require_training_of(request.user, completion.membership)
    response = HttpResponse(render_certificate(completion), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate_filename(completion)}"'
    response["Cache-Control"] = "private, no-store"
    return response
