"""Calendar files (RFC 5545) for webinars and walk-throughs, built with icalendar.

Times are written in UTC (``...Z``): every calendar program converts them to the reader's zone,
so a session across a daylight-saving change lands at the same wall-clock hour in Toronto as
the broker announced. The UID is stable per object, so a re-sent file updates the same event.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText


def event_calendar(
    *,
    uid: str,
    summary: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    description: str = "",
    location: str = "",
    organizer_email: str = "",
    sequence: int = 0,
    cancelled: bool = False,
    now: dt.datetime | None = None,
) -> bytes:
    """One event as an .ics file's bytes (METHOD:REQUEST, or CANCEL for a cancelled one)."""
    calendar = Calendar()
    calendar.add("prodid", "-//carm-portal//services//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))
    event.add("dtstart", starts_at.astimezone(dt.UTC))
    event.add("dtend", ends_at.astimezone(dt.UTC))
    event.add("summary", summary)
    event.add("sequence", sequence)
    if cancelled:
        event.add("status", "CANCELLED")
    if description:
        event.add("description", description)
    if location:
        event["location"] = vText(location)
    if organizer_email:
        organizer = vCalAddress(f"mailto:{organizer_email}")
        organizer.params["cn"] = vText(settings.BROKER_NAME)
        event["organizer"] = organizer
    calendar.add_component(event)
    return calendar.to_ical()


def uid_for(kind: str, pk: int) -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "carm-portal"
    return f"{kind}-{pk}@{host}"
