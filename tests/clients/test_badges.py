"""``{% badge %}``: remembered per process, and the same HTML as writing it each time."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from clients.templatetags.carm_ui import _badge, badge


def written(value, label, kind=""):
    classes = f"badge badge--{value or 'none'}" + (f" badge--{kind}" if kind else "")
    return format_html('<span class="{}">{}</span>', classes, label)


@pytest.mark.parametrize(
    ("value", "label", "kind"),
    [
        ("active", "Active", ""),
        ("", "No status", ""),
        (None, "None", "muted"),
        ("x", "<b>Rideau & fils</b>", ""),
        ("x", mark_safe("<b>Rideau</b>"), ""),
        ("overdue", "Overdue", "blocking"),
    ],
)
def test_the_same_html_as_writing_it(value, label, kind):
    assert badge(value, label, kind) == written(value, label, kind)
    assert badge(value, label, kind) == written(value, label, kind)  # from the table


def test_safe_and_plain_labels_of_the_same_text_never_share_an_entry():
    plain = badge("x", "<i>n</i>")
    safe = badge("x", mark_safe("<i>n</i>"))
    assert "&lt;i&gt;" in plain and "<i>n</i>" in safe
    assert badge("x", "<i>n</i>") == plain


def test_a_lazy_label_is_read_in_the_active_language():
    _badge.cache_clear()
    label = gettext_lazy("Overdue")
    with translation.override("en"):
        english = badge("overdue", label)
    with translation.override("fr"):
        french = badge("overdue", label)
    assert ">Overdue<" in english
    assert ">En retard<" in french
