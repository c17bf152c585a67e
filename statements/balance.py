"""The statement balance check, against figures that come from outside the statement's own lines.

The closing balance stored at import is the opening balance plus the lines, so comparing it with
opening + lines can never fail. This check compares instead:

(a) the closing balance CBSA's statement **states** (the file's ``CLOSING_BALANCE`` row,
    ``Statement.stated_closing_balance``) with the opening balance plus the lines
    (``Statement.closing_balance``): a file without the row gets the finding "no stated balance";
(b) the statement's **opening balance** with the **previous statement's closing balance** for the
    same RM program account. The previous statement is the one of the latest earlier
    ``statement_date`` of that account; its closing balance is its stated one when it has one, else
    its computed one. The first statement on record has nothing to compare with.

A difference in (a) or (b) is an exception to explain: the run writes it as a ``balance_difference``
item (``statements/reconciliation/outcome.py``); "no stated balance"
and "no previous statement" are said, not counted. Amounts are compared as ``Decimal`` in cents.

``check`` takes one statement (one query for the previous statement, none when the statement was
read through ``with_previous_closing``); ``with_previous_closing`` and ``differing`` give lists, the
worklist and the run (``statements/reconciliation/outcome.py``, with its runs) the same figures in
SQL. The pages, the PDF, the CSV export and the API all read this
module: none of them works a figure out on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, Lag
from django.utils.translation import gettext as _

from carm_portal.money import CENT, cents
from statements.models import Statement

# The codes of the findings (API, CSV rows of a difference, tests).
CLOSING_DIFFERS = "closing_differs"
NO_STATED_BALANCE = "no_stated_balance"
OPENING_DIFFERS = "opening_differs"
NO_PREVIOUS_STATEMENT = "no_previous_statement"


@dataclass(frozen=True)
class Finding:
    """One thing the check found; ``is_exception`` for a difference a person must explain."""

    code: str
    message: str
    is_exception: bool
    stated: Decimal | None = None  # the statement's figure
    expected: Decimal | None = None  # the figure it should equal
    difference: Decimal | None = None  # stated − expected

    @property
    def line_type(self) -> str:
        """The file row the finding is about (the CSV export's ``line_type``)."""
        return "OPENING_BALANCE" if self.code == OPENING_DIFFERS else "CLOSING_BALANCE"


@dataclass(frozen=True)
class StatementBalance:
    """The figures of the check and what it found."""

    opening: Decimal
    lines: Decimal  # every line but the opening balance
    computed_closing: Decimal  # opening + lines
    stated_closing: Decimal | None  # what the statement states; None: no stated balance
    closing_difference: Decimal | None  # stated − computed; None when nothing is stated
    previous_statement_id: int | None
    previous_statement_date: dt.date | None
    previous_closing: Decimal | None  # the previous statement's stated closing, else its computed
    opening_difference: Decimal | None  # opening − previous closing; None with no previous
    findings: tuple[Finding, ...]

    @property
    def differences(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_exception]

    @property
    def exception_count(self) -> int:
        return len(self.differences)

    @property
    def ok(self) -> bool:
        """Nothing differs (a statement that states nothing is not *wrong*, only unchecked)."""
        return not self.differences

    @property
    def is_stated(self) -> bool:
        return self.stated_closing is not None


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT)


def previous_statements(outer: str = "") -> QuerySet[Statement]:
    """The earlier statements of the same program account, latest first, relative to the
    statement at ``OuterRef(outer + "...")`` (``outer``: the path to it, e.g. ``"statement__"``)."""
    return Statement.objects.filter(
        program_account_id=OuterRef(f"{outer}program_account_id"),
        statement_date__lt=OuterRef(f"{outer}statement_date"),
    ).order_by("-statement_date")


def with_previous_closing(queryset: QuerySet, outer: str = "") -> QuerySet:
    """``queryset`` annotated with ``previous_id``, ``previous_date`` and ``previous_closing`` (the
    previous statement's stated closing balance, else its computed one) of its statement (the row
    itself, or the one at ``outer``, e.g. ``"statement__"`` for runs): lists read the check
    without a query per row."""
    previous = previous_statements(outer)
    return queryset.annotate(
        previous_id=Subquery(previous.values("pk")[:1]),
        previous_date=Subquery(previous.values("statement_date")[:1]),
        previous_closing=Subquery(
            previous.annotate(closing=Coalesce("stated_closing_balance", "closing_balance")).values(
                "closing"
            )[:1]
        ),
    )


def differing(statements: QuerySet[Statement]) -> QuerySet[Statement]:
    """The statements whose balance check finds a difference, compared in cents in SQL, with
    the previous statement's figures annotated (``with_previous_closing``, for ``check``).

    ``statements`` holds whole accounts (every statement of each account it holds: a scope by
    importer or account), since each statement's previous one is read among them; narrow the
    result afterwards (e.g. to the reconciled ones). The previous closing balance comes from one
    window pass (``LAG`` over each account's statements by date) rather than a subquery per
    statement: the worklist checks every statement of the portfolio, 52,623 of them at the
    benchmark's size, and the subqueries took 0.17 s."""
    return with_previous_closing(statements.filter(pk__in=_differing_ids(statements)))


def refresh_differs(statements: QuerySet[Statement]) -> int:
    """Bring ``Statement.balance_differs`` up to date over ``statements`` (whole accounts, as for
    ``differing``): two updates, whatever the number of statements; returns how many changed.
    Whoever writes statements calls it (the import, a statement saved or deleted)."""
    differ = _differing_ids(statements)
    changed = statements.filter(pk__in=differ, balance_differs=False).update(balance_differs=True)
    return changed + statements.exclude(pk__in=differ).filter(balance_differs=True).update(
        balance_differs=False
    )


def refresh_accounts(account_ids: Iterable[int]) -> int:
    """``refresh_differs`` over every statement of the given RM program accounts."""
    return refresh_differs(Statement.objects.filter(program_account_id__in=list(account_ids)))


def _differing_ids(statements: QuerySet[Statement]) -> QuerySet:
    """The ids of ``statements`` whose check finds a difference (a subquery), see ``differing``."""
    checked = (
        statements.order_by()
        .annotate(own_closing=Coalesce("stated_closing_balance", "closing_balance"))
        .annotate(
            previous_closing=Window(
                Lag("own_closing"),
                partition_by=[F("program_account_id")],
                order_by=F("statement_date").asc(),
            )
        )
        .annotate(
            stated_cents=cents("stated_closing_balance"),
            closing_cents=cents("closing_balance"),
            opening_cents=cents("opening_balance"),
            previous_cents=cents("previous_closing"),
        )
        .filter(
            Q(stated_closing_balance__isnull=False) & ~Q(stated_cents=F("closing_cents"))
            | Q(previous_closing__isnull=False) & ~Q(opening_cents=F("previous_cents"))
        )
    )
    return checked.values("pk")


def check(statement: Statement) -> StatementBalance:
    """The balance check of ``statement``: one query for the previous statement, none when
    ``statement`` was read through ``with_previous_closing``."""
    if hasattr(statement, "previous_closing"):
        annotated: Any = statement  # the annotations of with_previous_closing
        return figures(
            statement, annotated.previous_id, annotated.previous_date, annotated.previous_closing
        )
    row = (
        Statement.objects.filter(
            program_account_id=statement.program_account_id,
            statement_date__lt=statement.statement_date,
        )
        .order_by("-statement_date")
        .values_list("pk", "statement_date", "stated_closing_balance", "closing_balance")
        .first()
    )
    if row is None:
        return figures(statement, None, None, None)
    pk, day, stated, computed = row
    return figures(statement, pk, day, computed if stated is None else stated)


def figures(
    statement: Statement,
    previous_id: int | None,
    previous_date: dt.date | None,
    previous_closing: Any,
) -> StatementBalance:
    """The check from the statement and its previous statement's figures (None: no previous)."""
    opening = _money(statement.opening_balance)
    computed = _money(statement.closing_balance)
    stated = (
        None
        if statement.stated_closing_balance is None
        else _money(statement.stated_closing_balance)
    )
    previous = None if previous_closing is None else _money(previous_closing)
    findings: list[Finding] = []
    closing_difference = None
    if stated is None:
        findings.append(
            Finding(
                NO_STATED_BALANCE,
                _(
                    "No stated balance: the statement file has no CLOSING_BALANCE row, so the "
                    "closing balance could not be checked against CBSA's figure."
                ),
                is_exception=False,
                expected=computed,
            )
        )
    else:
        closing_difference = stated - computed
        if closing_difference:
            findings.append(
                Finding(
                    CLOSING_DIFFERS,
                    _(
                        "The statement states a closing balance of %(stated)s, but its opening "
                        "balance plus its lines give %(computed)s: a difference of %(diff)s."
                    )
                    % {"stated": stated, "computed": computed, "diff": closing_difference},
                    is_exception=True,
                    stated=stated,
                    expected=computed,
                    difference=closing_difference,
                )
            )
    opening_difference = None
    if previous is None:
        findings.append(
            Finding(
                NO_PREVIOUS_STATEMENT,
                _(
                    "No earlier statement of this account is on record: the opening balance has "
                    "nothing to be compared with."
                ),
                is_exception=False,
                stated=opening,
            )
        )
    else:
        opening_difference = opening - previous
        if opening_difference:
            findings.append(
                Finding(
                    OPENING_DIFFERS,
                    _(
                        "The opening balance of %(opening)s is not the closing balance of the "
                        "previous statement (%(date)s), %(previous)s: a difference of %(diff)s."
                    )
                    % {
                        "opening": opening,
                        "date": previous_date.isoformat() if previous_date else "",
                        "previous": previous,
                        "diff": opening_difference,
                    },
                    is_exception=True,
                    stated=opening,
                    expected=previous,
                    difference=opening_difference,
                )
            )
    return StatementBalance(
        opening=opening,
        lines=computed - opening,
        computed_closing=computed,
        stated_closing=stated,
        closing_difference=closing_difference,
        previous_statement_id=previous_id,
        previous_statement_date=previous_date,
        previous_closing=previous,
        opening_difference=opening_difference,
        findings=tuple(findings),
    )
