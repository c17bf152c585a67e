"""Walk-through pages: agents publish slots; an importer's BAM (or an agent) books, cancels or
moves; the agent records the session; both download the calendar file."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import GlobalPerm, Perm
from services import walkthroughs
from services.forms import BookingForm, MoveForm, SessionRecordForm, SlotPublishForm
from services.models import Booking, WalkthroughSlot


@login_required
def slot_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.DELIVER_SERVICES)
    form = SlotPublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        slots = walkthroughs.publish_slots(
            agent=request.user, starts=form.starts(), join_url=form.cleaned_data["join_url"]
        )
        messages.success(request, _("%(n)d slots published.") % {"n": len(slots)})
        return redirect("services:slot_list")
    day = _day(request.GET.get("day", ""))
    slots_shown = WalkthroughSlot.objects.filter(
        starts_at__gt=timezone.now() - dt.timedelta(days=7)
    )
    if day is not None:  # ?day=YYYY-MM-DD[&agent=me]: the booked slots of that day (Today links it)
        mine = request.GET.get("agent") == "me"
        booked = walkthroughs.booked_on(day, agent=request.user if mine else None)
        slots_shown = WalkthroughSlot.objects.filter(pk__in=booked.values("slot_id"))
    slots = list(
        slots_shown.select_related("agent")
        .prefetch_related("bookings__importer")
        .order_by("starts_at", "id")[:200]
    )
    rows = [
        (slot, next((b for b in slot.bookings.all() if b.cancelled_at is None), None))
        for slot in slots
    ]
    return render(request, "services/slot_list.html", {"form": form, "rows": rows, "day": day})


def _day(value: str) -> dt.date | None:
    """An ISO date from the query string, or None (absent or not a date: the usual list)."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def book(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.REQUEST_SERVICES)
    form = BookingForm(
        request.POST or None,
        slots=walkthroughs.open_slots(),
        initial={"contact_email": importer.email or request.user.email},
    )
    if request.method == "POST" and form.is_valid():
        try:
            booking = walkthroughs.book(
                slot=form.cleaned_data["slot"],
                importer=importer,
                by=request.user,
                contact_email=form.cleaned_data["contact_email"],
                topics=form.cleaned_data["topics"],
            )
        except walkthroughs.BookingError as exc:
            form.add_error("slot", str(exc))
        else:
            messages.success(request, _("Walk-through booked. The invitation is in your email."))
            return redirect(booking)
    return render(request, "services/book.html", {"importer": importer, "form": form})


def _booking(request: AuthenticatedHttpRequest, pk: int, perm: Perm = Perm.VIEW) -> Booking:
    return access.get_scoped(
        Booking.objects.select_related("slot", "slot__agent", "importer", "booked_by"),
        request.user,
        pk,
        perm,
    )


@login_required
def booking_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    can_change = access.can(request.user, Perm.REQUEST_SERVICES, booking.importer_id)
    can_record = access.can_global(request.user, GlobalPerm.DELIVER_SERVICES)
    return render(
        request,
        "services/booking_detail.html",
        {
            "booking": booking,
            "can_change": can_change and walkthroughs.may_change(booking),
            "can_record": can_record and booking.cancelled_at is None,
            "move_form": MoveForm(slots=walkthroughs.open_slots()),
            "record_form": SessionRecordForm(
                initial={"notes": booking.notes, "outcomes": booking.outcomes}
            ),
        },
    )


@login_required
def booking_ics(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    response = HttpResponse(walkthroughs.booking_ics(booking), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="walkthrough-{booking.pk}.ics"'
    return response


@login_required
@require_POST
def booking_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk, Perm.REQUEST_SERVICES)
    try:
        walkthroughs.cancel(booking=booking)
        messages.success(request, _("Walk-through cancelled."))
    except walkthroughs.BookingError as exc:
        messages.error(request, str(exc))
    return redirect(booking)


@login_required
@require_POST
def booking_move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk, Perm.REQUEST_SERVICES)
    form = MoveForm(request.POST, slots=walkthroughs.open_slots())
    if not form.is_valid():
        messages.error(request, _("Choose one of the open slots."))
        return redirect(booking)
    try:
        walkthroughs.move(booking=booking, to=form.cleaned_data["slot"])
        messages.success(request, _("Walk-through moved. The updated invitation is in your email."))
    except walkthroughs.BookingError as exc:
        messages.error(request, str(exc))
    return redirect(booking)


@login_required
@require_POST
def booking_record(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    booking = _booking(request, pk)
    access.require_global(request.user, GlobalPerm.DELIVER_SERVICES)
    form = SessionRecordForm(request.POST)
    if form.is_valid():
        try:
            walkthroughs.record_session(
                booking=booking,
                notes=form.cleaned_data["notes"],
                outcomes=form.cleaned_data["outcomes"],
            )
            messages.success(request, _("Session recorded."))
        except walkthroughs.BookingError as exc:
            messages.error(request, str(exc))
    return redirect(booking)
