"""The readiness PDF handed to the importer: its score, every answer, the follow-ups with owners
and dates, and the importer's identity and "Page X of N" on every page.

Rendered through ``carm_portal.pdf`` (WeasyPrint fetching nothing but our static files). No user
text is ever written into CSS: the page margins take the importer's name and BN9 from the
``<h1>``'s attributes with ``string-set``, and the page counter is our own words, escaped by
``statements.reports.page_counter_content``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from services.compliance.readiness import ImporterAnswer, question_text
from services.models import ReadinessCheck, ReadinessGap
from statements.reports import page_counter_content


@dataclass(frozen=True)
class AnswerRow:
    text: str
    weight: int
    yes: bool
    derived: bool
    by_importer: ImporterAnswer | None = None  # who of the importer's people answered, and when


def answer_rows(check: ReadinessCheck) -> list[AnswerRow]:
    """The check's answers as stored on the day, each question in the reader's language."""
    return [
        AnswerRow(
            text=question_text(str(a["key"]), str(a["text"])),
            weight=int(a["weight"]),
            yes=bool(a["yes"]),
            derived=bool(a["derived"]),
            by_importer=ImporterAnswer.from_json(a),
        )
        for a in check.answers
    ]


def pdf_context(check: ReadinessCheck) -> dict[str, Any]:
    importer = check.importer
    gaps = list(
        ReadinessGap.objects.filter(check_run=check)
        .select_related("owner", "done_by")
        .order_by("due_on", "id")
    )
    for gap in gaps:
        gap.question = question_text(gap.question_key, gap.text)  # type: ignore[attr-defined]
    rows = answer_rows(check)
    return {
        "importer": importer,
        "check": check,
        "answers": rows,
        "yes_weight": sum(r.weight for r in rows if r.yes),
        "total_weight": sum(r.weight for r in rows),
        "gaps": gaps,
        "running": {
            "identity": _("%(name)s · BN9 %(bn9)s")
            % {"name": importer.legal_name, "bn9": importer.bn9},
            "title": _("RM readiness check of %(date)s") % {"date": check.taken_on.isoformat()},
        },
        "page_counter": page_counter_content(),
    }


def render_html(check: ReadinessCheck) -> str:
    return render_to_string("compliance/pdf/readiness.html", pdf_context(check))


def render_pdf(check: ReadinessCheck) -> bytes:
    from carm_portal import pdf  # imported here: WeasyPrint takes a moment to load

    return pdf.render_pdf(render_html(check))


def filename(check: ReadinessCheck) -> str:
    return f"readiness-{check.importer.bn9}-{check.taken_on.isoformat()}.pdf"
