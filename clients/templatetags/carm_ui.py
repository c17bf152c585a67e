"""Small presentation helpers for the pages: status badges, checklist progress bars, accessible
form widgets. No logic about who may do what lives here (that is ``clients.access``)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django import forms, template
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from carm_portal.per_language import per_language
from clients.models import OnboardingStep

register = template.Library()

Step = OnboardingStep.Step
Status = OnboardingStep.Status


@register.simple_tag
def badge(value: str, label: Any, kind: str = "") -> SafeString:
    """``{% badge importer.status importer.get_status_display %}`` -> a coloured status badge.

    Remembered per process (``_badge``): a list draws one or two per row from a few dozen
    statuses. The label is keyed by its text and by whether it is already safe HTML (escaped
    otherwise), so the two never share an entry."""
    text = str(label)  # a lazy label in the active language
    return _badge(str(value or ""), text, isinstance(text, SafeString), kind)


@functools.lru_cache(maxsize=2048)
def _badge(value: str, label: str, label_is_safe: bool, kind: str) -> SafeString:
    classes = f"badge badge--{value or 'none'}"
    if kind:
        classes += f" badge--{kind}"
    return format_html(
        '<span class="{}">{}</span>', classes, SafeString(label) if label_is_safe else label
    )


@register.simple_tag
def yes_no(value: bool, yes: str = "", no: str = "") -> SafeString:
    """A yes/no badge with words, not colour alone."""
    if value:
        return format_html('<span class="badge badge--yes">{}</span>', yes or _("Yes"))
    return format_html('<span class="badge badge--no">{}</span>', no or _("No"))


@per_language
def _checklist_labels() -> tuple[dict[int, str], dict[str, str]]:
    """The steps' and statuses' names in the active language, translated once per process and
    language (a list of fifty importers would otherwise translate 700 labels per page)."""
    return (
        {number: str(label) for number, label in Step.choices},
        {value: str(label) for value, label in Status.choices},
    )


def step_bar_context(steps: Iterable[OnboardingStep]) -> dict[str, Any]:
    """The seven checklist steps' statuses (prefetched rows; missing = not started), the counts
    and the spoken summary, in the active language."""
    by_step = {row.step: row.status for row in steps}
    step_labels, status_labels = _checklist_labels()
    segments = []
    for number, label in step_labels.items():
        status = by_step.get(number, Status.NOT_STARTED)
        segments.append(
            {
                "step": number,
                "label": label,
                "status": status,
                "status_label": status_labels[status],
            }
        )
    done = sum(1 for s in segments if s["status"] == Status.DONE)
    blocked = sum(1 for s in segments if s["status"] == Status.BLOCKED)
    summary = ngettext(
        "%(done)d of %(total)d steps done", "%(done)d of %(total)d steps done", done
    ) % {"done": done, "total": len(segments)}
    if blocked:
        summary += ", " + ngettext("%(n)d blocked", "%(n)d blocked", blocked) % {"n": blocked}
    return {"segments": segments, "done": done, "total": len(segments), "summary": summary}


@register.simple_tag
def step_bar(steps: Iterable[OnboardingStep], size: str = "") -> SafeString:
    """The seven checklist steps as a segmented bar.

    Built in Python rather than through an included template, and remembered per process by
    the steps' statuses, the size and the language (``_step_bar_html``): the client list draws
    one per row, and fifty renders were a third of that page's CPU time under load."""
    return step_bar_in(((row.step, row.status) for row in steps), size, get_language())


def step_bar_in(statuses: Iterable[tuple[int, str]], size: str, language: str | None) -> SafeString:
    """``step_bar`` of the steps' (number, status) pairs, in ``language`` (the active one): for a
    caller drawing many bars, which asks for the language once and reads no step rows."""
    return _step_bar_html(tuple(sorted(statuses)), size, language)


@functools.lru_cache(maxsize=4096)
def _step_bar_html(
    by_step: tuple[tuple[int, str], ...], size: str, language: str | None
) -> SafeString:
    """The bar's HTML for one combination of statuses: a pure function of its arguments (the
    labels come from ``_checklist_labels`` in ``language``, the active one when called)."""
    bar = step_bar_context(OnboardingStep(step=step, status=status) for step, status in by_step)
    segments = format_html_join(
        "",
        '<span class="stepbar__seg stepbar__seg--{}" title="{}. {}: {}"></span>',
        ((s["status"], s["step"], s["label"], s["status_label"]) for s in bar["segments"]),
    )
    return format_html(
        '<span class="stepbar{}"><span class="stepbar__track" role="img" aria-label="{}">{}'
        '</span><span class="stepbar__count" aria-hidden="true">{}/{}</span></span>',
        f" stepbar--{size}" if size else "",
        bar["summary"],
        segments,
        bar["done"],
        bar["total"],
    )


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
