"""carm_portal.form_renderer: widgets through Jinja2 where Django ships a Jinja2 template, the same
HTML as the template engine gives; the admin's widgets (template engine only) still render."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.forms import ReadOnlyPasswordHashWidget
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template.backends.jinja2 import Template as JinjaTemplate

from carm_portal.form_renderer import JinjaFirstRenderer


class Filters(forms.Form):
    q = forms.CharField(required=False, help_text="Name or BN9")
    status = forms.ChoiceField(choices=[("", "Any"), ("active", "Active"), ("onboarding", "<b>")])
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    mine = forms.BooleanField(required=False)
    kinds = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple, required=False
    )


def test_the_site_renders_forms_with_it():
    assert isinstance(get_default_renderer(), JinjaFirstRenderer)


@pytest.mark.parametrize("bound", [False, True])
def test_widgets_render_the_same_html_as_the_template_engine(bound):
    data = {"q": "Rideau & fils", "status": "onboarding", "mine": "on", "kinds": ["b"]}
    form = Filters(data if bound else None)
    ours = form.render(renderer=JinjaFirstRenderer())
    theirs = form.render(renderer=DjangoTemplates())
    assert ours == theirs
    assert "&lt;b&gt;" in ours  # a choice label, escaped
    if bound:
        assert "Rideau &amp; fils" in ours and "checked" in ours


def test_a_widget_with_a_jinja_template_is_rendered_by_jinja():
    template = JinjaFirstRenderer().get_template("django/forms/widgets/select.html")
    assert isinstance(template, JinjaTemplate)


def test_a_widget_without_one_falls_back_to_the_template_engine():
    html = ReadOnlyPasswordHashWidget().render("password", "", renderer=JinjaFirstRenderer())
    assert "No password set." in html
