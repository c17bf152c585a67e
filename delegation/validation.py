"""The business rules of a delegation record, in one place for the pages and the API.

``DelegationForm.clean`` and ``delegation.api.DelegationSerializer.validate`` both call
``validate_delegation`` with the values a write would store; it returns them cleaned (a BMR covers
no selected account, a set expiry date is never "confirmed blank") or raises a Django
``ValidationError({field: [messages]})`` naming every rule broken at once. The field names are the
model's, so a form puts each message under its field and the API answers ``{field: [messages]}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clients.models import Importer, ProgramAccount
from delegation.models import Delegation


@dataclass(frozen=True)
class DelegationValues:
    """What to store once the rules have run: the proposed values, cleaned."""

    relationship: str | None
    status: str | None
    program_accounts: tuple[ProgramAccount, ...]
    requested_on: dt.date | None
    approved_on: dt.date | None
    expiry_date: dt.date | None
    blank_expiry_confirmed: bool
    revoked_on: dt.date | None


def validate_delegation(
    *,
    importer: Importer,
    relationship: str | None,
    status: str | None,
    program_accounts: Iterable[ProgramAccount],
    authority: str | None = None,
    requested_on: dt.date | None,
    approved_on: dt.date | None,
    expiry_date: dt.date | None,
    blank_expiry_confirmed: bool,
    revoked_on: dt.date | None,
    is_new: bool,
    changed: Collection[str] = (),
    today: dt.date,
) -> DelegationValues:
    """Check a delegation of ``importer`` as it would be saved on ``today``; return it cleaned.

    ``is_new`` is true for a record being created; ``changed`` names the fields an edit changes
    (a past expiry date is refused only when it is entered, so an old record stays editable).
    A value a caller could not parse is passed as ``None``.
    """
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    accounts = tuple(program_accounts)
    for account in accounts:
        if account.importer_id != importer.pk:
            refuse(
                "program_accounts",
                _("%(bn15)s is not a program account of this importer.") % {"bn15": account.bn15},
            )
    if relationship == Delegation.Relationship.PMR and not accounts:
        refuse(
            "program_accounts",
            _("A PMR covers only the accounts selected: choose at least one program account."),
        )
    elif authority == Delegation.Authority.PPAM and not accounts:
        refuse(
            "program_accounts",
            _("A pPAM manages only the program accounts it names: choose at least one."),
        )
    if relationship == Delegation.Relationship.BMR and authority != Delegation.Authority.PPAM:
        accounts = ()  # a BMR covers every account, including those opened later

    if requested_on and requested_on > today:
        refuse("requested_on", _("The request date cannot be in the future."))
    if approved_on and approved_on > today:
        refuse("approved_on", _("The approval date cannot be in the future."))
    if requested_on and approved_on and approved_on < requested_on:
        refuse("approved_on", _("The approval cannot come before the request."))

    if status == Delegation.Status.ACTIVE:
        if not approved_on:
            refuse("approved_on", _("Enter the date the importer approved the request."))
        entered = is_new or "expiry_date" in changed
        if expiry_date and expiry_date < today and entered:
            refuse(
                "expiry_date",
                _(
                    "This date is in the past, so the delegation is not active. Record it as "
                    "expired, or enter the new expiry date the importer set."
                ),
            )
        if expiry_date is None and not blank_expiry_confirmed:
            refuse(
                "expiry_date",
                _(
                    "Enter the expiry date the importer set in the CCP. If it really was left "
                    "blank, tick the confirmation below; the delegation will be flagged."
                ),
            )
    if status == Delegation.Status.REVOKED and not revoked_on:
        refuse("revoked_on", _("Enter the date the access was revoked."))

    if errors:
        raise ValidationError(errors)
    return DelegationValues(
        relationship=relationship,
        status=status,
        program_accounts=accounts,
        requested_on=requested_on,
        approved_on=approved_on,
        expiry_date=expiry_date,
        blank_expiry_confirmed=blank_expiry_confirmed and expiry_date is None,
        revoked_on=revoked_on,
    )
