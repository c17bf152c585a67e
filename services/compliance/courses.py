"""Managing the training courses: their names in both languages, whom they are for, how often a
refresher is due, and retiring a course that is no longer offered.

A course with recorded completions (or sessions) is never deleted: its people's records and
certificates name it. It is retired instead: it leaves the choices where completions are recorded,
and everything recorded of it stays. A retired course can be offered again.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.functions import Lower

from services.models import Course


class CourseInUse(ValueError):
    """A course that people's records name: it can be retired, not deleted."""


def same_name_offered(name: str, role: str, *, exclude: int | None = None) -> bool:
    """Whether another offered course for ``role`` has this name (letter case aside)."""
    courses = Course.objects.filter(active=True, role=role).annotate(lower=Lower("name"))
    if exclude is not None:
        courses = courses.exclude(pk=exclude)
    return courses.filter(lower=name.strip().lower()).exists()


def is_deletable(course: Course) -> bool:
    """Nothing recorded names the course: no completion and no session."""
    return not (course.completions.exists() or course.sessions.exists())


def retire(course: Course) -> bool:
    """No longer offer the course; returns whether it was offered until now."""
    changed = course.active
    if changed:
        course.active = False
        course.save(update_fields=["active"])
    return changed


def offer_again(course: Course) -> bool:
    """Offer a retired course again; returns whether it was retired until now."""
    changed = not course.active
    if changed:
        course.active = True
        course.save(update_fields=["active"])
    return changed


def delete(course: Course) -> None:
    """Delete a course nothing names (one added by mistake); ``CourseInUse`` otherwise."""
    with transaction.atomic():
        locked = Course.objects.select_for_update().get(pk=course.pk)
        if not is_deletable(locked):
            raise CourseInUse(course.pk)
        locked.delete()
