"""carm_portal.form_renderer: widgets through Jinja2 where Django ships a Jinja2 template, the same
HTML as the template engine gives; the admin's widgets (template engine only) still render."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.forms import ReadOnlyPasswordHashWidget
from django.forms.renderers import DjangoTemplates, Jinja2, get_default_renderer
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


class Selects(forms.Form):
    """Every shape of select the inlined options must write as Django's own templates do."""

    plain = forms.ChoiceField(choices=[("", "Any"), ("x", "<X & 'y'>"), ("z", 'Z "q"')])
    grouped = forms.ChoiceField(
        choices=[("Ontario", [("on-1", "Ottawa"), ("on-2", "Toronto")]), ("qc", "Québec")],
        required=False,
    )
    several = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two"), ("3", "Three")])
    attrs = forms.ChoiceField(
        choices=[("1", "One")],
        widget=forms.Select(attrs={"disabled": True, "data-x": 'a"b', "aria-hidden": False}),
    )
    maybe = forms.NullBooleanField()
    empty = forms.ChoiceField(choices=[], required=False)


class OtherOption(forms.Select):
    """A select whose options use another template: still included, not written inline."""

    option_template_name = "django/forms/widgets/attrs.html"


@pytest.mark.parametrize(
    "data",
    [None, {"plain": "x", "grouped": "on-2", "several": ["1", "3"], "maybe": "false"}],
)
def test_selects_render_the_same_html_as_djangos_jinja2_templates(data):
    """Our select.html against Django's own (select.html including select_option.html)."""
    initial = {"plain": "z", "several": ["2"]}
    form = Selects(data, initial=initial)  # the site's renderer: JinjaFirstRenderer
    reference = Selects(data, initial=initial, renderer=Jinja2())
    for name in form.fields:
        assert form[name].as_widget() == reference[name].as_widget(), name
    assert "&lt;X &amp; &#39;y&#39;&gt;</option>" in form["plain"].as_widget()
    assert 'data-x="a&#34;b"' in form["attrs"].as_widget()


def test_selects_use_the_inlined_template_and_other_option_templates_are_included():
    template = JinjaFirstRenderer().get_template("django/forms/widgets/select.html")
    assert "carm_portal/jinja2" in template.origin.name
    widget = OtherOption(choices=[("1", "One"), ("2", "Two")])
    ours = widget.render("w", "2", renderer=JinjaFirstRenderer())
    theirs = widget.render("w", "2", renderer=Jinja2())
    assert ours == theirs
    assert "<option" not in ours  # the other template wrote each option
