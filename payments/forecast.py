"""The security each RM account will need at CBSA's next annual review, and who will fall short.

The rule is ``payments.rules.forecast`` (the requirement from the trailing 12 months, the arithmetic
of ``required_security``, against the security in force today): the same figure the security
pages call "projected" and the daily check warns about. This module keeps its snapshot, one
``SecurityForecast`` row per active RM account, so the forecast page of 10,000 importers is one
indexed query:

* the daily security check (beat, 06:30) stores the rows of the standings it has just checked
  (``forecast_rows`` and ``store_forecasts``), idempotent: rerun, it rewrites the same rows;
* ``refresh_forecasts`` recomputes some accounts on demand: after a security or an annual-review
  figure is saved, and for accounts the page finds without a row (opened since the last check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from clients.models import ProgramAccount
from payments.models import SecurityForecast
from payments.reviews import sufficiencies
from payments.rules import CASH_DEPOSIT, SURETY_BOND, Sufficiency
from payments.security import peaks_for_accounts
from payments.security_facts import load_security_facts

UPDATED_FIELDS = [
    "review_on",
    "peak",
    "required_bond",
    "required_cash",
    "posted",
    "kind",
    "shortfall",
    "short",
    "computed_on",
    "computed_at",
]


def forecast_rows(
    standings: Mapping[int, Sufficiency],
    peaks: Mapping[int, Decimal],
    *,
    today: dt.date,
    now: dt.datetime,
) -> list[SecurityForecast]:
    """The snapshot rows (unsaved) of accounts whose standing has been decided."""
    rows = []
    for account_id, standing in standings.items():
        ahead = standing.forecast
        rows.append(
            SecurityForecast(
                program_account_id=account_id,
                review_on=ahead.review_on,
                peak=peaks.get(account_id),
                required_bond=ahead.required[SURETY_BOND],
                required_cash=ahead.required[CASH_DEPOSIT],
                posted=ahead.posted,
                kind=ahead.kind,
                shortfall=ahead.shortfall,
                short=ahead.short,
                computed_on=today,
                computed_at=now,
            )
        )
    return rows


@transaction.atomic
def store_forecasts(
    rows: Iterable[SecurityForecast],
    *,
    importer_ids: Collection[int] | None = None,
    account_ids: Collection[int] | None = None,
) -> int:
    """Write the rows (insert or update), and drop the rows of the accounts in scope that are no
    longer active. The scope is these importers or accounts (None: every one)."""
    rows = list(rows)
    SecurityForecast.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["program_account"],
        update_fields=UPDATED_FIELDS,
    )
    stale = SecurityForecast.objects.exclude(program_account__status=ProgramAccount.Status.ACTIVE)
    if importer_ids is not None:
        stale = stale.filter(program_account__importer_id__in=list(importer_ids))
    if account_ids is not None:
        stale = stale.filter(program_account_id__in=list(account_ids))
    stale.delete()
    return len(rows)


def refresh_forecasts(*, today: dt.date, account_ids: Collection[int]) -> int:
    """Recompute and store the forecast of these accounts (four queries and the write)."""
    accounts, securities = load_security_facts(None, account_ids=account_ids)
    ids = [a.id for a in accounts]
    peaks = peaks_for_accounts(ids, on_date=today) if ids else {}
    standings = sufficiencies(securities, account_ids=ids, today=today, peaks=peaks)
    rows = forecast_rows(standings, peaks, today=today, now=timezone.now())
    return store_forecasts(rows, account_ids=account_ids)


def refresh_missing(accounts: QuerySet[ProgramAccount], *, today: dt.date) -> int:
    """Compute the forecast of the active ``accounts`` that have none yet (one query when none
    is missing): accounts opened since the last daily check, or before its first run."""
    missing = list(
        accounts.filter(
            status=ProgramAccount.Status.ACTIVE, security_forecast__isnull=True
        ).values_list("pk", flat=True)
    )
    return refresh_forecasts(today=today, account_ids=missing) if missing else 0
