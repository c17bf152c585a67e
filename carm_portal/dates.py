"""The range of dates a person may enter: one rule for every model, form and serializer.

CARM began in 2024 and the oldest records a broker keeps (statements, bonds, delegations) are a
few years old, so nothing real is dated before 2000; bonds and delegations run a few years ahead,
never ``BUSINESS_DATE_MAX_YEARS_AHEAD`` (10 by default). A date outside the range is a typing
slip (0001-01-01, 2205-03-01) that would otherwise be stored and then break the date arithmetic
of billing periods and deadlines ("year 0 is out of range"), so it is refused where it enters,
with a message naming the range.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

from carm_portal.calendar import cbsa_today

EARLIEST = dt.date(2000, 1, 1)


def latest(today: dt.date | None = None) -> dt.date:
    """The last date accepted: today (Eastern) plus ``BUSINESS_DATE_MAX_YEARS_AHEAD`` years."""
    today = today or cbsa_today()
    years = int(getattr(settings, "BUSINESS_DATE_MAX_YEARS_AHEAD", 10))
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def check_business_date(value: dt.date | None) -> None:
    """Raise a ``ValidationError`` for a date before 2000 or too far ahead; None passes."""
    if value is None:
        return
    if isinstance(value, dt.datetime):
        value = value.date()
    last = latest()
    if value < EARLIEST or value > last:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s.")
            % {"first": EARLIEST.isoformat(), "last": last.isoformat()},
            code="date_out_of_range",
        )


@deconstructible
class BusinessDateValidator:
    """``check_business_date`` as a field validator (models, forms, serializers).

    A class rather than the function so that migrations record it by path and two instances
    compare equal (no new migration on every ``makemigrations``).
    """

    def __call__(self, value: dt.date | None) -> None:
        check_business_date(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BusinessDateValidator)

    def __hash__(self) -> int:
        return hash(BusinessDateValidator)


business_date = BusinessDateValidator()
