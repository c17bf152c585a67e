"""A person's deadlines as an iCalendar (ICS) feed, for the calendar app they already use.

Timed events carry ``TZID=America/Toronto`` with its ``VTIMEZONE``, so a calendar in another zone
shows CBSA's cut-offs at the right instant on both sides of a daylight-saving change; expiries and
the annual dates are all-day events. Titles are in the person's saved language.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from carm_portal.calendar import cbsa_today
from carm_portal.deadlines.events import deadlines
from carm_portal.models import User
from carm_portal.notification_models import CalendarFeed

# What the feed covers: recent history (a missed deadline stays visible) and the year ahead.
PAST = dt.timedelta(days=31)
AHEAD = dt.timedelta(days=366)


def feed_user(token: str) -> User | None:
    """The active owner of a live token, else None (a revoked or regenerated token is gone)."""
    feed = CalendarFeed.objects.filter(token=token, user__is_active=True).select_related("user")
    found = feed.first()
    return found.user if found else None


def ensure_feed(user: User) -> CalendarFeed:
    return CalendarFeed.objects.get_or_create(user=user)[0]


def regenerate(user: User) -> CalendarFeed:
    """A new secret address; the old one stops working at once."""
    CalendarFeed.objects.filter(user=user).delete()
    return CalendarFeed.objects.create(user=user)


def revoke(user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def _language(user: User) -> str:
    return user.language if user.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def render_feed(user: User, *, today: dt.date | None = None) -> bytes:
    today = today or cbsa_today()
    with translation.override(_language(user)):
        calendar = Calendar()
        calendar.add("prodid", "-//carm-portal//deadlines//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add(
            "x-wr-calname", _("CARM deadlines — %(broker)s") % {"broker": settings.BROKER_NAME}
        )
        calendar.add("x-wr-timezone", settings.CBSA_TIME_ZONE)
        stamp = timezone.now()
        site = settings.SITE_URL.rstrip("/")
        host = site.split("://", 1)[-1].split("/", 1)[0] or "carm-portal"
        for deadline in deadlines(user, start=today - PAST, end=today + AHEAD):
            event = Event()
            event.add("uid", f"{deadline.uid}@{host}")
            event.add("dtstamp", stamp)
            event.add("summary", deadline.title)
            start, end = deadline.start_at(), deadline.end_at()
            if start is not None and end is not None:
                event.add("dtstart", start)
                event.add("dtend", end)
                event.add(
                    "description",
                    _(
                        "Cheques must reach CBSA by 16:00 Eastern; electronic payments count until 23:59 Eastern."
                    ),
                )
            else:
                event.add("dtstart", deadline.day)
                event.add("dtend", deadline.day + dt.timedelta(days=1))
                event.add("transp", "TRANSPARENT")
            if deadline.url:
                event.add("url", site + deadline.url)
            calendar.add_component(event)
        calendar.add_missing_timezones()
    return calendar.to_ical()
