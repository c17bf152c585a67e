"""The filter forms of the list pages, rendered once per process for each thing they can show.

A list page's filter form (five or six ``includes/field.html`` with their widgets, labels and
errors) costs 3,500 to 6,000 Python calls to render, 10 to 20% of the page, and shows the same
HTML to everyone who asks the same question in the same language: the form's HTML is a function
of the language, of what was asked (the query string, bound or not), and of the few things its
view gives it (the statement dates offered, the staff listed, the importer's page).
``filters_html`` renders the form's template once for each of those and remembers the text, in a
table emptied when it grows past ``CACHED_FORMS`` (an attacker's random query strings cost memory
up to that bound, no more).

The caller names in ``depends_on`` everything else the template reads (besides the form, the
language and the query string): a new choice, a new setting value, another importer is another
entry. The form must already be validated as its view needs it (``is_valid()``): the errors it
shows are part of what was asked. Nothing in these forms depends on the user (no CSRF token: they
are GET forms), so one user's answer is another's.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django import forms
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.datastructures import MultiValueDict
from django.utils.safestring import SafeString
from django.utils.translation import get_language

#: Every filter of every list, in both languages, many times over.
CACHED_FORMS = 1024

_rendered: dict[Hashable, SafeString] = {}


def asked(form: forms.Form) -> tuple[bool, tuple[tuple[str, tuple[Any, ...]], ...]]:
    """Whether the form is bound, and the whole query string it was given, every parameter with
    its values: not only its fields' (``StatementFilterForm.is_filtered`` reads ``q`` where the
    importer's list has no such field)."""
    data = form.data
    if isinstance(data, MultiValueDict):  # a QueryDict; an unbound form's empty one
        return form.is_bound, tuple(sorted((name, tuple(values)) for name, values in data.lists()))
    return form.is_bound, tuple(sorted((name, (repr(value),)) for name, value in data.items()))


def filters_html(
    template_name: str,
    form: forms.Form,
    *,
    depends_on: Hashable = (),
    context: dict[str, Any] | None = None,
) -> SafeString:
    """``render_to_string(template_name, {"form": form, **context})``, remembered by the
    language, what was asked of the form and ``depends_on``."""
    return remembered(
        (template_name, get_language(), asked(form), depends_on),
        lambda: render_to_string(template_name, {"form": form, **(context or {})}),
    )


def remembered(key: Hashable, render: Callable[[], SafeString]) -> SafeString:
    """``render()``, remembered under ``key``: everything the HTML depends on, the language
    included (the worklist's bulk actions: their template, the language, the staff listed)."""
    html = _rendered.get(key)
    if html is None:
        html = render()
        if len(_rendered) >= CACHED_FORMS:
            _rendered.clear()
        _rendered[key] = html
    return html


@receiver(setting_changed)
def _forget_on_new_settings(**kwargs: Any) -> None:
    """A test's new settings (URLs, languages, form renderer) may change any form's HTML."""
    _rendered.clear()
