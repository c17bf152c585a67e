"""Small presentation helpers for the pages: status badges, checklist progress bars, accessible
form widgets. No logic about who may do what lives here (that is ``clients.access``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms, template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clients.models import OnboardingStep

register = template.Library()

Step = OnboardingStep.Step
Status = OnboardingStep.Status


@register.simple_tag
def badge(value: str, label: Any, kind: str = "") -> SafeString:
    """``{% badge importer.status importer.get_status_display %}`` -> a coloured status badge."""
    classes = f"badge badge--{value or 'none'}"
    if kind:
        classes += f" badge--{kind}"
    return format_html('<span class="{}">{}</span>', classes, label)


@register.simple_tag
def yes_no(value: bool, yes: str = "", no: str = "") -> SafeString:
    """A yes/no badge with words, not colour alone."""
    if value:
        return format_html('<span class="badge badge--yes">{}</span>', yes or _("Yes"))
    return format_html('<span class="badge badge--no">{}</span>', no or _("No"))


@register.inclusion_tag("includes/step_bar.html")
def step_bar(steps: Iterable[OnboardingStep], size: str = "") -> dict[str, Any]:
    """The seven checklist steps as a segmented bar (prefetched rows; missing = not started)."""
    by_step = {row.step: row.status for row in steps}
    segments = []
    for number, label in Step.choices:
        status = by_step.get(number, Status.NOT_STARTED)
        segments.append(
            {"step": number, "label": label, "status": status, "status_label": Status(status).label}
        )
    done = sum(1 for s in segments if s["status"] == Status.DONE)
    blocked = sum(1 for s in segments if s["status"] == Status.BLOCKED)
    summary = ngettext(
        "%(done)d of %(total)d steps done", "%(done)d of %(total)d steps done", done
    ) % {"done": done, "total": len(segments)}
    if blocked:
        summary += ", " + ngettext("%(n)d blocked", "%(n)d blocked", blocked) % {"n": blocked}
    return {
        "segments": segments,
        "done": done,
        "total": len(segments),
        "blocked": blocked,
        "summary": summary,
        "size": size,
    }


@register.filter
def is_checkbox(bound_field: forms.BoundField) -> bool:
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.filter
def aria(bound_field: forms.BoundField) -> SafeString:
    """Render the widget tied to its help text and errors (aria-describedby, aria-invalid)."""
    described_by = []
    if bound_field.errors:
        described_by.append(f"{bound_field.auto_id}_errors")
    if bound_field.help_text:
        described_by.append(f"{bound_field.auto_id}_helptext")
    attrs: dict[str, str | bool] = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if bound_field.errors:
        attrs["aria-invalid"] = "true"
    return bound_field.as_widget(attrs=attrs)


@register.simple_tag
def broker_name() -> str:
    return getattr(settings, "BROKER_NAME", "")
