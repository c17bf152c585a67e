"""The rules of a reconciliation: what CBSA charged against what the broker declared, and why they
differ. ``engine`` writes them in SQL; this docstring is their specification.

The rules (``docs/formats.md``, "Reconciliation export"), for one statement:

* ``CAD`` and ``ADJUSTMENT`` lines are compared with the **highest version** of the entry of the same
  program account (BN15) and transaction number, whatever that version's ``accounted_on`` (a line
  may charge an entry accepted in an earlier period, or be compared with an amendment accepted
  after the 17th). Equal in the total and in every component, to the cent: ``matched``. Differing
  by no more than the run's tolerance in the total *and* in every component:
  ``matched_within_tolerance``, with the differing components listed. Otherwise
  ``amount_mismatch``, with each differing component as ``{"statement", "entry", "difference"}``
  (strings, two places). A line with no entry is ``other_broker`` when the transaction number's
  first five digits (its ASEC) are not in ``BROKER_ASECS``, else ``unexpected_on_statement``.
* A transaction number on more than one ``CAD``/``ADJUSTMENT`` line of the statement: every such
  line is ``duplicate``, none is matched (each still shows its entry and difference). Two entries
  of the same version cannot exist: the unique constraint ``one_entry_per_transaction_version``
  (and the entries import before it) refuses them, so entry-side duplicates never reach this code.
* ``INTEREST``, ``PENALTY``, ``MISC``, ``PAYMENT`` and ``CREDIT`` lines are ``posted_by_cbsa``;
  interest and penalties are ``flagged``.
* The highest version of an entry accounted in the statement's billing period with no
  ``CAD``/``ADJUSTMENT`` line of its transaction number: ``missing_on_statement``.
* ``OPENING_BALANCE`` lines are not items; they feed the balance check, which is the statement
  page's (``selectors.BalanceCheck``): opening balance + the other lines = closing balance, and
  the ``OPENING_BALANCE`` line equals the statement's opening balance.
* A difference found by ``statements/balance.py`` (stated closing vs opening + lines; opening vs
  the previous statement's closing): one ``balance_difference`` item per differing check, written
  by the run after these (``outcome.insert_balance_items``), keyed ``balance:closing`` or
  ``balance:opening``, with the same carry-over.

``difference`` is always statement amount − entry amount, a missing side counted as 0.

**Exceptions** (``is_exception``): every item but ``matched``, ``matched_within_tolerance`` and the
unflagged ``posted_by_cbsa`` items (payments, credits, misc charges are listed for review but
need no one's decision); interest and penalties are exceptions to review.

**Keys** identify a finding across runs of one statement: ``txn:<number>`` for a line with a
transaction number, ``txn:<number>#<n>`` for the n-th duplicate line (file order), ``line:<row>``
for a line posted by CBSA (statement lines never change once imported, so the row is stable),
``entry:<number>`` for an entry missing on the statement.

**Carry-over.** A rerun copies ``resolution``, ``note``, ``assigned_to``, ``resolved_by``,
``resolved_at``, ``first_seen_at`` and ``reopened`` from the previous current run's item with the
same key, status, difference and differing components. When the key is the same but any of those
changed, ``first_seen_at``, ``note`` and ``assigned_to`` still carry over (the person working the
finding keeps it, with its note), the resolution is cleared and ``reopened`` is set if it had
been resolved and is still an exception. This happens inside the ``INSERT … SELECT`` that
writes the items.

Items are written by SQL, so simple-history records no "created" row for them: the run is the
record of what was found; history starts with the first change a person makes.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext as _

from carm_portal.money import CENT
from statements.models import ReconciliationItem, StatementLine

Code = ReconciliationItem.Code
MATCHABLE_TYPES = (StatementLine.LineType.CAD, StatementLine.LineType.ADJUSTMENT)
POSTED_TYPES = (
    StatementLine.LineType.INTEREST,
    StatementLine.LineType.PENALTY,
    StatementLine.LineType.MISC,
    StatementLine.LineType.PAYMENT,
    StatementLine.LineType.CREDIT,
)
FLAGGED_TYPES = (StatementLine.LineType.INTEREST, StatementLine.LineType.PENALTY)
OPENING = StatementLine.LineType.OPENING_BALANCE


def clean_tolerance(value: Decimal | str | None) -> Decimal:
    """A tolerance in dollars (default ``RECONCILIATION_TOLERANCE``): at least 0, in whole cents."""
    if value is None:
        value = settings.RECONCILIATION_TOLERANCE
    if isinstance(value, float):
        raise TypeError("A tolerance is never a float: pass a Decimal or a string.")
    try:
        tolerance = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(_("The tolerance must be an amount, such as 0.05.")) from None
    if not tolerance.is_finite() or tolerance < 0:
        raise ValueError(_("The tolerance must be an amount of 0 or more, such as 0.05."))
    if tolerance != tolerance.quantize(CENT) or tolerance >= Decimal("1e12"):
        raise ValueError(_("The tolerance must be an amount in dollars and cents, such as 0.05."))
    return tolerance.quantize(CENT)
