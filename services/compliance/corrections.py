"""The corrections tracker: open, file and close post-release corrections of a CAD.

The dates, from Customs Act s.32.2 and CBSA's billing cycle:

* an origin, tariff classification or value error must be corrected within **90 days** of the day
  the importer had reason to believe it was wrong (``deadline_for``);
* the obligation ends **four years after accounting**: a reason to believe that arises later opens
  nothing, and the tracker refuses it (``limitation_date``);
* a correction made before the payment due date of the statement the CAD was billed on is free;
  afterwards it is an adjustment (``free_until``).

A correction opens by hand or from a reconciliation finding resolved as "correction requested"
(``open_from_reconciliation``, called by the receiver of ``statements.signals.correction_requested``).
It is filed when a later version of the same CAD arrives in an entries import
(``file_from_batch``): only the correction of that program account and transaction number, and
only by a version newer than the one it corrects.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal.calendar import cbsa_today
from carm_portal.models import User
from clients.models import Importer, ProgramAccount
from services.models import Correction
from statements.billing import billing_period
from statements.models import BrokerEntry, ImportBatch, ReconciliationItem

CORRECTION_DAYS = 90
LIMITATION_YEARS = 4

Status = Correction.Status


class CorrectionError(ValueError):
    """A correction the rules refuse; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def deadline_for(reason_to_believe_on: dt.date) -> dt.date:
    """90 calendar days after the reason to believe (s.32.2)."""
    return reason_to_believe_on + dt.timedelta(days=CORRECTION_DAYS)


def limitation_date(accounted_on: dt.date) -> dt.date:
    """Four years after accounting; 29 February gives 28 February."""
    year = accounted_on.year + LIMITATION_YEARS
    try:
        return accounted_on.replace(year=year)
    except ValueError:
        return accounted_on.replace(year=year, day=28)


def free_until(accounted_on: dt.date) -> dt.date:
    """The payment due date of the statement the CAD was billed on: correcting by then is free."""
    return billing_period(accounted_on).due_date


def is_free(correction: Correction, *, today: dt.date) -> bool:
    return today <= free_until(correction.accounted_on)


def days_left(correction: Correction, *, today: dt.date) -> int:
    return (correction.deadline - today).days


def _entries(program_account: ProgramAccount, transaction_number: str):
    return BrokerEntry.objects.filter(
        program_account=program_account, transaction_number=transaction_number
    )


@transaction.atomic
def open_correction(
    *,
    importer: Importer,
    program_account: ProgramAccount,
    transaction_number: str,
    reason: str,
    reason_to_believe_on: dt.date,
    by: User | None,
    accounted_on: dt.date | None = None,
    amount_before: Decimal | None = None,
    amount_after: Decimal | None = None,
    note: str = "",
    item: ReconciliationItem | None = None,
    today: dt.date | None = None,
) -> Correction:
    """Open the correction of one CAD, or return the one already open for it.

    The version to correct is the latest the broker holds, and the accounting date that of the
    first version (the four years run from the original accounting); without any entry of the CAD
    the caller must give ``accounted_on``.
    """
    today = today or cbsa_today()
    if program_account.importer_id != importer.pk:
        raise CorrectionError(
            _("This program account is not the importer's."), field="program_account"
        )
    transaction_number = (transaction_number or "").strip()
    if not (transaction_number.isdigit() and len(transaction_number) == 14):
        raise CorrectionError(_("A transaction number is 14 digits."), field="transaction_number")
    if reason not in Correction.Reason.values:
        raise CorrectionError(_("Choose the reason for the correction."), field="reason")
    if reason_to_believe_on > today:
        raise CorrectionError(
            _("The reason to believe cannot be in the future."), field="reason_to_believe_on"
        )
    versions = list(
        _entries(program_account, transaction_number)
        .order_by("version")
        .values_list("version", "accounted_on")
    )
    latest_version = versions[-1][0] if versions else 1
    accounted_on = versions[0][1] if versions else accounted_on
    if accounted_on is None:
        raise CorrectionError(
            _("No entry of this CAD is on file: give the date it was accounted."),
            field="accounted_on",
        )
    if reason_to_believe_on < accounted_on:
        raise CorrectionError(
            _("The reason to believe cannot come before the CAD was accounted (%(day)s).")
            % {"day": accounted_on.isoformat()},
            field="reason_to_believe_on",
        )
    limit = limitation_date(accounted_on)
    if reason_to_believe_on > limit:
        raise CorrectionError(
            _(
                "The CAD was accounted on %(accounted)s: the obligation to correct ended four "
                "years later, on %(limit)s."
            )
            % {"accounted": accounted_on.isoformat(), "limit": limit.isoformat()},
            field="reason_to_believe_on",
        )
    existing = (
        Correction.objects.select_for_update()
        .filter(
            program_account=program_account,
            transaction_number=transaction_number,
            status=Status.OPEN,
        )
        .first()
    )
    if existing is not None:
        if item is not None and existing.reconciliation_item_id is None:
            existing.reconciliation_item = item
            existing.statement_id = item.statement_id
            existing.reconciliation_key = item.key
            existing._history_user = by
            existing._change_reason = _("Linked to a reconciliation finding")
            existing.save(update_fields=["reconciliation_item", "statement", "reconciliation_key"])
        return existing
    correction = Correction(
        importer=importer,
        program_account=program_account,
        transaction_number=transaction_number,
        corrects_version=latest_version,
        reason=reason,
        reason_to_believe_on=reason_to_believe_on,
        deadline=deadline_for(reason_to_believe_on),
        accounted_on=accounted_on,
        amount_before=amount_before,
        amount_after=amount_after,
        note=note.strip(),
        created_by=by,
        reconciliation_item=item,
        statement_id=item.statement_id if item else None,
        reconciliation_key=item.key if item else "",
    )
    correction._history_user = by
    correction._change_reason = _("Opened")
    correction.save()
    return correction


def open_from_reconciliation(*, item: ReconciliationItem, by: User | None) -> Correction | None:
    """A finding resolved as "correction requested": open (or join) the correction of its CAD.

    The day the broker found the difference is the reason to believe. A finding with no
    transaction number (a balance difference) names no CAD and opens nothing; nor does one past
    the four-year limit (the resolution still stands, and the tracker refuses it by hand too).
    """
    if not item.transaction_number:
        return None
    statement = item.statement
    account = statement.program_account
    accounted_on = item.entry.accounted_on if item.entry_id and item.entry else statement.period_end
    try:
        return open_correction(
            importer=account.importer,
            program_account=account,
            transaction_number=item.transaction_number,
            reason=Correction.Reason.OTHER,
            reason_to_believe_on=max(cbsa_today(), accounted_on),
            accounted_on=accounted_on,
            amount_before=item.entry_amount,
            amount_after=item.statement_amount,
            note=item.note,
            by=by,
            item=item,
            today=max(cbsa_today(), accounted_on),
        )
    except CorrectionError:
        return None


def file_from_batch(batch: ImportBatch) -> int:
    """Mark as filed each open correction whose CAD has a newer version in ``batch``.

    Set-based: one query finds the lowest newer version per open correction, one update each. The
    match is on program account *and* transaction number, and the version must be newer than the
    one corrected, so a resent copy of the wrong version files nothing.
    """
    newer = BrokerEntry.objects.filter(
        source_batch=batch,
        program_account=OuterRef("program_account"),
        transaction_number=OuterRef("transaction_number"),
        version__gt=OuterRef("corrects_version"),
    ).order_by("version")
    candidates = (
        Correction.objects.filter(
            status=Status.OPEN,
            program_account_id__in=BrokerEntry.objects.filter(source_batch=batch).values(
                "program_account_id"
            ),
        )
        .annotate(
            new_version=Subquery(newer.values("version")[:1]),
            new_amount=Subquery(newer.values("amount")[:1]),
        )
        .filter(new_version__isnull=False)
    )
    now = timezone.now()
    filed = 0
    for correction in candidates.select_for_update(of=("self",)):
        correction.status = Status.FILED
        correction.filed_version = correction.new_version
        correction.amount_after = correction.new_amount
        correction.filed_at = now
        correction._history_user = batch.uploaded_by
        correction._change_reason = _("Filed: version %(version)d arrived in an entries import") % {
            "version": correction.filed_version
        }
        correction.save(update_fields=["status", "filed_version", "amount_after", "filed_at"])
        filed += 1
    return filed


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.FILED, Status.NOT_NEEDED}),
    Status.FILED: frozenset({Status.ACCEPTED, Status.OPEN}),
    Status.ACCEPTED: frozenset(),
    Status.NOT_NEEDED: frozenset({Status.OPEN}),
}


@transaction.atomic
def change_status(
    correction: Correction,
    *,
    status: str,
    by: User,
    note: str = "",
    filed_version: int | None = None,
) -> Correction:
    """Move a correction along open → filed → accepted, or close it as not needed (with a note)."""
    locked = Correction.objects.select_for_update().get(pk=correction.pk)
    if status not in TRANSITIONS.get(locked.status, frozenset()):
        raise CorrectionError(
            _("A correction that is %(current)s cannot become %(new)s.")
            % {
                "current": Status(locked.status).label.lower(),
                "new": Status(status).label.lower() if status in Status.values else status,
            },
            field="status",
        )
    note = (note or "").strip()
    if status == Status.NOT_NEEDED and not note:
        raise CorrectionError(_("Say why no correction is needed."), field="note")
    if status == Status.FILED:
        if filed_version is None or filed_version <= locked.corrects_version:
            raise CorrectionError(
                _("Give the CAD version that corrects version %(version)d.")
                % {"version": locked.corrects_version},
                field="filed_version",
            )
        locked.filed_version = filed_version
        locked.filed_at = timezone.now()
    if status == Status.OPEN:
        if Correction.objects.filter(
            program_account_id=locked.program_account_id,
            transaction_number=locked.transaction_number,
            status=Status.OPEN,
        ).exists():
            raise CorrectionError(_("Another correction of this CAD is already open."))
        locked.filed_version = None
        locked.filed_at = None
        locked.closed_at = None
    if status in (Status.ACCEPTED, Status.NOT_NEEDED):
        locked.closed_at = timezone.now()
    if note:
        locked.note = f"{locked.note}\n{note}".strip()
    locked.status = status
    locked._history_user = by
    locked._change_reason = Status(status).label
    locked.save()
    return locked
