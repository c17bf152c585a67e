"""Training records: recording a completion, who is trained for what, refresher reminders.

A completion lapses ``course.refresh_months`` after its date (the same day of the month, the last
day when the month is shorter). Only a person's latest completion of a course counts: a refresher
recorded later replaces the previous cycle, and its reminder (keyed by the lapse date) resolves.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from carm_portal import stored_text as later
from carm_portal.models import User
from carm_portal.severity import Severity
from clients.models import Membership
from services.models import Course, Registration, TrainingCompletion, TrainingSession

REMIND_DAYS = 30  # a refresher is flagged this many days before the training lapses


class TrainingError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# name, role: the courses the data migration seeds (admins rename and add others). The names are
# in the catalogue, so pages show a default course's stored English name translated (the
# ``from_english`` filter); a name an admin typed shows as typed.
DEFAULT_COURSES = [
    (
        gettext_noop("CARM for finance teams: Statements of Account, payments and security"),
        "finance",
    ),
    (
        gettext_noop("CARM for operations: releases, accounting and the CARM Client Portal"),
        "operations",
    ),
    (gettext_noop("CARM compliance: records, corrections and delegations"), "compliance"),
]


def ensure_default_courses() -> int:
    """A course per role when none is active for it (a database that lost what the data migration
    seeded: the demo on a flushed test database). Returns how many were added."""
    covered = set(Course.objects.filter(active=True).values_list("role", flat=True))
    added = 0
    for name, role in DEFAULT_COURSES:
        if role not in covered:
            Course.objects.get_or_create(name=name, role=role, defaults={"refresh_months": 12})
            added += 1
    return added


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def record_completion(
    *,
    membership: Membership,
    course: Course,
    completed_on: dt.date,
    session: TrainingSession | None = None,
    by: User | None,
    today: dt.date,
) -> TrainingCompletion:
    if completed_on > today:
        raise TrainingError(str(_("A training cannot be completed in the future.")), "completed_on")
    if session is not None and session.course_id != course.pk:
        raise TrainingError(str(_("That session was of another course.")), "session")
    if TrainingCompletion.objects.filter(
        membership=membership, course=course, completed_on=completed_on
    ).exists():
        raise TrainingError(str(_("This completion is already recorded.")), "completed_on")
    return TrainingCompletion.objects.create(
        importer_id=membership.importer_id,
        membership=membership,
        course=course,
        completed_on=completed_on,
        lapses_on=add_months(completed_on, course.refresh_months),
        session=session,
        recorded_by=by,
    )


def latest(completions: QuerySet[TrainingCompletion]) -> QuerySet[TrainingCompletion]:
    """Each person's latest completion of each course (one query, any database)."""
    newer = TrainingCompletion.objects.filter(
        membership_id=OuterRef("membership_id"),
        course_id=OuterRef("course_id"),
        completed_on__gt=OuterRef("completed_on"),
    )
    return completions.filter(~Exists(newer))


def current_training(importer_ids: Iterable[int]) -> QuerySet[TrainingCompletion]:
    """Who of these importers' people is trained for what, and when it lapses."""
    return (
        latest(TrainingCompletion.objects.filter(importer_id__in=list(importer_ids)))
        .select_related("membership__user", "course", "session")
        .order_by("lapses_on", "id")
    )


def refresh_findings(*, today: dt.date) -> list[tuple[int, str, str, dict, dt.date]]:
    """(importer id, key, severity, message parts, lapse date) for every latest completion that
    lapses within ``REMIND_DAYS`` or has lapsed, for people still active on the importer."""
    rows = due_for_refresh(TrainingCompletion.objects.all(), today=today).values_list(
        "importer_id",
        "membership_id",
        "course_id",
        "course__name",
        "course__name_fr",
        "membership__user__full_name",
        "membership__user__email",
        "lapses_on",
    )
    findings: list[tuple[int, str, str, dict, dt.date]] = []
    for importer_id, membership_id, course_id, english, french, name, email, lapses in rows:
        person = name or email
        course = later.bilingual(english, french)  # each reader's language, when shown
        if lapses <= today:
            parts = later.gettext(
                "%(person)s's training “%(course)s” lapsed on %(day)s: a refresher is due.",
                {"person": person, "course": course, "day": later.date(lapses)},
            )
            severity = str(Severity.WARNING)
        else:
            parts = later.gettext(
                "%(person)s's training “%(course)s” lapses on %(day)s: plan a refresher.",
                {"person": person, "course": course, "day": later.date(lapses)},
            )
            severity = str(Severity.ADVICE)
        key = f"training:{membership_id}:{course_id}:{lapses:%Y-%m-%d}"
        findings.append((importer_id, key, severity, parts, lapses))
    return findings


# --- Pages: the refresh list, the status badges, recording in bulk, the certificate -------------

CURRENT, EXPIRING, EXPIRED = "current", "expiring", "expired"


def due_for_refresh(
    completions: QuerySet[TrainingCompletion], *, today: dt.date
) -> QuerySet[TrainingCompletion]:
    """The latest completions among ``completions`` that lapse within ``REMIND_DAYS`` of ``today``
    or have lapsed, of people still active, in courses still offered (nobody can record a
    refresher of a retired course): the reminders' rule and the refresh list's."""
    return latest(completions).filter(
        lapses_on__lte=today + dt.timedelta(days=REMIND_DAYS),
        membership__user__is_active=True,
        course__active=True,
    )


def status_of(completion: TrainingCompletion, *, today: dt.date) -> str:
    """``expired`` on and after the lapse date, ``expiring`` within ``REMIND_DAYS`` of it (the
    reminders' window), else ``current``."""
    if completion.lapses_on <= today:
        return EXPIRED
    if completion.lapses_on <= today + dt.timedelta(days=REMIND_DAYS):
        return EXPIRING
    return CURRENT


def valid_until(completion: TrainingCompletion) -> dt.date:
    """The last day a completion counts: the day before it lapses (``status_of``'s rule)."""
    return completion.lapses_on - dt.timedelta(days=1)


def verification_reference(completion: TrainingCompletion) -> str:
    """The reference printed on a certificate: the completion's id and a keyed digest of what the
    certificate states, so the broker can tell a genuine certificate from an edited one."""
    facts = (
        f"{completion.pk}:{completion.membership_id}:{completion.course_id}:"
        f"{completion.completed_on:%Y-%m-%d}:{completion.lapses_on:%Y-%m-%d}"
    )
    digest = salted_hmac("carm-training-certificate", facts, algorithm="sha256").hexdigest()
    return f"TRN-{completion.pk:06d}-{digest[:10].upper()}"


@dataclass
class Recorded:
    """What a bulk recording did: the completions made, and the people already recorded."""

    created: list[TrainingCompletion] = field(default_factory=list)
    already: list[Membership] = field(default_factory=list)


def record_completions(
    *,
    memberships: Iterable[Membership],
    course: Course,
    completed_on: dt.date,
    session: TrainingSession | None = None,
    by: User | None,
    today: dt.date,
) -> Recorded:
    """Record the same completion for several people. Idempotent: a person whose completion of
    the course on that day is already recorded is counted in ``already``, not recorded twice
    (and a concurrent double submission is stopped by the unique constraint)."""
    result = Recorded()
    people = list(memberships)
    done = set(
        TrainingCompletion.objects.filter(
            membership__in=people, course=course, completed_on=completed_on
        ).values_list("membership_id", flat=True)
    )
    for membership in people:
        if membership.pk in done:
            result.already.append(membership)
            continue
        try:
            with transaction.atomic():
                result.created.append(
                    record_completion(
                        membership=membership,
                        course=course,
                        completed_on=completed_on,
                        session=session,
                        by=by,
                        today=today,
                    )
                )
        except IntegrityError:
            result.already.append(membership)
    return result


def webinar_attended_q(webinar_id: int) -> Q:
    """Memberships whose person attended the webinar (attendance as staff marked it, matched by
    account or e-mail: a registrant need not have had an account)."""
    came = Registration.objects.filter(session_id=webinar_id, attended=True)
    return Q(user__in=came.exclude(user=None).values("user")) | Q(
        user__email__in=came.values("email")
    )


def webinar_attendee_importers(
    session: TrainingSession, memberships: QuerySet[Membership]
) -> list[tuple[int, str]]:
    """(id, legal name) of the importers some of whose ``memberships`` attended the session's
    webinar: a webinar mixes importers, and completions are recorded one importer at a time."""
    if session.webinar_id is None:
        return []
    return list(
        memberships.filter(webinar_attended_q(session.webinar_id))
        .order_by("importer__legal_name", "importer_id")
        .values_list("importer_id", "importer__legal_name")
        .distinct()
    )


def attendees(session: TrainingSession, memberships: QuerySet[Membership]) -> set[int]:
    """Which of ``memberships`` took part in the session: a webinar's attendees (attendance as
    staff marked it, matched by account or e-mail), or the person who booked the walk-through."""
    if session.webinar_id is not None:
        return set(
            memberships.filter(webinar_attended_q(session.webinar_id)).values_list("pk", flat=True)
        )
    if session.booking_id is not None:
        return set(
            memberships.filter(user__walkthrough_bookings=session.booking_id).values_list(
                "pk", flat=True
            )
        )
    return set()
