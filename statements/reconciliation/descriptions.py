"""A run read back: one line of counts and balance (the ``reconcile`` command, the demo) and the
differences by status (charts)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from statements.models import ReconciliationRun
from statements.reconciliation.rules import Code

Run = ReconciliationRun


def describe(run: ReconciliationRun) -> str:
    """One line on a run: counts by status and the balance check."""
    if run.status == Run.Status.FAILED:
        return run.error
    labels = dict(Code.choices)
    counts = ", ".join(
        f"{labels.get(code, code)}: {run.summary[code]['count']}"
        for code in Code.values
        if code in run.summary
    )
    if run.balance_ok:
        balance = _("balance checks out")
    elif run.balance_difference:
        balance = _("balance off by %(difference)s") % {"difference": run.balance_difference}
    else:  # the lines add up; the stated or the previous closing balance differs
        balance = _("balance differs from the stated or the previous closing balance")
    return _("%(items)d items (%(counts)s); %(exceptions)d exceptions; %(balance)s.") % {
        "items": run.item_count,
        "counts": counts or _("none"),
        "exceptions": run.exception_count,
        "balance": balance,
    }


def totals_by_status(run: ReconciliationRun) -> dict[str, Decimal]:
    """Differences by status code, as Decimals (for charts)."""
    return {code: Decimal(values["difference"]) for code, values in run.summary.items()}
