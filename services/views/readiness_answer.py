"""The importer's side of the RM readiness check: its BAM answers, from the importer's own pages,
the questions the broker's records cannot answer.

Thin views over ``services.compliance.readiness.answer_as_importer`` (a check taken with the
importer's answers: one rule for the score and the follow-ups). ``clients.access`` decides:
answering takes ``answer_readiness`` (the importer's BAM); an importer the user may not see is a
404, one they see without the permission (its finance members, employees, broker staff) a 403.
Derived answers are shown as the records give them and are never fields.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from carm_portal.calendar import cbsa_today
from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import Perm
from clients.models import Importer
from services.compliance.readiness import (
    ReadinessError,
    active_questions,
    answer_as_importer,
    derived_answers,
    importer_answers,
    question_text,
    waiting_on_importer,
)
from services.compliance.readiness_derivers import DERIVERS
from services.compliance.readiness_queries import latest_check
from services.models import ReadinessQuestion
from services.readiness_forms import ReadinessForm, field_name


@login_required
@require_http_methods(["GET", "POST"])
def readiness_answer(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """The questions no record answers, to answer (or change), beside the derived answers."""
    importer = access.get_importer(request.user, importer_pk, Perm.ANSWER_READINESS)
    questions = active_questions()
    if request.method == "POST":
        form = ReadinessForm(request.POST, questions=questions)
        if form.is_valid():
            try:
                check = answer_as_importer(importer, answers=form.manual_answers(), by=request.user)
            except ReadinessError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Thank you: your answers are recorded. Readiness score: %(score)s %%.")
                    % {"score": localize(check.score)},
                )
                return redirect("compliance:readiness_answer", importer_pk=importer.pk)
        return _page(request, importer, questions, form)
    return _page(request, importer, questions, None)


def _page(
    request: AuthenticatedHttpRequest,
    importer: Importer,
    questions: Sequence[ReadinessQuestion],
    form: ReadinessForm | None,
) -> HttpResponse:
    current = latest_check(importer)
    given = importer_answers(current)
    if form is None:  # only the importer's own answers are filled in: the rest wait on it
        form = ReadinessForm(
            questions=questions, previous={key: yes for key, (yes, _mark) in given.items()}
        )
    waiting = {q.key for q in waiting_on_importer(questions, current)}
    derived = derived_answers(importer, questions, cbsa_today())
    rows = [
        {
            "question": question_text(q.key, q.text),
            "derived": q.key in derived,
            "yes": derived.get(q.key),
            "source": DERIVERS[q.derived_from].label if q.derived_from in DERIVERS else "",
            "field": None if q.key in derived else form[field_name(q.key)],
            "waiting": q.key in waiting,
            "given": given[q.key][1] if q.key in given else None,
        }
        for q in questions
    ]
    return render(
        request,
        "compliance/readiness_answer.html",
        {
            "importer": importer,
            "current": current,
            "form": form,
            "asked": [row for row in rows if not row["derived"]],
            "derived": [row for row in rows if row["derived"]],
            "waiting_count": len(waiting),
        },
    )
