"""The deadlines a user may see, between two dates: one list for the month page and the ICS feed.

* payment due dates of statements not yet paid (CBSA's calendar: ``statements.billing`` sets
  ``due_date``; electronic payments count until 23:59 Eastern, cheques must arrive by 16:00);
* delegation expiries (a delegation works through the end of its expiry date);
* surety bond expiries (in force through that day);
* the annual security review (20 October) and the top-up deadline (15 January), for people who
  see finances.

Scoped by ``clients.access`` kind by kind (finance rows need ``view_finance``); one query per
kind, whatever the number of importers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from carm_portal.calendar import cbsa_zone
from carm_portal.models import User
from carm_portal.money import format_money
from clients import access
from clients.access import Perm
from delegation.models import Delegation
from payments.models import FinancialSecurity
from statements.models import Statement

# The SOA payment window on its due date, in Eastern time (domain: cheques by 16:00, electronic
# payments until 23:59).
CHEQUE_CUTOFF = dt.time(16, 0)
ELECTRONIC_CUTOFF = dt.time(23, 59)
REVIEW_DAY = (10, 20)
TOP_UP_DAY = (1, 15)


@dataclass(frozen=True)
class Deadline:
    uid: str  # stable across feeds, so calendar apps update an event rather than duplicate it
    day: dt.date
    kind: str  # payment | delegation | security | review | top_up
    title: str
    url: str
    starts: dt.time | None = None  # Eastern; None: the whole day
    ends: dt.time | None = None

    def start_at(self) -> dt.datetime | None:
        if self.starts is None:
            return None
        return dt.datetime.combine(self.day, self.starts, tzinfo=cbsa_zone())

    def end_at(self) -> dt.datetime | None:
        if self.ends is None:
            return None
        return dt.datetime.combine(self.day, self.ends, tzinfo=cbsa_zone())


def _payments(user: User, start: dt.date, end: dt.date) -> list[Deadline]:
    rows = (
        access.scope_for(
            Statement.objects.filter(due_date__gte=start, due_date__lte=end).exclude(
                status=Statement.Status.PAID
            ),
            user,
            Perm.VIEW_FINANCE,
            importer_field="program_account__importer",
        )
        .filter(closing_balance__gt=0)
        .select_related("program_account__importer")
        .order_by("due_date", "program_account__bn15", "id")
    )
    return [
        Deadline(
            uid=f"statement-{s.pk}-due",
            day=s.due_date,
            kind="payment",
            title=_("Payment due: %(importer)s, %(bn15)s, %(amount)s")
            % {
                "importer": s.program_account.importer.legal_name,
                "bn15": s.program_account.bn15,
                "amount": format_money(s.closing_balance),
            },
            url=s.get_absolute_url(),
            starts=CHEQUE_CUTOFF,
            ends=ELECTRONIC_CUTOFF,
        )
        for s in rows
    ]


def _delegations(user: User, start: dt.date, end: dt.date) -> list[Deadline]:
    rows = (
        access.scope(
            Delegation.objects.filter(expiry_date__gte=start, expiry_date__lte=end).exclude(
                status__in=[Delegation.Status.REVOKED, Delegation.Status.REJECTED]
            ),
            user,
        )
        .select_related("importer")
        .order_by("expiry_date", "importer__legal_name", "id")
    )
    return [
        Deadline(
            uid=f"delegation-{d.pk}-expiry-{d.expiry_date:%Y%m%d}",
            day=d.expiry_date,  # type: ignore[arg-type]  # filtered on a date range: not None
            kind="delegation",
            title=_("Delegation expires (last day): %(importer)s")
            % {"importer": d.importer.legal_name},
            url=d.get_absolute_url(),
        )
        for d in rows
    ]


def _securities(user: User, start: dt.date, end: dt.date) -> list[Deadline]:
    rows = (
        access.scope_for(
            FinancialSecurity.objects.filter(
                kind=FinancialSecurity.Kind.SURETY_BOND,
                expiry_date__gte=start,
                expiry_date__lte=end,
            ).exclude(status=FinancialSecurity.Status.CANCELLED),
            user,
            Perm.VIEW_FINANCE,
            importer_field="program_account__importer",
        )
        .select_related("program_account__importer")
        .order_by("expiry_date", "id")
    )
    return [
        Deadline(
            uid=f"security-{b.pk}-expiry-{b.expiry_date:%Y%m%d}",
            day=b.expiry_date,  # type: ignore[arg-type]  # filtered on a date range: not None
            kind="security",
            title=_("Surety bond expires (last day): %(importer)s, %(bn15)s")
            % {
                "importer": b.program_account.importer.legal_name,
                "bn15": b.program_account.bn15,
            },
            url=b.get_absolute_url(),
        )
        for b in rows
    ]


def _annual(user: User, start: dt.date, end: dt.date) -> list[Deadline]:
    if not access.holds_anywhere(user, Perm.VIEW_FINANCE):
        return []
    found = []
    for year in range(start.year, end.year + 1):
        review = dt.date(year, *REVIEW_DAY)
        top_up = dt.date(year, *TOP_UP_DAY)
        if start <= review <= end:
            found.append(
                Deadline(
                    uid=f"security-review-{year}",
                    day=review,
                    kind="review",
                    title=_("CBSA's annual review of financial security"),
                    url="",
                )
            )
        if start <= top_up <= end:
            found.append(
                Deadline(
                    uid=f"security-top-up-{year}",
                    day=top_up,
                    kind="top_up",
                    title=_("Last day to top up financial security after the annual review"),
                    url="",
                )
            )
    return found


def deadlines(user: User, *, start: dt.date, end: dt.date) -> list[Deadline]:
    """Every deadline from ``start`` to ``end`` (both included) the user may see, by day."""
    found = [
        *_payments(user, start, end),
        *_delegations(user, start, end),
        *_securities(user, start, end),
        *_annual(user, start, end),
    ]
    return sorted(found, key=lambda d: (d.day, d.starts or dt.time.min, d.kind, d.title))
