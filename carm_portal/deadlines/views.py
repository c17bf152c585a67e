"""``/calendar/``: the month of deadlines, and the secret ICS address that carries them."""

from __future__ import annotations

import calendar as month_grid
import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.calendar import cbsa_today
from carm_portal.deadlines import feed
from carm_portal.deadlines.events import deadlines
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.notification_models import CalendarFeed

SHOWN_PER_DAY = 5


def _month(value: str | None, today: dt.date) -> dt.date:
    """The first day of ``?month=YYYY-MM``, or of this month when it is missing or malformed."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


@login_required
def month(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = cbsa_today()
    first = _month(request.GET.get("month"), today)
    weeks = month_grid.Calendar(firstweekday=6).monthdatescalendar(first.year, first.month)
    by_day = defaultdict(list)
    for deadline in deadlines(request.user, start=weeks[0][0], end=weeks[-1][-1]):
        by_day[deadline.day].append(deadline)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    feed_row = CalendarFeed.objects.filter(user=request.user).first()
    feed_url = (
        request.build_absolute_uri(reverse("deadlines:feed", args=[feed_row.token]))
        if feed_row
        else ""
    )
    return render(
        request,
        "deadlines/month.html",
        {
            "first": first,
            "today": today,
            "weekdays": [weeks[0][i] for i in range(7)],
            "weeks": [
                [
                    {
                        "day": day,
                        "in_month": day.month == first.month,
                        "today": day == today,
                        "events": by_day.get(day, [])[:SHOWN_PER_DAY],
                        "more": max(0, len(by_day.get(day, [])) - SHOWN_PER_DAY),
                    }
                    for day in week
                ]
                for week in weeks
            ],
            "previous": previous,
            "following": following,
            "this_month": today.replace(day=1),
            "feed_url": feed_url,
        },
    )


@require_POST
@login_required
def regenerate_feed(request: AuthenticatedHttpRequest) -> HttpResponse:
    feed.regenerate(request.user)
    messages.success(
        request, _("Your calendar address is new: the previous one, if any, no longer works.")
    )
    return redirect("deadlines:month")


@require_POST
@login_required
def revoke_feed(request: AuthenticatedHttpRequest) -> HttpResponse:
    feed.revoke(request.user)
    messages.success(request, _("Your calendar address is turned off."))
    return redirect("deadlines:month")


def ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no sign-in (calendar apps cannot), the secret address is the key."""
    user = feed.feed_user(token)
    if user is None:
        raise Http404(_("No such calendar."))
    response = HttpResponse(feed.render_feed(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="carm-deadlines.ics"'
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex"
    return response
