"""Late accounting: a CAD accounted after its due date, 5 business days after release.

The due date itself is ``billing.cad_due_date`` (one place); this module applies it to one entry
and, for lists and monthly rates, to a whole table in SQL. Only a CAD's first version counts: later
versions are corrections, accounted when the correction is filed.

The SQL filter groups the release dates by how many calendar days their due date lies after them
(7 to about 12, by weekends and federal holidays), so it is a handful of conditions whatever the
number of entries, and a list or a rate stays one query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import DateField, ExpressionWrapper, F, Q

from statements.billing import cad_due_date

FIRST_VERSION = 1


def is_accounted_late(*, release_date: dt.date, accounted_on: dt.date) -> bool:
    """Accounted after the last of the 5 business days that follow release."""
    return accounted_on > cad_due_date(release_date)


def days_late(*, release_date: dt.date, accounted_on: dt.date) -> int:
    """Calendar days after the due date (0 when on time)."""
    return max(0, (accounted_on - cad_due_date(release_date)).days)


def late_filter(release_dates: Iterable[dt.date], *, prefix: str = "") -> Q:
    """A filter on broker entries (``prefix`` for a related path): first versions accounted late,
    among entries released on ``release_dates`` (give every release date the rows may have)."""
    by_offset: dict[int, list[dt.date]] = defaultdict(list)
    for day in set(release_dates):
        by_offset[(cad_due_date(day) - day).days].append(day)
    condition = Q(pk__in=[])
    for offset, days in sorted(by_offset.items()):
        due = ExpressionWrapper(
            F(f"{prefix}release_date") + dt.timedelta(days=offset), output_field=DateField()
        )
        condition |= Q(
            **{
                f"{prefix}release_date__in": sorted(days),
                f"{prefix}accounted_on__gt": due,
            }
        )
    return Q(**{f"{prefix}version": FIRST_VERSION}) & condition
