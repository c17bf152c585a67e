"""Taking an RM readiness check: answers (derived where the data knows), score, gaps, follow-ups.

Score = the weighted share of "yes" answers, in percent to two places. Each "no" is a gap and
becomes a follow-up task for the broker's staff: owned by the importer's assigned agent (else by
the staff member who took the check) and due ``GAP_DAYS`` later (the next business day if that
falls on a weekend or a federal holiday).

A check is taken by the broker's staff or, from the importer's own pages, by its BAM
(``answer_as_importer``): the same ``take_check``, so the score and the follow-ups follow one rule.
An answer the importer gave carries who gave it and when; a later staff check that leaves it as it
was keeps it as the importer's answer, one that changes it makes it the staff's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from carm_portal import stored_text as later
from carm_portal.calendar import cbsa_today, is_business_day, next_business_day
from carm_portal.models import User
from carm_portal.notification_models import Kind as NotificationKind
from carm_portal.notifications import notify
from clients import access
from clients.models import Importer
from services.compliance.readiness_derivers import DERIVERS
from services.compliance.readiness_queries import latest_check
from services.models import ReadinessCheck, ReadinessGap, ReadinessQuestion

GAP_DAYS = 30
HUNDRED = Decimal("100")

# The wording of the default questions, translated; a question an admin adds shows its own text.
QUESTION_TEXT: dict[str, Promise] = {
    "records_kept": _("Are import records kept for six years and on file for the last year?"),
    "release_documentation": _(
        "Is release documentation (invoices, B3/CAD support, permits) kept for each shipment?"
    ),
    "security_posted": _("Is financial security posted and sufficient for every RM account?"),
    "delegations_current": _("Are the broker's delegations current in the CARM Client Portal?"),
    "people_trained": _("Has at least one person been trained on CARM in the last year?"),
    "soa_reconciled": _("Is the Statement of Account reconciled every month?"),
    "bam_named": _("Is a Business Account Manager (BAM) named?"),
    "payment_method": _("Is a payment method set up for CBSA payments?"),
}


def question_text(key: str, stored: str) -> str:
    """The question in the user's language when it is one of ours and unchanged, else as stored."""
    default = DEFAULT_QUESTIONS.get(key)
    if default is not None and default[0] == stored and key in QUESTION_TEXT:
        return str(QUESTION_TEXT[key])
    return stored


# key -> (English text, weight, derived_from): what the data migration seeds.
DEFAULT_QUESTIONS: dict[str, tuple[str, int, str]] = {
    "records_kept": (
        "Are import records kept for six years and on file for the last year?",
        2,
        "records_kept",
    ),
    "release_documentation": (
        "Is release documentation (invoices, B3/CAD support, permits) kept for each shipment?",
        2,
        "",
    ),
    "security_posted": (
        "Is financial security posted and sufficient for every RM account?",
        3,
        "security_posted",
    ),
    "delegations_current": (
        "Are the broker's delegations current in the CARM Client Portal?",
        3,
        "delegations_current",
    ),
    "people_trained": (
        "Has at least one person been trained on CARM in the last year?",
        1,
        "people_trained",
    ),
    "soa_reconciled": (
        "Is the Statement of Account reconciled every month?",
        2,
        "soa_reconciled",
    ),
    "bam_named": ("Is a Business Account Manager (BAM) named?", 2, "bam_named"),
    "payment_method": ("Is a payment method set up for CBSA payments?", 2, "payment_method"),
}


def ensure_default_questions() -> int:
    """The default questionnaire, for a database that lost what the data migration seeded (the
    demo on a flushed test database): missing questions are added, existing ones left as admins
    edited them. Returns how many were added."""
    added = 0
    for position, (key, (text, weight, derived)) in enumerate(DEFAULT_QUESTIONS.items(), start=1):
        _question, created = ReadinessQuestion.objects.get_or_create(
            key=key,
            defaults={
                "text": text,
                "weight": weight,
                "derived_from": derived,
                "position": position * 10,
            },
        )
        added += created
    return added


class ReadinessError(ValueError):
    pass


@dataclass(frozen=True)
class ImporterAnswer:
    """Who of the importer's people gave an answer, and when (the name as it was then)."""

    user_id: int | None
    name: str
    at: str  # ISO 8601, UTC

    @classmethod
    def of(cls, user: User, at: dt.datetime) -> ImporterAnswer:
        return cls(user.pk, str(user.get_full_name() or user.email), at.isoformat())

    @classmethod
    def from_json(cls, row: Mapping[str, object]) -> ImporterAnswer | None:
        """The importer's mark on a stored answer (``None`` for staff and derived answers)."""
        if not row.get("by_importer"):
            return None
        user_id = row.get("answered_by")
        return cls(
            int(user_id) if isinstance(user_id, int) else None,
            str(row.get("answered_by_name", "")),
            str(row.get("answered_at", "")),
        )

    @property
    def answered_at(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(self.at)
        except ValueError:
            return None


@dataclass(frozen=True)
class Answer:
    key: str
    text: str
    weight: int
    yes: bool
    derived: bool
    by_importer: ImporterAnswer | None = None

    def as_json(self) -> dict[str, object]:
        row: dict[str, object] = {
            "key": self.key,
            "text": self.text,
            "weight": self.weight,
            "yes": self.yes,
            "derived": self.derived,
        }
        if self.by_importer is not None:
            row |= {
                "by_importer": True,
                "answered_by": self.by_importer.user_id,
                "answered_by_name": self.by_importer.name,
                "answered_at": self.by_importer.at,
            }
        return row


def active_questions() -> list[ReadinessQuestion]:
    return list(ReadinessQuestion.objects.filter(active=True).order_by("position", "id"))


def derived_answers(
    importer: Importer, questions: Sequence[ReadinessQuestion], today: dt.date
) -> dict[str, bool]:
    """question key -> the answer its deriver gives today (questions answered by a person omitted;
    a deriver named in the admin that does not exist counts as "no", so a typo cannot pass)."""
    result = {}
    for q in questions:
        if q.derived_from:
            deriver = DERIVERS.get(q.derived_from)
            result[q.key] = bool(deriver and deriver.answer(importer, today))
    return result


def build_answers(
    questions: Sequence[ReadinessQuestion],
    derived: Mapping[str, bool],
    manual: Mapping[str, bool],
    by_importer: Mapping[str, ImporterAnswer] | None = None,
) -> list[Answer]:
    """One answer per question: the deriver's when there is one (a manual answer given for a
    derived question is ignored, so nobody overrides the records), else the person's, marked as
    the importer's where ``by_importer`` says so."""
    by_importer = by_importer or {}
    answers = []
    for q in questions:
        if q.key in derived:
            answers.append(Answer(q.key, q.text, q.weight, derived[q.key], True))
        elif q.key in manual:
            answers.append(
                Answer(q.key, q.text, q.weight, bool(manual[q.key]), False, by_importer.get(q.key))
            )
        else:
            raise ReadinessError(_("Answer every question."))
    return answers


def importer_answers(check: ReadinessCheck | None) -> dict[str, tuple[bool, ImporterAnswer]]:
    """question key -> (yes, who and when) for the answers of ``check`` the importer gave."""
    if check is None:
        return {}
    found = {}
    for row in check.answers:
        mark = ImporterAnswer.from_json(row)
        if mark is not None and not row.get("derived"):
            found[str(row["key"])] = (bool(row["yes"]), mark)
    return found


def waiting_on_importer(
    questions: Sequence[ReadinessQuestion], check: ReadinessCheck | None
) -> list[ReadinessQuestion]:
    """The asked questions no record answers (no ``derived_from``) that ``check`` (the latest)
    holds no answer of the importer's to: what its BAM is asked to answer."""
    given = importer_answers(check)
    return [q for q in questions if not q.derived_from and q.key not in given]


def score(answers: Sequence[Answer]) -> Decimal:
    """The weighted share of "yes", in percent to two places (0 for an empty questionnaire)."""
    total = sum(a.weight for a in answers)
    if not total:
        return Decimal("0.00")
    yes = sum(a.weight for a in answers if a.yes)
    return (Decimal(yes) * HUNDRED / Decimal(total)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def gap_due(today: dt.date) -> dt.date:
    due = today + dt.timedelta(days=GAP_DAYS)
    return due if is_business_day(due) else next_business_day(due)


def gap_owner(importer: Importer, taken_by: User | None) -> User | None:
    """The importer's assigned agent, else the broker-staff member who took the check."""
    if importer.assigned_agent_id:
        return importer.assigned_agent
    if taken_by is not None and access.is_broker(taken_by):
        return taken_by
    return None


@transaction.atomic
def take_check(
    importer: Importer,
    *,
    manual: Mapping[str, bool],
    by: User | None,
    today: dt.date | None = None,
    as_importer: bool = False,
) -> ReadinessCheck:
    """Record a readiness check for ``importer``: derived answers from today's data, the
    person's answers for the rest, the score, and one follow-up task per gap.

    ``as_importer``: ``by`` is one of the importer's people answering for it (its BAM, from
    ``answer_as_importer``), so every manual answer is the importer's, with who and when.
    Otherwise an answer the importer gave on the latest check, and left unchanged here, stays
    the importer's."""
    today = today or cbsa_today()
    now = timezone.now()
    questions = active_questions()
    if not questions:
        raise ReadinessError(_("No readiness question is set up."))
    if as_importer:
        if by is None:
            raise ReadinessError(_("An importer's answer needs the person who gave it."))
        mark = ImporterAnswer.of(by, now)
        marks = dict.fromkeys(manual, mark)
    else:
        kept = importer_answers(latest_check(importer))
        marks = {
            key: given
            for key, (yes, given) in kept.items()
            if key in manual and bool(manual[key]) == yes
        }
    answers = build_answers(questions, derived_answers(importer, questions, today), manual, marks)
    check = ReadinessCheck(
        importer=importer,
        taken_by=by,
        taken_at=now,
        taken_on=today,
        score=score(answers),
        answers=[a.as_json() for a in answers],
    )
    check._history_user = by  # type: ignore[attr-defined]  # django-simple-history reads these
    check._change_reason = (  # type: ignore[attr-defined]
        "Readiness questions answered by the importer" if as_importer else "Readiness check taken"
    )
    check.save()
    owner = gap_owner(importer, by)
    due = gap_due(today)
    bulk_create_with_history(
        [
            ReadinessGap(
                check_run=check,
                importer=importer,
                question_key=a.key,
                text=a.text,
                owner=owner,
                due_on=due,
            )
            for a in answers
            if not a.yes
        ],
        ReadinessGap,
        default_user=by,
        default_change_reason="Follow-up opened by a readiness check",
    )
    return check


def answer_as_importer(
    importer: Importer, *, answers: Mapping[str, bool], by: User, today: dt.date | None = None
) -> ReadinessCheck:
    """The importer's BAM answers the questions no record answers, from the importer's pages:
    a new check through ``take_check`` (derived answers from today's records, never from
    ``answers``), so the score and the follow-ups it opens, and those it closes by superseding
    the previous check's, are exactly what a staff check with these answers would give."""
    check = take_check(importer, manual=answers, by=by, today=today, as_importer=True)
    # The importer's agents hear of it (in their inbox, e-mailed as each chose): the score may
    # have moved and new follow-ups may be theirs.
    notify(
        kind=NotificationKind.READINESS_ANSWERED,
        recipients=access.agents_to_tell(importer),
        key=f"readiness:{check.pk}:answered",
        text=later.gettext(
            "%(importer)s: %(who)s answered the readiness questions; the score is now %(score)s %%.",
            {
                "importer": importer.legal_name,
                "who": by.get_full_name() or by.email,
                "score": later.number(check.score),
            },
        ),
        url=reverse("compliance:readiness", args=[importer.pk]),
    )
    return check


@transaction.atomic
def complete_gap(gap: ReadinessGap, *, by: User | None) -> bool:
    """Mark a follow-up done (once: a second call, or a concurrent one, changes nothing and
    returns False). Saved row by row under a lock so the history records who closed it."""
    locked = ReadinessGap.objects.select_for_update().get(pk=gap.pk)
    if locked.done_at is not None:
        return False
    locked.done_at = timezone.now()
    locked.done_by = by
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = "Follow-up done"  # type: ignore[attr-defined]
    locked.save(update_fields=["done_at", "done_by"])
    gap.done_at, gap.done_by = locked.done_at, by
    return True


@transaction.atomic
def reassign_gap(
    gap: ReadinessGap, *, owner: User | None, due_on: dt.date, by: User | None
) -> None:
    """Give a follow-up to another member of staff, or another date (a done one stays as it was)."""
    locked = ReadinessGap.objects.select_for_update().get(pk=gap.pk)
    if locked.done_at is not None:
        raise ReadinessError(_("This follow-up is already done."))
    if owner is not None and not access.is_broker(owner):
        raise ReadinessError(_("A follow-up is owned by a member of the broker's staff."))
    locked.owner, locked.due_on = owner, due_on
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = "Follow-up reassigned"  # type: ignore[attr-defined]
    locked.save(update_fields=["owner", "due_on"])
    gap.owner, gap.due_on = owner, due_on
