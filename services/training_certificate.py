"""The training completion certificate (PDF): who, for which importer, which course, when, valid
until when, and a verification reference.

Rendered by ``carm_portal.pdf`` (WeasyPrint with a fetcher that reads only our static files). The
person's and importer's names are user text: they appear in the HTML (escaped by the template),
never in CSS.
"""

from __future__ import annotations

import re

from django.template.loader import render_to_string

from services.compliance.training import valid_until, verification_reference
from services.models import TrainingCompletion


def certificate_context(completion: TrainingCompletion) -> dict:
    user = completion.membership.user
    return {
        "completion": completion,
        "person": user.get_full_name() or user.email,
        "importer": completion.importer,
        "course": completion.course,
        "reference": verification_reference(completion),
        "valid_until": valid_until(completion),
    }


def render_html(completion: TrainingCompletion) -> str:
    return render_to_string(
        "compliance/pdf/training_certificate.html", certificate_context(completion)
    )


def render_certificate(completion: TrainingCompletion) -> bytes:
    from carm_portal import pdf  # imported here: WeasyPrint takes a moment to load

    return pdf.render_pdf(render_html(completion))


def certificate_filename(completion: TrainingCompletion) -> str:
    """An ASCII file name from the reference and date alone (no user text in a header)."""
    name = f"training-certificate-{verification_reference(completion)}-{completion.completed_on:%Y-%m-%d}.pdf"
    return re.sub(r"[^A-Za-z0-9._-]", "-", name)
