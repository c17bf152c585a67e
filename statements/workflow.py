"""The exceptions workflow: a person assigns, comments on, resolves and reopens reconciliation items.

Plain functions the pages (and the API) call after ``clients.access`` has let the user in. Each
checks the rules that hold whatever the caller, and raises ``WorkflowError`` with a message a
person can act on:

- only an item of its statement's *current* run can be worked: an older run is a snapshot, and a
  rerun carries the work over (``statements/reconciliation/``), so a change there would be lost;
- a matched item is not an exception, so there is nothing to resolve;
- ``explained`` and ``written_off`` need a note (an auditor asks "why?");
- ``correction_requested`` sends ``statements.signals.correction_requested``, which opens the
  correction in the compliance tracker (services);
- ``written_off`` is refused above ``RECONCILIATION_WRITE_OFF_LIMIT``: larger differences are
  corrected (a CAD adjustment) or taken up with CBSA, never written off quietly.

Every change is saved through the model, so django-simple-history records who did what (with a
reason); comments are their own record, keyed by statement and item key so the thread follows the
finding from run to run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.models import User
from carm_portal.money import format_money
from carm_portal.notification_models import Kind
from carm_portal.notifications import notify
from clients import access
from clients.access import Perm
from statements.models import ReconciliationComment, ReconciliationItem
from statements.signals import correction_requested

Resolution = ReconciliationItem.Resolution
NOTE_REQUIRED = frozenset({Resolution.EXPLAINED, Resolution.WRITTEN_OFF})
COMMENT_MAX_LENGTH = 5000


class WorkflowError(ValueError):
    """A workflow step the item's state or the rules do not allow; ``field`` names the form field
    the message belongs to (``""`` for the whole form)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def can_work(item: ReconciliationItem) -> bool:
    """Whether people may still change this item: a finding (not matched) of the current run."""
    return item.status not in ReconciliationItem.MATCHED_CODES and item.run.is_current


def _lock(item: ReconciliationItem, user: User) -> ReconciliationItem:
    """The item re-read under a row lock (two people resolving at once see each other's work),
    after the checks every step shares."""
    access.require(user, Perm.MANAGE_STATEMENTS, item.importer_id)
    locked = (
        ReconciliationItem.objects.select_for_update(of=("self",))
        .select_related("run")
        .get(pk=item.pk)
    )
    if locked.status in ReconciliationItem.MATCHED_CODES:
        raise WorkflowError(_("A matched item is not an exception: there is nothing to work on."))
    if not locked.run.is_current:
        raise WorkflowError(
            _(
                "This item belongs to an older reconciliation of the statement. Work on the "
                "current run: its items carry the resolutions that still apply."
            )
        )
    return locked


def _save(item: ReconciliationItem, user: User, reason: str, fields: list[str]) -> None:
    item._history_user = user
    item._change_reason = reason[:100]
    item.save(update_fields=fields)


@transaction.atomic
def assign(item: ReconciliationItem, *, user: User, assignee: User | None) -> ReconciliationItem:
    """Give the item to ``assignee`` (``None`` takes it back to the team's pile).

    The assignee must be someone who may work this importer's exceptions."""
    locked = _lock(item, user)
    if assignee is not None and not access.can(
        assignee, Perm.MANAGE_STATEMENTS, locked.importer_id
    ):
        raise WorkflowError(
            _("%(who)s may not work on this importer's reconciliation.") % {"who": assignee},
            field="assignee",
        )
    if locked.assigned_to_id == (assignee.pk if assignee else None):
        return locked
    locked.assigned_to = assignee
    reason = _("Assigned to %(who)s") % {"who": assignee} if assignee else _("Assignment removed")
    _save(locked, user, reason, ["assigned_to"])
    if assignee is not None and assignee.pk != user.pk:
        _tell_assignee(locked, assignee=assignee, by=user)
    return locked


def _tell_assignee(item: ReconciliationItem, *, assignee: User, by: User) -> None:
    """The assignee hears of it (once per assignment: the key is the history record's id)."""
    change = item.history.order_by("-history_id").values_list("history_id", flat=True).first()
    notify(
        kind=Kind.EXCEPTION_ASSIGNED,
        recipients=[assignee],
        key=f"item:{item.pk}:change:{change}",
        text=later.gettext(
            "%(who)s assigned you an exception of %(importer)s: transaction %(number)s.",
            {
                "who": by.get_full_name(),
                "importer": item.importer.legal_name,
                "number": item.transaction_number or "—",
            },
        ),
        url=item.run.get_absolute_url(),
    )


@transaction.atomic
def comment(item: ReconciliationItem, *, user: User, text: str) -> ReconciliationComment:
    """Add a note to the item's discussion (kept with the finding across reruns)."""
    locked = _lock(item, user)
    text = (text or "").strip()
    if not text:
        raise WorkflowError(_("Write something to add a comment."), field="text")
    if len(text) > COMMENT_MAX_LENGTH:
        raise WorkflowError(
            _("A comment is at most %(n)d characters.") % {"n": COMMENT_MAX_LENGTH}, field="text"
        )
    return ReconciliationComment.objects.create(
        statement_id=locked.statement_id, key=locked.key, author=user, text=text
    )


@transaction.atomic
def resolve(
    item: ReconciliationItem, *, user: User, resolution: str, note: str = ""
) -> ReconciliationItem:
    """Close the exception with ``resolution`` and a note (required for explained/written off)."""
    locked = _lock(item, user)
    note = (note or "").strip()
    if resolution not in Resolution.values or resolution == Resolution.OPEN:
        raise WorkflowError(_("Choose how the item was resolved."), field="resolution")
    if resolution in NOTE_REQUIRED and not note:
        raise WorkflowError(
            _("Say why in the note: “%(resolution)s” needs an explanation.")
            % {"resolution": Resolution(resolution).label},
            field="note",
        )
    limit = settings.RECONCILIATION_WRITE_OFF_LIMIT
    if resolution == Resolution.WRITTEN_OFF and abs(locked.difference) > limit:
        raise WorkflowError(
            _(
                "A difference of %(difference)s is above the write-off limit of %(limit)s: "
                "request a correction or follow it up with CBSA instead."
            )
            % {"difference": format_money(locked.difference), "limit": format_money(limit)},
            field="resolution",
        )
    locked.resolution = resolution
    locked.note = note
    locked.resolved_by = user
    locked.resolved_at = timezone.now()
    locked.reopened = False
    _save(
        locked,
        user,
        _("Resolved: %(resolution)s") % {"resolution": Resolution(resolution).label},
        ["resolution", "note", "resolved_by", "resolved_at", "reopened"],
    )
    if resolution == Resolution.CORRECTION_REQUESTED:
        correction_requested.send(sender=ReconciliationItem, item=locked, user=user)
    return locked


@transaction.atomic
def reopen(item: ReconciliationItem, *, user: User) -> ReconciliationItem:
    """Open a resolved item again (its note stays, to be edited when it is resolved anew)."""
    locked = _lock(item, user)
    if not locked.resolution:
        raise WorkflowError(_("This item is already open."))
    locked.resolution = Resolution.OPEN
    locked.resolved_by = None
    locked.resolved_at = None
    _save(locked, user, _("Reopened"), ["resolution", "resolved_by", "resolved_at"])
    return locked
