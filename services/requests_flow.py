"""Service requests: creating each kind, moving it along its status path, and what each step does.

- SOA retrieval: requested -> sent to CBSA -> received (the file attached and imported through
  the statement importer) ; the retrieval is charged when the statement is received.
- Bond application: draft (amount proposed from what CBSA requires for the account) -> submitted
  (charged) -> approved (creates exactly one ``FinancialSecurity``) or declined.
- Help: open -> closed, with replies both ways (charged on closing if the help fee is on).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.calendar import cbsa_today
from payments.models import FinancialSecurity
from payments.records import save_security
from payments.reviews import required_in_force
from services.charges import charge_once
from services.models import (
    BillableService,
    RequestKind,
    RequestReply,
    RequestStatus,
    ServiceRequest,
)
from statements.importing.batches import import_upload
from statements.importing.problems import AlreadyImported
from statements.models import ImportBatch

if TYPE_CHECKING:
    from carm_portal.models import User
    from clients.models import Importer, ProgramAccount

S = RequestStatus

# Where each kind may go from each status (staff moves; the importer only creates and replies).
PATHS: dict[str, dict[str, tuple[str, ...]]] = {
    RequestKind.SOA_RETRIEVAL: {S.REQUESTED: (S.SENT,), S.SENT: (S.RECEIVED,)},
    RequestKind.BOND: {S.DRAFT: (S.SUBMITTED,), S.SUBMITTED: (S.APPROVED, S.DECLINED)},
    RequestKind.HELP: {S.OPEN: (S.CLOSED,)},
}
CLOSED = {S.IMPORTED, S.APPROVED, S.DECLINED, S.CLOSED}


class RequestError(Exception):
    pass


SERVICES = "services"  # the worklist's kind filter: SOA retrievals and bond applications


def worklist(
    *, kind: str = "", assignee: User | None = None, include_closed: bool = False
) -> QuerySet[ServiceRequest]:
    """The staff worklist of requests, oldest first: open ones unless ``include_closed``;
    ``kind`` a ``RequestKind`` or ``SERVICES`` (all but help); ``assignee``'s only if given.
    The staff Today view counts the same rows it links to."""
    queryset = ServiceRequest.objects.order_by("created_at", "id")
    if not include_closed:
        queryset = queryset.exclude(status__in=CLOSED)
    if kind == SERVICES:
        queryset = queryset.exclude(kind=RequestKind.HELP)
    elif kind in RequestKind.values:
        queryset = queryset.filter(kind=kind)
    if assignee is not None:
        queryset = queryset.filter(assignee=assignee)
    return queryset


def next_statuses(request: ServiceRequest) -> tuple[str, ...]:
    return PATHS[request.kind].get(request.status, ())


def request_soa(
    *, importer: Importer, program_account: ProgramAccount, period: str, by: User
) -> ServiceRequest:
    if program_account.importer_id != importer.pk:
        raise RequestError(_("That program account belongs to another importer."))
    return ServiceRequest.objects.create(
        importer=importer,
        kind=RequestKind.SOA_RETRIEVAL,
        status=S.REQUESTED,
        program_account=program_account,
        period=period.strip(),
        created_by=by,
    )


def proposed_bond_amount(program_account: ProgramAccount, today: dt.date | None = None) -> Decimal:
    """What CBSA requires as a surety bond on the account (the last annual review's figure)."""
    return required_in_force(
        program_account=program_account,
        kind=FinancialSecurity.Kind.SURETY_BOND,
        on_date=today or cbsa_today(),
    )


def request_bond(
    *,
    importer: Importer,
    program_account: ProgramAccount,
    by: User,
    amount: Decimal | None = None,
    surety_company: str = "",
) -> ServiceRequest:
    if program_account.importer_id != importer.pk:
        raise RequestError(_("That program account belongs to another importer."))
    return ServiceRequest.objects.create(
        importer=importer,
        kind=RequestKind.BOND,
        status=S.DRAFT,
        program_account=program_account,
        bond_amount=amount if amount is not None else proposed_bond_amount(program_account),
        surety_company=surety_company.strip(),
        created_by=by,
    )


def request_help(*, importer: Importer, topic: str, message: str, by: User) -> ServiceRequest:
    return ServiceRequest.objects.create(
        importer=importer,
        kind=RequestKind.HELP,
        status=S.OPEN,
        topic=topic,
        message=message.strip(),
        created_by=by,
    )


def reply(*, request: ServiceRequest, author: User, body: str) -> RequestReply:
    if request.status in CLOSED:
        raise RequestError(_("This request is closed."))
    return RequestReply.objects.create(request=request, author=author, body=body.strip())


def _locked(request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=request.pk)


def advance(
    *, request: ServiceRequest, to: str, by: User, now: dt.datetime | None = None
) -> ServiceRequest:
    """Move along the path; the approval of a bond goes through ``approve_bond`` instead."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(request)
        if row.status == to:
            return row  # a doubled click
        if to not in next_statuses(row):
            raise RequestError(
                _("A request cannot go from “%(from)s” to “%(to)s”.")
                % {"from": row.get_status_display(), "to": S(to).label}
            )
        if row.kind == RequestKind.BOND and to == S.APPROVED:
            raise RequestError(_("Approve a bond with its number and dates."))
        if row.kind == RequestKind.BOND and to == S.SUBMITTED and not row.surety_company:
            raise RequestError(_("Name the surety company before submitting."))
        row.status = to
        if to in CLOSED:
            row.closed_at = now
        row.save(update_fields=["status", "closed_at", "updated_at"])
        if row.kind == RequestKind.BOND and to == S.SUBMITTED:
            charge_once(
                importer=row.importer,
                service=BillableService.BOND_APPLICATION,
                description=later.gettext(
                    "Customs bond application, %(account)s", {"account": str(row.program_account)}
                ),
                request=row,
            )
        if row.kind == RequestKind.HELP and to == S.CLOSED:
            charge_once(
                importer=row.importer,
                service=BillableService.HELP,
                description=later.gettext("Help: %(topic)s", {"topic": _topic_msgid(row)}),
                request=row,
            )
    request.refresh_from_db()
    return request


def _topic_msgid(request: ServiceRequest) -> later.Parts:
    """The help topic's label as a part: its untranslated msgid, translated when shown."""
    with translation.override(None):
        return later.gettext(str(request.get_topic_display()))


def attach_statement(*, request: ServiceRequest, upload: UploadedFile, by: User) -> ServiceRequest:
    """The SOA received from CBSA: import it through the statement importer; once accepted the
    request is done and the retrieval charged. The same file attached twice imports once."""
    if request.kind != RequestKind.SOA_RETRIEVAL or request.status not in (S.SENT, S.RECEIVED):
        raise RequestError(_("Attach the statement once the request was sent to CBSA."))
    try:
        batch, _queued = import_upload(kind=ImportBatch.Kind.STATEMENT, upload=upload, user=by)
    except AlreadyImported as exc:
        batch = exc.batch
    imported = batch.status == ImportBatch.Status.ACCEPTED
    with transaction.atomic():
        row = _locked(request)
        row.import_batch = batch
        # A refused file leaves the request "received" (fix the file, attach it again); a large
        # one queued for a worker too, until it is attached again once accepted.
        row.status = S.IMPORTED if imported else S.RECEIVED
        row.closed_at = timezone.now() if imported else None
        row.save(update_fields=["import_batch", "status", "closed_at", "updated_at"])
        if imported:
            charge_once(
                importer=row.importer,
                service=BillableService.SOA_RETRIEVAL,
                description=later.gettext(
                    "Statement of Account retrieval, %(account)s %(period)s",
                    {"account": str(row.program_account), "period": str(row.period)},
                ),
                request=row,
            )
    request.refresh_from_db()
    return request


def approve_bond(
    *,
    request: ServiceRequest,
    by: User,
    bond_number: str,
    effective_date: dt.date,
    expiry_date: dt.date | None,
    now: dt.datetime | None = None,
) -> FinancialSecurity:
    """The surety approved: record exactly one financial security (a second call returns it)."""
    with transaction.atomic():
        row = _locked(request)
        if row.security_id is not None:
            return FinancialSecurity.objects.get(pk=row.security_id)
        if row.kind != RequestKind.BOND or row.status != S.SUBMITTED:
            raise RequestError(_("Only a submitted bond application can be approved."))
        if expiry_date is not None and expiry_date <= effective_date:
            raise RequestError(_("The expiry date must come after the effective date."))
        assert row.program_account is not None and row.bond_amount is not None
        security = save_security(
            security=FinancialSecurity(
                program_account=row.program_account,
                kind=FinancialSecurity.Kind.SURETY_BOND,
                surety_company=row.surety_company,
                bond_number=bond_number.strip(),
                amount=row.bond_amount,
                effective_date=effective_date,
                expiry_date=expiry_date,
                status=FinancialSecurity.Status.ACTIVE,
                notes=_("From bond application #%(id)s") % {"id": row.pk},
            ),
            by=by,
        )
        row.security = security
        row.bond_number = security.bond_number
        row.effective_date = effective_date
        row.expiry_date = expiry_date
        row.status = S.APPROVED
        row.closed_at = now or timezone.now()
        row.save()
    request.refresh_from_db()
    return security
