"""The training coordinator's pages: add a course, edit it, retire it (or offer it again), and
delete one added by mistake.

Broker staff holding ``manage_training`` only (``clients.access``); everyone else gets the 403 of
the other broker-only training pages. The rules are in ``services.compliance.courses``: a course
that completions or sessions name is retired, never deleted.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm
from services.compliance import courses
from services.models import Course
from services.training_forms import CourseForm


def _managed_course(request: AuthenticatedHttpRequest, pk: int) -> Course:
    access.require_global(request.user, GlobalPerm.MANAGE_TRAINING)
    return get_object_or_404(Course, pk=pk)


@login_required
def course_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new course, offered from now on."""
    access.require_global(request.user, GlobalPerm.MANAGE_TRAINING)
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        course = form.save()
        messages.success(request, _("Course added."))
        return redirect("compliance:training_course", pk=course.pk)
    return render(request, "compliance/training/course_form.html", {"form": form, "course": None})


@login_required
def course_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A course's names, role and refresh period; from here it is retired, offered again or (when
    nothing names it) deleted. A new refresh period applies to completions recorded from now on."""
    course = _managed_course(request, pk)
    # The form edits a copy: a refused input must not rename the page it is shown on.
    form = CourseForm(request.POST or None, instance=copy.copy(course))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Course saved."))
        return redirect("compliance:training_course", pk=course.pk)
    return render(
        request,
        "compliance/training/course_form.html",
        {"form": form, "course": course, "deletable": courses.is_deletable(course)},
    )


@login_required
@require_POST
def course_retire(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = _managed_course(request, pk)
    if courses.retire(course):
        messages.success(
            request,
            _(
                "Course retired: it is no longer offered when completions are recorded. The "
                "completions and certificates already recorded stay."
            ),
        )
    return redirect("compliance:training_course", pk=course.pk)


@login_required
@require_POST
def course_offer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    course = _managed_course(request, pk)
    if courses.offer_again(course):
        messages.success(request, _("Course offered again."))
    return redirect("compliance:training_course", pk=course.pk)


@login_required
def course_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Asks first; refuses a course that completions or sessions name (retire it instead)."""
    course = _managed_course(request, pk)
    deletable = courses.is_deletable(course)
    if request.method == "POST" and deletable:
        try:
            courses.delete(course)
        except courses.CourseInUse:
            deletable = False  # something was recorded of it meanwhile
        else:
            messages.success(request, _("Course deleted."))
            return redirect("compliance:training_courses")
    status = 200 if deletable or request.method == "GET" else 409
    return render(
        request,
        "compliance/training/course_delete.html",
        {"course": course, "deletable": deletable},
        status=status,
    )
