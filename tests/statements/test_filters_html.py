"""The list pages' filter forms, remembered per process (``statements/filters_html.py``),
against the forms as the pages rendered them before: each page's ``<form>`` below is the page's,
word for word, rendered by Django's engine for the same form. The same text for every question
(unbound, bound, filtered, invalid, text to escape), in English and in French, whether the answer
is rendered or remembered, and whatever was asked before."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.template import engines
from django.utils import translation

from carm_portal.models import User
from clients.models import Importer
from payments.forms import PaymentFilterForm
from statements import filters_html
from statements.forms import StatementFilterForm
from statements.reconciliation_forms import BulkForm, WorklistForm
from statements.reconciliation_views import worklist_bulk_fields

WORKLIST_FORM = """{% load i18n %}<form method="get" class="filters" role="search" aria-label="{% translate 'Filter exceptions' %}">
  {% include "includes/form_errors.html" %}
  <div class="filters__grid">
    {% include "includes/field.html" with field=form.q class="filters__search" %}
    {% include "includes/field.html" with field=form.assignee %}
    {% include "includes/field.html" with field=form.status %}
    {% include "includes/field.html" with field=form.age %}
    {% include "includes/field.html" with field=form.min_amount %}
    {% include "includes/field.html" with field=form.sort %}
    {{ form.importer }}
  </div>
  <div class="filters__actions">
    <button type="submit" class="button">{% translate "Apply filters" %}</button>
    {% if form.is_bound %}<a class="button button--ghost" href="{% url 'statements:worklist' %}">{% translate "Clear" %}</a>{% endif %}
  </div>
</form>
"""
STATEMENT_FORM = """{% load i18n %}<form method="get" class="filters" role="search" aria-label="{% translate 'Filter statements' %}">
  <div class="filters__grid">
    {% if form.q %}{% include "includes/field.html" with field=form.q class="filters__search" %}{% endif %}
    {% include "includes/field.html" with field=form.period %}
    {% include "includes/field.html" with field=form.status %}
    {% include "includes/field.html" with field=form.due %}
    {% include "includes/field.html" with field=form.reconcile %}
    {% include "includes/field.html" with field=form.reconciled_since %}
  </div>
  <div class="filters__actions">
    <button type="submit" class="button">{% translate "Apply filters" %}</button>
    {% if form.is_filtered %}<a class="button button--ghost" href="{% if importer %}{% url 'statements:importer' importer.pk %}{% else %}{% url 'statements:list' %}{% endif %}">{% translate "Clear" %}</a>{% endif %}
  </div>
</form>
"""
PAYMENT_FORM = """{% load i18n %}<form method="get" class="filters" role="search" aria-label="{% translate 'Filter payments' %}">
  {{ form.importer }}
  <div class="filters__grid">
    {% include "includes/field.html" with field=form.q class="filters__search" %}
    {% include "includes/field.html" with field=form.status %}
    {% include "includes/field.html" with field=form.method %}
    {% include "includes/field.html" with field=form.unapplied %}
  </div>
  <div class="filters__actions">
    <button type="submit" class="button">{% translate "Apply filters" %}</button>
    {% if form.is_filtered %}<a class="button button--ghost" href="{% url 'payments:list' %}">{% translate "Clear" %}</a>{% endif %}
  </div>
</form>
"""

STAFF = [
    User(pk=10, email="load.agent@broker.example", full_name=""),
    User(pk=11, email="ann@broker.example", full_name='Ann <O\'Neil> & "Co"'),
]
DATES = [dt.date(2026, 9, 25), dt.date(2026, 8, 25), dt.date(2026, 7, 25)]
IMPORTER = Importer(pk=26, legal_name="Rideau Office Interiors Inc.")

QUESTIONS = [
    None,
    {"page": "2"},
    {"q": '<b>"R&D\'s"</b>', "status": "paid"},
    {"q": "zz"},
    {"q": "zz", "page": "2"},  # only its search differs from {"page": "2"}
    {"assignee": "11", "age": "8-30", "sort": "amount", "min_amount": "100"},
    {"assignee": "nobody", "age": "zz", "min_amount": "lots", "importer": "abc"},
    {"period": "2026-08-25", "due": "overdue", "reconcile": "pending"},
    {"reconciled_since": "bad", "period": "1999-01-01"},
    {"status": "cleared", "method": "pad", "unapplied": "on"},
    {"importer": "26", "status": "zz"},
]


def query(params):
    return None if params is None else QueryDict(urlencode(params, doseq=True))


def render(source, **context):
    return engines["django"].from_string(source).render(context)


PAGES = {
    "worklist": lambda data: (
        WORKLIST_FORM,
        "statements/_worklist_filters.html",
        WorklistForm(data, staff=STAFF),
        tuple((person.pk, str(person)) for person in STAFF),
        {},
    ),
    "statements": lambda data: (
        STATEMENT_FORM,
        "statements/_statement_filters.html",
        StatementFilterForm(data, dates=DATES),
        (tuple(DATES), None),
        {"importer": None},
    ),
    "importer_statements": lambda data: (
        STATEMENT_FORM,
        "statements/_statement_filters.html",
        StatementFilterForm(data, dates=DATES[:2], with_search=False),
        (tuple(DATES[:2]), IMPORTER.pk),
        {"importer": IMPORTER},
    ),
    "payments": lambda data: (
        PAYMENT_FORM,
        "payments/_payment_filters.html",
        PaymentFilterForm(data),
        (),
        {},
    ),
}


@pytest.mark.parametrize("page", PAGES)
def test_the_filters_are_the_pages_own_forms_rendered_or_remembered(page):
    filters_html._rendered.clear()
    for _round in ("rendered", "remembered"):
        for language in ("en", "fr"):
            for params in QUESTIONS:
                source, template, form, depends_on, context = PAGES[page](query(params))
                form.is_valid()  # as each view does before rendering
                with translation.override(language):
                    expected = render(source, form=form, **context)
                    answer = filters_html.filters_html(
                        template, form, depends_on=depends_on, context=context
                    )
                assert answer == expected, (page, language, params)
    assert filters_html._rendered  # the second round came from the table


def test_what_the_form_depends_on_is_another_entry():
    filters_html._rendered.clear()
    one = filters_html.filters_html(
        "statements/_worklist_filters.html",
        WorklistForm(None, staff=STAFF[:1]),
        depends_on=((STAFF[0].pk, str(STAFF[0])),),
    )
    both = filters_html.filters_html(
        "statements/_worklist_filters.html",
        WorklistForm(None, staff=STAFF),
        depends_on=tuple((person.pk, str(person)) for person in STAFF),
    )
    assert "ann@broker.example" not in one
    assert "Ann &lt;O" in both and "Ann &lt;O" not in one


def test_the_table_is_bounded(monkeypatch):
    monkeypatch.setattr(filters_html, "CACHED_FORMS", 3)
    filters_html._rendered.clear()
    for n in range(10):
        filters_html.filters_html(
            "payments/_payment_filters.html", PaymentFilterForm(query({"q": n}))
        )
        assert len(filters_html._rendered) <= 3


def test_new_settings_empty_the_table(settings):
    filters_html.filters_html("payments/_payment_filters.html", PaymentFilterForm(None))
    assert filters_html._rendered
    settings.STATEMENTS_DUE_SOON_DAYS = 3
    assert not filters_html._rendered


# templates/statements/reconciliation_worklist.html's bulk actions before they moved to a partial
BULK_FIELDSET = """{% load i18n %}<fieldset class="recon-bulk">
    <legend>{% translate "Ticked exceptions" %}</legend>
    <div class="recon-actions">
      <span class="recon-actions__group">
        <label class="recon-actions__choice"><input type="radio" name="bulk-action" value="assign" checked> {% translate "Assign to" %}</label>
        <label for="{{ bulk.assignee.id_for_label }}" class="visually-hidden">{% translate "Assign to" %}</label>{{ bulk.assignee }}
      </span>
      <span class="recon-actions__group">
        <label class="recon-actions__choice"><input type="radio" name="bulk-action" value="resolve"> {% translate "Resolve as" %}</label>
        <label for="{{ bulk.resolution.id_for_label }}" class="visually-hidden">{% translate "Resolution" %}</label>{{ bulk.resolution }}
      </span>
      <span class="recon-actions__group recon-actions__group--note">
        <label for="{{ bulk.note.id_for_label }}">{% translate "Note" %}</label>{{ bulk.note }}
      </span>
      <button type="submit" class="button button--small">{% translate "Apply to the ticked exceptions" %}</button>
    </div>
  </fieldset>"""


@pytest.mark.parametrize("staff", [STAFF, STAFF[:1]])
def test_the_bulk_actions_are_the_pages_own_rendered_or_remembered(staff):
    filters_html._rendered.clear()
    key = tuple((person.pk, str(person)) for person in staff)
    for _round in ("rendered", "remembered"):
        for language in ("en", "fr"):
            with translation.override(language):
                # its list of people drawn from ``staff``: test_worklist_forms.py shows it is
                # the list BulkForm reads itself
                bulk = BulkForm(prefix="bulk", ids=[4, 5], staff=staff)
                expected = render(BULK_FIELDSET, bulk=bulk)
                answer = filters_html.remembered(
                    ("statements/_worklist_bulk.html", language, key),
                    lambda: worklist_bulk_fields(staff),
                )
            assert answer == expected, language
            assert ("ann@broker.example" in answer) is (len(staff) == 2)
