"""The rows of the statement lists' tables, written in Python: the same HTML as the template loops
they replace, at a fraction of their cost.

Django's template engine spends about a thousand Python calls on each row of the reconciliation
worklist (eight cells, each a lookup through the context, a filter, an escape, a tag): 27,000 of
the page's 88,000 calls for 26 rows, the largest share of the CPU the page costs under the load
test; a row of the statement list costs as much. A row here is one ``str.format`` over values
read once: the variables the template escaped are escaped to the same text (``escape``, Django's
``escape`` in one ``str.translate``), the words it translated (``{% translate %}`` and
``_("…")``: safe text in Django, never escaped) are translated once per page and left unescaped
the same way, and the filters, tags and URLs are the very functions the template called
(``money``, ``date``, ``intcomma``, ``badge``, ``reverse``). ``tests/statements/test_list_rows.py``
renders each template's loop and compares, in English and in French, with every branch of a row
and text that needs escaping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from carm_portal.per_language import per_language
from carm_portal.reversing import reverse
from carm_portal.templatetags.formatting import date, money
from clients.templatetags.carm_ui import badge

WORKLIST_ROW = (
    "\n          <tr>"
    '\n            <td><input type="checkbox" name="bulk-items" value="{pk}" aria-label="{tick}">'
    "</td>"
    '\n            <td class="num" data-label="{l_age}">{age}</td>'
    '\n            <td data-label="{l_importer}"><a href="?importer={importer_id}">{importer}</a>'
    "</td>"
    '\n            <td data-label="{l_statement}"><a href="{statement_url}"><span class="mono">'
    '{bn15}</span> · <span class="nowrap">{statement_date}</span></a></td>'
    '\n            <td data-label="{l_status}">{badge}</td>'
    '\n            <td class="mono" data-label="{l_transaction}"><a href="{item_url}">{transaction}'
    "</a></td>"
    '\n            <td class="num mono nowrap" data-label="{l_at_risk}">{at_risk}{charged_again}'
    "</td>"
    '\n            <td data-label="{l_assigned}">{assigned}</td>'
    "\n          </tr>"
    "\n        "
)


#: What ``django.utils.html.escape`` replaces, and with what (``html.escape``): one
#: ``str.translate`` (a single C call) instead of Django's lazy-aware wrapper and five replaces.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape(text: str) -> str:
    """``django.utils.html.escape`` of a plain string (a model's text field), the same text."""
    return text.translate(_ESCAPES)


def _translated(message: str, context: str | None = None) -> str:
    """A word as ``{% translate %}`` gives it: translated, and never escaped (Django's translation
    of a template's literal is safe text). A plain ``str``: formatting it costs no Python call."""
    return str.__str__(pgettext(context, message) if context else gettext(message))


@dataclass(frozen=True)
class WorklistWords:
    """The words every row repeats, translated once per page in the active language."""

    age: str
    importer: str
    statement: str
    status: str
    transaction: str
    at_risk: str
    assigned: str
    unassigned: str  # a <span>: the template's whole "else" branch
    reopened: str  # the badge, after a space
    line: str
    charged_again: str  # with its leading space and <span>

    @classmethod
    def translated(cls) -> WorklistWords:
        return cls(
            age=_translated("Age (days)"),
            importer=_translated("Importer"),
            statement=_translated("Statement"),
            status=_translated("Status"),
            transaction=_translated("Transaction"),
            at_risk=_translated("Amount at risk"),
            assigned=_translated("Assigned to"),
            unassigned='<span class="muted">{}</span>'.format(
                _translated("Unassigned", "nobody is assigned to this exception")
            ),
            reopened=" " + badge("reopened", mark_safe(_translated("Reopened"))),  # noqa: S308
            line=_translated("(line)"),
            charged_again=' <span class="muted small">{}</span>'.format(
                _translated("charged again")
            ),
        )


@per_language
def _worklist_words() -> WorklistWords:
    """``WorklistWords`` in the active language, translated once per process and language
    (``carm_portal/per_language.py``) rather than once per page."""
    return WorklistWords.translated()


def worklist_rows(items: Iterable[Any]) -> SafeString:
    """The ``<tr>`` of each exception, as the template's loop wrote them (with its whitespace).

    Each item carries what the view adds (``status_label``, ``age_days``, ``tick_label``,
    ``at_risk``) and its ``importer``, ``statement.program_account`` and ``assigned_to``, read
    with it (``select_related``)."""
    words = _worklist_words()
    esc = escape
    out = []
    for item in items:
        statement = item.statement
        reopened = words.reopened if item.reopened else ""
        assigned = item.assigned_to
        out.append(
            WORKLIST_ROW.format(
                pk=item.pk,
                tick=esc(item.tick_label),
                l_age=words.age,
                age=item.age_days,
                l_importer=words.importer,
                importer_id=item.importer_id,
                importer=esc(item.importer.legal_name),
                l_statement=words.statement,
                statement_url=esc(statement.get_absolute_url()),
                bn15=esc(statement.program_account.bn15),
                statement_date=esc(date(statement.statement_date, "Y-m-d")),
                l_status=words.status,
                badge=str.__str__(badge(item.status, item.status_label)) + reopened,
                l_transaction=words.transaction,
                item_url=esc(
                    reverse("statements:reconciliation_item", args=[item.statement_id, item.pk])
                ),
                transaction=esc(item.transaction_number) if item.transaction_number else words.line,
                l_at_risk=words.at_risk,
                at_risk=esc(money(item.at_risk)),
                charged_again=words.charged_again if item.status == "duplicate" else "",
                l_assigned=words.assigned,
                assigned=esc(str(assigned)) if assigned else words.unassigned,
            )
        )
    return mark_safe("".join(out))  # noqa: S308  # every value above is escaped or safe


def listed_inputs(items: Iterable[Any]) -> SafeString:
    """The hidden ``bulk-listed`` input of each exception ("tick all" without JavaScript)."""
    return mark_safe(  # noqa: S308  # integers only
        "".join(f'<input type="hidden" name="bulk-listed" value="{item.pk}">' for item in items)
    )


STATEMENT_ROW = (
    "\n          <tr>"
    "\n            {importer}"
    '\n            <td class="mono" data-label="{l_account}"><a href="{url}">{bn15}</a></td>'
    '\n            <td class="mono" data-label="{l_date}"><a href="{url}">{date}</a></td>'
    '\n            <td class="mono nowrap" data-label="{l_period}">{period}</td>'
    '\n            <td data-label="{l_due}"><span class="mono">{due}</span>{due_badge}</td>'
    '\n            <td class="num" data-label="{l_lines}">{lines}</td>'
    '\n            <td class="num mono" data-label="{l_closing}">{closing}</td>'
    '\n            <td data-label="{l_status}">{status}</td>'
    "\n          </tr>"
    "\n        "
)
IMPORTER_CELL = (
    '<td><a class="table__primary" href="{url}">{name}</a></td>'  # the portfolio list only
)


@per_language
def _statement_words() -> tuple[dict[str, str], str, str]:
    """The column names and due badges of the statement list in the active language, translated
    once per process and language."""
    words = {
        "l_account": _translated("Program account"),
        "l_date": _translated("Statement date"),
        "l_period": _translated("Billing period"),
        "l_due": _translated("Due date"),
        "l_lines": _translated("Lines"),
        "l_closing": _translated("Closing balance"),
        "l_status": _translated("Status"),
    }
    overdue = " " + badge("overdue", mark_safe(_translated("Overdue")))  # noqa: S308
    due_soon = " " + badge("due_soon", mark_safe(_translated("Due soon")))  # noqa: S308
    return words, overdue, due_soon


def statement_rows(statements: Iterable[Any], *, with_importer: bool) -> SafeString:
    """The ``<tr>`` of each statement of ``templates/statements/statement_list.html``, as its loop
    wrote them; ``with_importer``: the importer's column (the portfolio list, not an importer's).

    Each statement carries ``overdue`` and ``due_soon`` (set by the view) and its
    ``program_account`` with its ``importer`` (``select_related``)."""
    words, overdue, due_soon = _statement_words()
    out = []
    for statement in statements:
        account = statement.program_account
        importer = ""
        if with_importer:
            importer = IMPORTER_CELL.format(
                url=escape(reverse("statements:importer", args=[account.importer_id])),
                name=escape(account.importer.legal_name),
            )
        out.append(
            STATEMENT_ROW.format(
                importer=importer,
                url=escape(statement.get_absolute_url()),
                bn15=escape(account.bn15),
                date=escape(date(statement.statement_date, "Y-m-d")),
                period=escape(statement.period_label),
                due=escape(date(statement.due_date, "Y-m-d")),
                due_badge=overdue if statement.overdue else due_soon if statement.due_soon else "",
                lines=escape(str(intcomma(statement.line_count))),
                closing=escape(money(statement.closing_balance)),
                status=badge(statement.status, statement.get_status_display()),
                **words,
            )
        )
    return mark_safe("".join(out))  # noqa: S308  # every value above is escaped or safe
