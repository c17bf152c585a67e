"""The payment list's rows written in Python (``payments/list_rows.py``) against the template
loop they replace, rendered by Django's engine: the same text in English and in French, for
every branch of a row and text that needs escaping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from clients.models import Importer, ProgramAccount
from payments import list_rows
from payments.models import Payment

# templates/payments/payment_list.html before its rows moved to list_rows.py
PAYMENT_LOOP = """{% load i18n carm_ui %}{% for p in payments %}
          <tr>
            <td><a class="table__primary mono" href="{{ p.get_absolute_url }}">{{ p.paid_on|date:"Y-m-d" }}</a>{% if p.reference %}<span class="table__secondary">{{ p.reference }}</span>{% endif %}</td>
            <td>{{ p.importer.legal_name }}<span class="table__secondary mono">{{ p.program_account.bn15 }}</span></td>
            <td>{{ p.get_method_display }}{% if p.source == "statement" %}<span class="table__secondary">{% translate "found on a statement" %}</span>{% endif %}</td>
            <td class="num mono">{{ p.amount|money }}</td>
            <td class="num mono">{% if p.counts and p.unapplied %}<strong>{{ p.unapplied|money }}</strong>{% else %}—{% endif %}</td>
            <td>{% badge p.status p.get_status_display %}</td>
          </tr>
        {% endfor %}"""

AWKWARD = "Café <b>\"A&B\"</b> l'ami & co's {0} %s"


def payments() -> list[Payment]:
    """Payments of every method and status, found on a statement or recorded, with and without a
    reference and money not applied, and text to escape."""
    plain = Importer(pk=26, legal_name="Rideau Office Interiors Inc.")
    awkward = Importer(pk=7, legal_name=AWKWARD)
    accounts = [
        ProgramAccount(pk=3, bn15="389422049RM0001", importer=plain),
        ProgramAccount(pk=4, bn15="<RM>&'\"", importer=awkward),
    ]
    methods = [*Payment.Method.values, "<unknown & odd>"]
    statuses = Payment.Status.values
    references = ["", "REF-1", "<b>R&D's</b>"]
    unapplied = [Decimal("0"), Decimal("12.5"), Decimal("-3"), Decimal("1234567.89")]
    made = []
    for n, method in enumerate(methods * 2):
        payment = Payment(
            pk=500 + n,
            importer=accounts[n % 2].importer,
            program_account=accounts[n % 2],
            amount=Decimal("1408.65") * (n - 3),
            method=method,
            paid_on=dt.date(2026, 9, 25) - dt.timedelta(days=n),
            reference=references[n % 3],
            status=statuses[n % 3],
            source=Payment.Source.STATEMENT if n % 2 else Payment.Source.RECORDED,
        )
        payment.unapplied = unapplied[n % 4]
        made.append(payment)
    return made


@pytest.mark.parametrize("language", ["en", "fr"])
def test_payment_rows_are_the_templates_rows(language):
    rows = payments()
    with translation.override(language):
        expected = engines["django"].from_string(PAYMENT_LOOP).render({"payments": rows})
        assert list_rows.payment_rows(rows) == expected
    assert "&lt;b&gt;R&amp;D&#x27;s&lt;/b&gt;" in expected  # the cases do escape
    assert "<strong>" in expected and "—" in expected


def test_payment_rows_of_no_payment_are_empty():
    assert list_rows.payment_rows([]) == ""
