"""The security each RM account will need at CBSA's next annual review, and who will fall short.

At the review (20 October) CBSA recomputes the requirement over the 12 months before it. The
statements already issued in that window are known today; this forecast applies the rule of
``payments.security`` (``peaks_for_accounts`` and ``requirement_from_peak``, the arithmetic of
``required_security``) on the review date to them, and compares it with the security that will
still be in force that day (``payments.rules.coverage``, the daily check's rule). Statements
issued between now and the review can only raise the figure: the forecast is a floor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from carm_portal.money import ZERO
from clients.models import ProgramAccount
from payments.checks import load_security_facts
from payments.rules import REVIEW_DAY, REVIEW_MONTH, Coverage, coverage
from payments.security import peaks_for_accounts, requirements


def next_review(today: dt.date) -> dt.date:
    """The next 20 October, today included."""
    review = dt.date(today.year, REVIEW_MONTH, REVIEW_DAY)
    return review if today <= review else dt.date(today.year + 1, REVIEW_MONTH, REVIEW_DAY)


@dataclass(frozen=True)
class Forecast:
    """One RM account at the next review."""

    account: ProgramAccount
    review_on: dt.date
    peak: Decimal | None  # the highest monthly total in the window (None: no statement yet)
    required: dict[str, Decimal]  # kind -> required amount
    coverage: Coverage

    @property
    def posted(self) -> Decimal:
        return self.coverage.total_posted

    @property
    def short(self) -> bool:
        return not self.coverage.ok

    @property
    def shortfall(self) -> Decimal:
        """What more of the account's main kind of security would cover it on the review date."""
        return self.coverage.shortfall() if self.short else ZERO

    @property
    def kind(self) -> str:
        return self.coverage.main_kind


def security_forecast(accounts: Collection[ProgramAccount], *, today: dt.date) -> list[Forecast]:
    """The forecast of each active account given (three queries, however many accounts)."""
    review = next_review(today)
    active = [a for a in accounts if a.status == ProgramAccount.Status.ACTIVE]
    if not active:
        return []
    peaks = peaks_for_accounts([a.pk for a in active], on_date=review)
    _facts, securities = load_security_facts({a.importer_id for a in active})
    forecasts = []
    for account in active:
        required = requirements(peaks.get(account.pk))
        forecasts.append(
            Forecast(
                account=account,
                review_on=review,
                peak=peaks.get(account.pk),
                required=required,
                coverage=coverage(securities.get(account.pk, []), required, review),
            )
        )
    return forecasts
