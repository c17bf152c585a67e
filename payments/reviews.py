"""CBSA's annual security reviews per RM account: recording them, and reading them back.

``record_annual_reviews`` is the daily security check's step: from 20 October through 15 January
it makes sure every active RM account has its review of the year, computed from the 12 months
before 20 October (whatever day it runs, so a missed 20 October gives the same figure). Idempotent:
one row per account and review date is a database constraint, and a figure entered from CBSA's
notice is never overwritten.

``sufficiencies`` is how pages, the API and the daily check ask whether accounts are covered:
three queries whatever the number of accounts, then ``payments.rules.sufficiency`` for each.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from clients.models import ProgramAccount
from payments.models import SecurityReview
from payments.rules import (
    CASH_DEPOSIT,
    SURETY_BOND,
    ReviewFacts,
    SecurityFacts,
    Sufficiency,
    annual_review,
    sufficiency,
)
from payments.security import peaks_for_accounts, requirements


def review_facts(review: SecurityReview) -> ReviewFacts:
    return ReviewFacts(
        program_account_id=review.program_account_id,
        review_on=review.review_date,
        top_up_by=review.top_up_by,
        required={SURETY_BOND: review.required_bond, CASH_DEPOSIT: review.required_cash},
        entered=review.source == SecurityReview.Source.ENTERED,
        cbsa_reference=review.cbsa_reference,
    )


def record_annual_reviews(account_ids: Collection[int], *, today: dt.date) -> int:
    """Record this year's computed review for the accounts that have none; how many were new."""
    review = annual_review(today)
    if review is None or not account_ids:
        return 0
    have = set(
        SecurityReview.objects.filter(
            program_account_id__in=list(account_ids), review_date=review.review_on
        ).values_list("program_account_id", flat=True)
    )
    missing = [pk for pk in account_ids if pk not in have]
    if not missing:
        return 0
    peaks = peaks_for_accounts(missing, on_date=review.review_on)
    rows = []
    for pk in missing:
        required = requirements(peaks.get(pk))
        rows.append(
            SecurityReview(
                program_account_id=pk,
                review_date=review.review_on,
                required_bond=required[SURETY_BOND],
                required_cash=required[CASH_DEPOSIT],
                top_up_by=review.top_up_by,
                source=SecurityReview.Source.COMPUTED,
            )
        )
    created = SecurityReview.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def last_reviews(
    account_ids: Collection[int], *, today: dt.date, every_account: bool = False
) -> dict[int, tuple[ReviewFacts | None, ReviewFacts | None]]:
    """account id -> (its last review on or before ``today``, the one before); one query.

    ``every_account``: the ids are all the accounts, so the query need not list them.
    """
    found: dict[int, list[ReviewFacts]] = defaultdict(list)
    reviews = SecurityReview.objects.all()
    if not every_account:
        reviews = reviews.filter(program_account_id__in=list(account_ids))
    for review in reviews.filter(
        review_date__lte=today,
        review_date__gte=dt.date(today.year - 2, 1, 1),
    ).order_by("program_account_id", "-review_date"):
        if len(found[review.program_account_id]) < 2:
            found[review.program_account_id].append(review_facts(review))
    return {
        pk: (
            found[pk][0] if found[pk] else None,
            found[pk][1] if len(found[pk]) > 1 else None,
        )
        for pk in account_ids
    }


def sufficiencies(
    securities: Mapping[int, Sequence[SecurityFacts]],
    *,
    account_ids: Collection[int],
    today: dt.date,
    every_account: bool = False,
    peaks: Mapping[int, Decimal] | None = None,
) -> dict[int, Sufficiency]:
    """account id -> whether its security is enough today (two queries, one given ``peaks``).

    ``every_account``: the ids are every active account (the daily check), so the queries
    need not list them.
    """
    ids = list(account_ids)
    if peaks is None:  # a page that shows the peaks passes them, loaded once
        peaks = peaks_for_accounts(None if every_account else ids, on_date=today)
    reviews = last_reviews(ids, today=today, every_account=every_account)
    return {
        pk: sufficiency(
            securities=securities.get(pk, ()),
            review=reviews[pk][0],
            previous=reviews[pk][1],
            computed=requirements(peaks.get(pk)),
            today=today,
        )
        for pk in ids
    }


def required_in_force(*, program_account: ProgramAccount, kind: str, on_date: dt.date) -> Decimal:
    """What CBSA requires of ``program_account`` as a ``kind`` today: the last review's figure, or
    the requirement computed today for an account never reviewed (``sufficiency``'s basis)."""
    standing = sufficiencies({}, account_ids=[program_account.pk], today=on_date)
    return standing[program_account.pk].required[kind]
