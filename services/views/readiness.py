"""The RM readiness pages: one importer's checks (take one, work its follow-ups, the PDF), the
portfolio by score, and the follow-ups waiting on a member of staff.

Thin views over ``services.compliance.readiness`` (taking a check, follow-ups) and
``readiness_queries`` (what is current and open). ``clients.access`` decides: seeing an importer's
readiness takes ``view_readiness`` (its BAM reads it), taking a check or working a follow-up
``take_readiness`` (broker staff); an importer the user may not see is a 404. The importer's BAM
answers the questions no record answers on its own page (``readiness_answer``); those answers
show here as the importer's.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.calendar import cbsa_today
from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm, Perm
from clients.models import ClientGroup, Importer
from clients.portfolio import default_slice, portfolio_from
from services.compliance import readiness_pdf
from services.compliance.readiness import (
    ReadinessError,
    active_questions,
    complete_gap,
    derived_answers,
    importer_answers,
    question_text,
    reassign_gap,
    take_check,
)
from services.compliance.readiness_chart import score_chart
from services.compliance.readiness_derivers import DERIVERS
from services.compliance.readiness_queries import latest_check, open_gaps, overdue_q, with_readiness
from services.models import ReadinessCheck, ReadinessGap
from services.readiness_forms import GapForm, ReadinessForm

PAGE_SIZE = 50
HISTORY = 24


def _page(
    request: AuthenticatedHttpRequest, importer: Importer, form: ReadinessForm | None
) -> HttpResponse:
    """The readiness page of ``importer`` (``form`` bound when a check was refused)."""
    today = cbsa_today()
    can_take = access.can(request.user, Perm.TAKE_READINESS, importer)
    can_answer = access.can(request.user, Perm.ANSWER_READINESS, importer)
    checks = list(
        ReadinessCheck.objects.filter(importer=importer)
        .select_related("taken_by")
        .order_by("-taken_at", "-id")[:HISTORY]
    )
    current = checks[0] if checks else None
    gaps: list[ReadinessGap] = []
    if current is not None:
        gaps = list(
            ReadinessGap.objects.filter(check_run=current)
            .select_related("owner", "done_by")
            .order_by(F("done_at").asc(nulls_first=True), "due_on", "id")
        )
        for gap in gaps:
            gap.question = question_text(gap.question_key, gap.text)  # type: ignore[attr-defined]
            gap.overdue = gap.done_at is None and gap.due_on < today  # type: ignore[attr-defined]
            if can_take and gap.done_at is None:
                gap.form = GapForm(  # type: ignore[attr-defined]
                    initial={"owner": gap.owner_id, "due_on": gap.due_on}, prefix=f"gap{gap.pk}"
                )
    questions = []
    if can_take:
        active = active_questions()
        given = importer_answers(current)
        derived = derived_answers(importer, active, today)
        if form is None:
            previous = {a["key"]: bool(a["yes"]) for a in current.answers} if current else {}
            form = ReadinessForm(questions=active, previous=previous)
        questions = [
            {
                "question": question_text(q.key, q.text),
                "weight": q.weight,
                "derived": q.key in derived,
                "yes": derived.get(q.key),
                "source": DERIVERS[q.derived_from].label if q.derived_from in DERIVERS else "",
                "field": None if q.key in derived else form[f"q_{q.key}"],
                "given": given.get(q.key),
            }
            for q in active
        ]
    return render(
        request,
        "compliance/readiness.html",
        {
            "importer": importer,
            "today": today,
            "current": current,
            "answers": readiness_pdf.answer_rows(current) if current else [],
            "gaps": gaps,
            "open_count": sum(1 for g in gaps if g.done_at is None),
            "checks": checks,
            "chart": score_chart(checks),
            "can_take": can_take,
            "can_answer": can_answer,
            "form": form,
            "questions": questions,
        },
    )


@login_required
def readiness(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """The latest check with its follow-ups, the history, and (for staff) a new check."""
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_READINESS)
    return _page(request, importer, None)


@login_required
@require_POST
def readiness_take(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.TAKE_READINESS)
    form = ReadinessForm(request.POST, questions=active_questions())
    if form.is_valid():
        try:
            check = take_check(importer, manual=form.manual_answers(), by=request.user)
        except ReadinessError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Readiness check recorded: %(score)s %%.") % {"score": localize(check.score)},
            )
            return redirect("compliance:readiness", importer_pk=importer.pk)
    return _page(request, importer, form)


def _gap(request: AuthenticatedHttpRequest, pk: int) -> ReadinessGap:
    return access.get_scoped(
        ReadinessGap.objects.select_related("importer"), request.user, pk, Perm.TAKE_READINESS
    )


@login_required
@require_POST
def gap_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    gap = _gap(request, pk)
    if complete_gap(gap, by=request.user):
        messages.success(request, _("Follow-up marked done."))
    else:
        messages.info(request, _("This follow-up was already done."))
    return redirect(_next(request, gap))


@login_required
@require_POST
def gap_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    gap = _gap(request, pk)
    form = GapForm(request.POST, prefix=f"gap{gap.pk}")
    if form.is_valid():
        try:
            reassign_gap(
                gap,
                owner=form.cleaned_data["owner"],
                due_on=form.cleaned_data["due_on"],
                by=request.user,
            )
        except ReadinessError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Follow-up updated."))
    else:
        messages.error(request, _("Choose an owner and a valid due date."))
    return redirect(_next(request, gap))


def _next(request: AuthenticatedHttpRequest, gap: ReadinessGap) -> str:
    """Back to the follow-up list when the form came from there, else the importer's page."""
    if request.POST.get("next") == "followups":
        return reverse("compliance:readiness_followups")
    return reverse("compliance:readiness", kwargs={"importer_pk": gap.importer_id})


@login_required
def readiness_pdf_view(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """The latest check as a PDF for the importer (404 before the first check)."""
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_READINESS)
    check = latest_check(importer)
    if check is None:
        raise Http404(_("No readiness check has been taken yet."))
    response = HttpResponse(readiness_pdf.render_pdf(check), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{readiness_pdf.filename(check)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Importers by readiness score (never checked first, then the lowest), with their open and
    overdue follow-ups; sliced like every portfolio page (mine, a client group, all)."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    today = cbsa_today()
    slice_ = portfolio_from(request.GET, user=request.user, default=default_slice(request.user))
    importers = with_readiness(
        slice_.apply(access.visible_importers(request.user), importer_field="pk"), today
    ).order_by(F("readiness_score").asc(nulls_first=True), "legal_name", "pk")
    page = Paginator(importers, PAGE_SIZE).get_page(request.GET.get("page"))
    mine = open_gaps(ReadinessGap.objects.filter(owner=request.user))
    return render(
        request,
        "compliance/readiness_portfolio.html",
        {
            "portfolio": slice_,
            "groups": list(ClientGroup.objects.order_by("name")),
            "page": page,
            "importers": list(page.object_list),
            "my_open": mine.count(),
            "my_overdue": mine.filter(overdue_q(today)).count(),
        },
    )


@login_required
def followups(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open follow-ups, the earliest due first: the user's own (default) or everyone's."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    today = cbsa_today()
    show_all = request.GET.get("owner") == "all"
    gaps = open_gaps(
        access.scope_for(ReadinessGap.objects.all(), request.user, Perm.VIEW_READINESS)
    )
    if not show_all:
        gaps = gaps.filter(owner=request.user)
    can_take = access.holds_anywhere(request.user, Perm.TAKE_READINESS)
    page = Paginator(
        gaps.select_related("importer", "owner").order_by("due_on", "id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for gap in rows:
        gap.question = question_text(gap.question_key, gap.text)
        gap.overdue = gap.due_on < today
    return render(
        request,
        "compliance/readiness_followups.html",
        {
            "page": page,
            "gaps": rows,
            "show_all": show_all,
            "can_take": can_take,
            "today": today,
        },
    )
