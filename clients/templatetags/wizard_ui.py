"""Template helpers of the onboarding wizard's pages."""

from __future__ import annotations

from django import forms, template

register = template.Library()


@register.filter
def error_anchor(bound_field: forms.BoundField) -> str:
    """The id an error summary links to: the input, or the first option of a radio/checkbox group
    (a group's label has no single input to point at)."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound_field.auto_id}_0"
    return bound_field.id_for_label or bound_field.auto_id
