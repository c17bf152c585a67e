"""Readiness answers the portal already knows: one registry of plain functions, one per fact.

A question whose ``derived_from`` names a key here is answered by that function on the day the
check is taken, from the records themselves (never typed in), so a check cannot say "yes" while
the data says otherwise. Each function takes the importer and the CBSA day and returns yes / no.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clients import access
from clients.models import Importer, PortalUser, ProgramAccount
from delegation.models import Delegation, DelegationAlert
from payments.models import BankAccount, Payment
from payments.security import window_start
from payments.selectors import account_securities
from services.models import ComplianceDocument, TrainingCompletion
from statements.models import ReconciliationItem
from statements.reconciliation.selectors import open_exceptions

EXCEPTION_AGE_DAYS = 30  # an unresolved reconciliation exception older than this is a "no"
RECORDS_WINDOW_DAYS = 365


def security_posted(importer: Importer, today: dt.date) -> bool:
    """Every active RM program account has security in force covering what CBSA requires."""
    accounts = list(importer.program_accounts.filter(status=ProgramAccount.Status.ACTIVE))
    if not accounts:
        return False
    positions = account_securities(accounts, today=today)
    return all(p.coverage.ok for p in positions.values())


def delegations_current(importer: Importer, today: dt.date) -> bool:
    """At least one active, unexpired delegation, and no open blocking delegation alert."""
    current = Delegation.objects.filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=today),
        importer=importer,
        status=Delegation.Status.ACTIVE,
    )
    blocking = DelegationAlert.objects.filter(
        importer=importer, resolved_at=None, severity=DelegationAlert.Severity.BLOCKING
    )
    return current.exists() and not blocking.exists()


def people_trained(importer: Importer, today: dt.date) -> bool:
    """At least one of the importer's active people holds a training that has not lapsed."""
    return TrainingCompletion.objects.filter(
        importer=importer, lapses_on__gt=today, membership__user__is_active=True
    ).exists()


def records_kept(importer: Importer, today: dt.date) -> bool:
    """A compliance document (not purged) with a record date in the last year is on file."""
    return (
        ComplianceDocument.objects.filter(
            importer=importer,
            record_date__gt=today - dt.timedelta(days=RECORDS_WINDOW_DAYS),
            record_date__lte=today,
        )
        .exclude(file="")
        .exists()
    )


def soa_reconciled(importer: Importer, today: dt.date) -> bool:
    """No reconciliation exception has stayed unresolved for more than 30 days."""
    cutoff = timezone.now() - dt.timedelta(days=EXCEPTION_AGE_DAYS)
    return not (
        open_exceptions(ReconciliationItem.objects.filter(importer=importer))
        .filter(first_seen_at__lt=cutoff)
        .exists()
    )


def bam_named(importer: Importer, today: dt.date) -> bool:
    """A BAM is recorded: in the importer's CCP people or among its portal members."""
    return (
        PortalUser.objects.filter(importer=importer, ccp_role=PortalUser.CcpRole.BAM).exists()
        or access.bams_of([importer.pk]).exists()
    )


def payment_method_set_up(importer: Importer, today: dt.date) -> bool:
    """An active PAD bank account with a signed agreement, or a payment recorded in the year."""
    pad = BankAccount.objects.filter(
        importer=importer, status=BankAccount.Status.ACTIVE, pad_agreement_on__isnull=False
    )
    recent = Payment.objects.filter(
        importer=importer,
        source=Payment.Source.RECORDED,
        paid_on__gte=window_start(today),
    ).exclude(status=Payment.Status.RETURNED)
    return pad.exists() or recent.exists()


@dataclass(frozen=True)
class Deriver:
    label: Promise
    answer: Callable[[Importer, dt.date], bool]


DERIVERS: dict[str, Deriver] = {
    "security_posted": Deriver(_("Financial security posted and sufficient"), security_posted),
    "delegations_current": Deriver(_("Delegations current"), delegations_current),
    "people_trained": Deriver(_("At least one person trained"), people_trained),
    "records_kept": Deriver(_("Compliance records on file in the last year"), records_kept),
    "soa_reconciled": Deriver(
        _("No reconciliation exception open for more than 30 days"), soa_reconciled
    ),
    "bam_named": Deriver(_("A BAM is named"), bam_named),
    "payment_method": Deriver(_("A payment method is set up"), payment_method_set_up),
}
