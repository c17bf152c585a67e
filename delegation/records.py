"""Writing delegations: recording what the importer approved, and the renewal workflow.

Every write re-runs the checks for that importer in the same transaction, so an alert disappears
the moment its cause does (a renewed date, an approved request) instead of the next morning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.calendar import cbsa_today
from carm_portal.models import User
from carm_portal.notification_models import Kind
from carm_portal.notifications import notify
from clients import access
from clients.models import ProgramAccount
from delegation.checks import run_delegation_checks
from delegation.forms import DelegationForm
from delegation.models import ConfirmationChannel, Delegation, RenewalRequest


class RenewalError(ValueError):
    """A renewal action that the request's state does not allow; the message says why."""


def recheck(importer_id: int, *, today: dt.date | None = None) -> None:
    run_delegation_checks(today=today or cbsa_today(), importer_ids=[importer_id])


@transaction.atomic
def record_delegation(
    *,
    delegation: Delegation,
    program_accounts: Iterable[ProgramAccount] | None,
    by: User,
    today: dt.date | None = None,
) -> Delegation:
    """Save a validated delegation (new or edited) with who recorded it, then re-check.

    ``program_accounts`` replaces the accounts covered (``None`` keeps them). The page's form and
    the API's serializer both end here, after ``delegation.validation.validate_delegation``.
    """
    if delegation.pk is None:
        delegation.recorded_by = by
    delegation._history_user = by
    delegation.save()
    if program_accounts is not None:
        delegation.program_accounts.set(program_accounts)
    recheck(delegation.importer_id, today=today)
    return delegation


def save_delegation(*, form: DelegationForm, by: User) -> Delegation:
    """Save a valid form (new or edited delegation) with who recorded it, then re-check."""
    delegation = form.save(commit=False)
    delegation.importer = form.importer
    return record_delegation(
        delegation=delegation,
        program_accounts=form.cleaned_data["program_accounts"],
        by=by,
        today=form.today,
    )


@transaction.atomic
def request_renewal(
    *, delegation: Delegation, expiry_date: dt.date, message: str, by: User
) -> RenewalRequest:
    """The broker asks the importer's BAM to extend (or fix) the delegation in the CCP."""
    if RenewalRequest.objects.filter(
        delegation=delegation, status=RenewalRequest.Status.OPEN
    ).exists():
        raise RenewalError(_("A renewal request is already waiting for the importer."))
    renewal = RenewalRequest(
        delegation=delegation, requested_expiry_date=expiry_date, message=message, requested_by=by
    )
    renewal._history_user = by
    renewal.save()
    importer = delegation.importer
    notify(
        kind=Kind.RENEWAL_REQUEST,
        recipients=access.bams_of([importer.pk]).values_list("user_id", flat=True),
        key=f"renewal:{renewal.pk}",
        text=later.gettext(
            "%(broker)s asks you to renew its delegation for %(importer)s in the CARM Client "
            "Portal, to expire on %(day)s.",
            {
                "broker": settings.BROKER_NAME,
                "importer": importer.legal_name,
                "day": later.date(expiry_date),
            },
        ),
        url=delegation.get_absolute_url(),
    )
    return renewal


@transaction.atomic
def confirm_renewal(
    *,
    renewal: RenewalRequest,
    expiry_date: dt.date,
    by: User,
    importer_person: str = "",
    channel: str = "",
) -> Delegation:
    """The importer's BAM (or broker staff on their word) says the CCP now shows ``expiry_date``.

    Broker staff confirming on the importer's behalf must say who in the importer confirmed it
    (``importer_person``) and how (``channel``): the record is the importer's word, not ours.
    """
    renewal = RenewalRequest.objects.select_for_update().get(pk=renewal.pk)
    if renewal.status != RenewalRequest.Status.OPEN:
        raise RenewalError(_("This renewal request is no longer open."))
    importer_person = importer_person.strip()
    if access.is_broker(by):
        if not importer_person or channel not in ConfirmationChannel.values:
            raise RenewalError(
                _(
                    "You are confirming for the importer: say who at the importer confirmed the "
                    "renewal and how."
                )
            )
    else:
        importer_person, channel = "", ""
    renewal.status = RenewalRequest.Status.CONFIRMED
    renewal.confirmed_by, renewal.confirmed_at = by, timezone.now()
    renewal.confirmed_expiry_date = expiry_date
    renewal.confirmed_for_importer_by = importer_person
    renewal.confirmation_channel = channel
    renewal._history_user = by
    renewal.save()

    delegation = Delegation.objects.select_for_update().get(pk=renewal.delegation_id)
    delegation.expiry_date = expiry_date
    delegation.blank_expiry_confirmed = False
    if delegation.status in (Delegation.Status.EXPIRED, *Delegation.OPEN_STATUSES):
        delegation.status = Delegation.Status.ACTIVE
        delegation.approved_on = delegation.approved_on or cbsa_today()
    delegation._history_user = by
    delegation._change_reason = _("Renewal confirmed in the CCP")
    delegation.save()
    recheck(delegation.importer_id)
    return delegation


@transaction.atomic
def cancel_renewal(*, renewal: RenewalRequest, by: User) -> RenewalRequest:
    renewal = RenewalRequest.objects.select_for_update().get(pk=renewal.pk)
    if renewal.status != RenewalRequest.Status.OPEN:
        raise RenewalError(_("This renewal request is no longer open."))
    renewal.status = RenewalRequest.Status.CANCELLED
    renewal._history_user = by
    renewal.save()
    return renewal
