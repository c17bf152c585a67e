"""Service charges: what a billable service costs (the fee schedule) and the charge it creates.

``charge_once`` is idempotent by its source (a request or a booking: one-to-one columns), so a
retried or doubled action never bills twice. A service with no fee, or whose fee is switched
off, creates no charge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from carm_portal import stored_text as later
from services.models import Booking, Charge, Fee, ServiceRequest

if TYPE_CHECKING:
    from carm_portal.models import User
    from clients.models import Importer


def fee_for(service: str) -> Decimal | None:
    fee = Fee.objects.filter(service=service, active=True).first()
    return fee.amount if fee is not None else None


def charge_once(
    *,
    importer: Importer,
    service: str,
    description: later.Parts,
    request: ServiceRequest | None = None,
    booking: Booking | None = None,
) -> Charge | None:
    """The charge for this source, created at the current fee the first time (None: no fee).
    ``description`` is kept as parts (``carm_portal.stored_text``): each reader sees it in their
    own language, whoever's action made the charge."""
    if (request is None) == (booking is None):
        raise ValueError("a charge has exactly one source: a request or a booking")
    source: dict[str, ServiceRequest | Booking | None] = (
        {"request": request} if request is not None else {"booking": booking}
    )
    existing = Charge.objects.filter(**source).first()
    if existing is not None:
        return existing
    amount = fee_for(service)
    if amount is None:
        return None
    try:
        with transaction.atomic():
            return Charge.objects.create(
                importer=importer,
                service=service,
                description=later.render_stored(description)[:200],
                description_parts=description,
                amount=amount,
                **source,
            )
    except IntegrityError:  # the same source charged at the same moment: theirs stands
        return Charge.objects.get(**source)


def set_status(
    *, charges: Iterable[Charge], status: str, by: User, now: dt.datetime | None = None
) -> int:
    """Mark charges billed, waived or back to bill; returns how many changed."""
    if status not in Charge.Status.values:
        raise ValueError(status)
    ids = [c.pk for c in charges]
    return (
        Charge.objects.filter(pk__in=ids)
        .exclude(status=status)
        .update(status=status, status_changed_by=by, status_changed_at=now or timezone.now())
    )


def csv_rows(charges: QuerySet[Charge]) -> Iterable[list[object]]:
    for c in charges.select_related("importer").order_by(
        "importer__legal_name", "created_at", "id"
    ):
        yield [
            c.importer.legal_name,
            c.importer.bn9 or "",
            c.get_service_display(),
            c.shown_description,
            f"{c.amount:.2f}",
            c.get_status_display(),
            timezone.localdate(c.created_at).isoformat(),
        ]
