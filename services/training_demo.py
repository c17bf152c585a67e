"""Demo training records for ``seed_demo``: two sessions (the past webinar, the past walk-through)
and completions of the demo logins' people at each status (current, expiring, expired).

Recorded through ``record_completion``, like the pages, so the lapse dates follow the course's
refresh period. Idempotent: nothing is made when the demo importers already have a completion.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carm_portal.models import User
from clients.models import Importer, Membership
from services.compliance.training import ensure_default_courses, record_completion
from services.models import Booking, Course, TrainingCompletion, TrainingSession, WebinarSession


def seed_training(*, importers: dict[str, Importer], staff: dict[str, User], today: dt.date) -> int:
    """Seed the training pages; returns the number of rows made."""
    if TrainingCompletion.objects.filter(importer__in=importers.values()).exists():
        return 0
    ensure_default_courses()
    courses = {c.role: c for c in Course.objects.filter(active=True).order_by("id")}
    if not {"finance", "operations", "compliance"} <= set(courses):
        return 0
    agent = staff["agent"]
    made = 0
    webinar = (
        WebinarSession.objects.filter(cancelled_at=None, starts_at__lt=timezone.now())
        .order_by("-starts_at")
        .first()
    )
    booking = (
        Booking.objects.filter(importer=importers["rideau"], completed_at__isnull=False)
        .select_related("slot")
        .first()
    )
    webinar_session = booking_session = None
    if webinar is not None:
        webinar_session = TrainingSession.objects.create(
            course=courses["compliance"],
            held_on=timezone.localdate(webinar.starts_at),
            trainer=agent.get_full_name() or agent.email,
            webinar=webinar,
        )
        made += 1
    if booking is not None:
        booking_session = TrainingSession.objects.create(
            course=courses["operations"],
            held_on=timezone.localdate(booking.slot.starts_at),
            trainer=agent.get_full_name() or agent.email,
            booking=booking,
        )
        made += 1
    # (importer, its n-th demo login: BAM, finance, staff as seeded; course, days ago, session)
    plan = [
        ("rideau", 0, "compliance", 350, None),  # expiring within 30 days
        ("rideau", 1, "finance", 20, None),  # current
        ("rideau", 2, "operations", None, booking_session),
        ("rideau", 1, "compliance", None, webinar_session),
        ("bowriver", 0, "compliance", 400, None),  # expired
    ]
    for key, nth, course_role, days, session in plan:
        members = list(Membership.objects.filter(importer=importers[key]).order_by("id")[:3])
        member = members[nth] if nth < len(members) else None
        if session is not None:
            completed = session.held_on
        elif days is not None:
            completed = today - dt.timedelta(days=days)
        else:
            continue
        if member is None:
            continue
        record_completion(
            membership=member,
            course=courses[course_role],
            completed_on=completed,
            session=session,
            by=agent,
            today=today,
        )
        made += 1
    return made
