"""The list rows written in Python (``statements/list_rows.py``) against the template loops they
replace: each loop below is the template's, word for word, rendered by Django's engine; the rows
must be the same text, in English and in French, for every branch of a row and for text that
needs escaping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation
from django.utils.html import escape as django_escape

from carm_portal.models import User
from clients.models import Importer, ProgramAccount
from statements import list_rows
from statements.models import ReconciliationItem, Statement

# templates/statements/reconciliation_worklist.html before the rows moved to list_rows.py
WORKLIST_LOOP = """{% load i18n carm_ui %}{% translate "Age (days)" as age_days_label %}{% translate "Importer" as importer_label %}{% translate "Statement" as statement_label %}{% translate "Status" as status_label %}{% translate "Transaction" as transaction_label %}{% translate "Amount at risk" as amount_at_risk_label %}{% translate "Assigned to" as assigned_to_label %}{% translate "Unassigned" context "nobody is assigned to this exception" as unassigned_label %}{% for item in items %}
          <tr>
            <td><input type="checkbox" name="bulk-items" value="{{ item.pk }}" aria-label="{{ item.tick_label }}"></td>
            <td class="num" data-label="{{ age_days_label }}">{{ item.age_days }}</td>
            <td data-label="{{ importer_label }}"><a href="?importer={{ item.importer_id }}">{{ item.importer.legal_name }}</a></td>
            <td data-label="{{ statement_label }}"><a href="{{ item.statement.get_absolute_url }}"><span class="mono">{{ item.statement.program_account.bn15 }}</span> · <span class="nowrap">{{ item.statement.statement_date|date:"Y-m-d" }}</span></a></td>
            <td data-label="{{ status_label }}">{% badge item.status item.status_label %}{% if item.reopened %} {% badge "reopened" _("Reopened") %}{% endif %}</td>
            <td class="mono" data-label="{{ transaction_label }}"><a href="{% url 'statements:reconciliation_item' item.statement_id item.pk %}">{{ item.transaction_number|default:_("(line)") }}</a></td>
            <td class="num mono nowrap" data-label="{{ amount_at_risk_label }}">{{ item.at_risk|money }}{% if item.status == "duplicate" %} <span class="muted small">{% translate "charged again" %}</span>{% endif %}</td>
            <td data-label="{{ assigned_to_label }}">{% if item.assigned_to %}{{ item.assigned_to }}{% else %}<span class="muted">{{ unassigned_label }}</span>{% endif %}</td>
          </tr>
        {% endfor %}"""

LISTED_LOOP = """{% for item in items %}<input type="hidden" name="bulk-listed" value="{{ item.pk }}">{% endfor %}"""

AWKWARD = "Café <b>\"A&B\"</b> l'ami & co's {0} %s"


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def worklist_items() -> list[ReconciliationItem]:
    """Exceptions covering each branch of a row: reopened or not, duplicate or not, with and
    without a transaction number, assigned (by name, by e-mail) or not, text to escape."""
    plain = Importer(pk=26, legal_name="Rideau Office Interiors Inc.")
    awkward = Importer(pk=7, legal_name=AWKWARD)
    account = ProgramAccount(pk=3, bn15="389422049RM0001", importer=plain)
    statement = Statement(pk=1, statement_date=dt.date(2026, 9, 25), program_account=account)
    odd_account = ProgramAccount(pk=4, bn15="<RM>&'\"", importer=awkward)
    odd_statement = Statement(
        pk=12, statement_date=dt.date(2025, 1, 2), program_account=odd_account
    )
    named = User(pk=2, email="ann@broker.example", full_name='Ann <O\'Neil> & "Co"')
    unnamed = User(pk=3, email="bob&<x>@broker.example", full_name="")
    cases = [
        (5, statement, plain, "missing_on_statement", False, "12345049609004", None, "-367.67", 0),
        (6, statement, plain, "duplicate", True, "", named, "1234.5", 12),
        (77, odd_statement, awkward, "amount_differs", True, "<b>T&1'</b>", unnamed, "0", 400),
        (1234, odd_statement, awkward, "balance_difference", False, "", None, "-0.01", -1),
    ]
    items = []
    for pk, stmt, importer, status, reopened, number, assignee, at_risk, age in cases:
        item = ReconciliationItem(
            pk=pk,
            statement=stmt,
            importer=importer,
            status=status,
            reopened=reopened,
            key=f"key-{pk}",
            transaction_number=number,
            assigned_to=assignee,
        )
        item.at_risk = Decimal(at_risk)
        item.status_label = f"{status} <label> & 'x'"
        item.age_days = age
        item.tick_label = f"Tick {number or item.key} of {importer.legal_name}"
        items.append(item)
    return items


@pytest.mark.parametrize("language", ["en", "fr"])
def test_worklist_rows_are_the_templates_rows(language):
    items = worklist_items()
    with translation.override(language):
        expected = render(WORKLIST_LOOP, items=items)
        assert list_rows.worklist_rows(items) == expected
    assert "&lt;b&gt;T&amp;1&#x27;&lt;/b&gt;" in expected  # the cases do escape
    assert ("(ligne)" if language == "fr" else "(line)") in expected


def test_worklist_rows_of_no_exception_are_empty():
    assert list_rows.worklist_rows([]) == render(WORKLIST_LOOP, items=[]) == ""


def test_listed_inputs_are_the_templates_inputs():
    items = worklist_items()
    assert list_rows.listed_inputs(items) == render(LISTED_LOOP, items=items)


def test_escape_is_djangos_escape():
    every = "".join(chr(n) for n in range(0x250)) + AWKWARD + "\u2212\xa0€😀"
    assert list_rows.escape(every) == django_escape(every)
    assert list_rows.escape("") == ""


# templates/statements/statement_list.html before its rows moved to list_rows.py
STATEMENT_LOOP = """{% load i18n carm_ui humanize %}{% translate "Program account" as program_account_label %}{% translate "Statement date" as statement_date_label %}{% translate "Billing period" as billing_period_label %}{% translate "Due date" as due_date_label %}{% translate "Lines" as lines_label %}{% translate "Closing balance" as closing_balance_label %}{% translate "Status" as status_label %}{% for s in statements %}
          <tr>
            {% if not importer %}<td><a class="table__primary" href="{% url 'statements:importer' s.program_account.importer_id %}">{{ s.program_account.importer.legal_name }}</a></td>{% endif %}
            <td class="mono" data-label="{{ program_account_label }}"><a href="{{ s.get_absolute_url }}">{{ s.program_account.bn15 }}</a></td>
            <td class="mono" data-label="{{ statement_date_label }}"><a href="{{ s.get_absolute_url }}">{{ s.statement_date|date:"Y-m-d" }}</a></td>
            <td class="mono nowrap" data-label="{{ billing_period_label }}">{{ s.period_label }}</td>
            <td data-label="{{ due_date_label }}"><span class="mono">{{ s.due_date|date:"Y-m-d" }}</span>{% if s.overdue %} {% badge "overdue" _("Overdue") %}{% elif s.due_soon %} {% badge "due_soon" _("Due soon") %}{% endif %}</td>
            <td class="num" data-label="{{ lines_label }}">{{ s.line_count|intcomma }}</td>
            <td class="num mono" data-label="{{ closing_balance_label }}">{{ s.closing_balance|money }}</td>
            <td data-label="{{ status_label }}">{% badge s.status s.get_status_display %}</td>
          </tr>
        {% endfor %}"""


def statements() -> list[Statement]:
    """Statements of each status, overdue, due soon, both or neither, with large counts and
    amounts, negative balances and text to escape."""
    plain = Importer(pk=26, legal_name="Rideau Office Interiors Inc.")
    awkward = Importer(pk=7, legal_name=AWKWARD)
    accounts = [
        ProgramAccount(pk=3, bn15="389422049RM0001", importer=plain),
        ProgramAccount(pk=4, bn15="<RM>&'\"", importer=awkward),
    ]
    cases = [
        ("open", True, False, 12, "15435.94"),
        ("reconciled", False, True, 1234567, "-1408.65"),
        ("paid", True, True, 0, "0"),
        ("open", False, False, 1000, "0.01"),
        ("<odd>", False, False, 7, "1000000"),
    ]
    made = []
    for n, (status, overdue, due_soon, lines, closing) in enumerate(cases):
        statement = Statement(
            pk=100 + n,
            program_account=accounts[n % 2],
            statement_date=dt.date(2026, 9, 25) - dt.timedelta(days=31 * n),
            period_start=dt.date(2026, 8, 18) - dt.timedelta(days=31 * n),
            period_end=dt.date(2026, 9, 17) - dt.timedelta(days=31 * n),
            due_date=dt.date(2026, 10, 1) - dt.timedelta(days=31 * n),
            line_count=lines,
            closing_balance=Decimal(closing),
            status=status,
        )
        statement.overdue = overdue
        statement.due_soon = due_soon
        made.append(statement)
    return made


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("importer", [None, Importer(pk=26, legal_name="Rideau")])
def test_statement_rows_are_the_templates_rows(language, importer):
    rows = statements()
    with translation.override(language):
        expected = render(STATEMENT_LOOP, statements=rows, importer=importer)
        assert list_rows.statement_rows(rows, with_importer=importer is None) == expected
    assert "&lt;RM&gt;&amp;&#x27;&quot;" in expected  # the cases do escape
    assert ("1\xa0234\xa0567" if language == "fr" else "1,234,567") in expected
    assert ("statements/importer/7/" in expected) is (importer is None)


def test_the_words_are_remembered_per_language():
    """The rows' words are translated once per language: English, French, English again, each
    time the template's."""
    items, rows = worklist_items(), statements()
    for language in ("en", "fr", "en", "fr"):
        with translation.override(language):
            assert list_rows.worklist_rows(items) == render(WORKLIST_LOOP, items=items)
            assert list_rows.statement_rows(rows, with_importer=True) == render(
                STATEMENT_LOOP, statements=rows, importer=None
            )
