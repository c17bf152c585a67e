"""Public pages (no login): the services, the interest form and its confirmation, the webinars.

Each public POST passes ``spam_guard``: a filled honeypot or a form sent faster than a person
could is answered as if it worked (a bot learns nothing) but records nothing; over the rate
limits, the visitor is told to wait (HTTP 429).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clients import access
from services import spam_guard
from services.forms import InterestForm, PublicRegistrationForm
from services.interest import confirm_interest, prospect_from_token, record_interest
from services.models import Registration, Service
from services.webinar_optin import CONFIRM_HOURS, registration_from_token
from services.webinar_seats import (
    RegistrationClosed,
    confirm_registration,
    register,
    upcoming_sessions,
    with_seat_counts,
)

SESSIONS_SHOWN = 50


def index(request: HttpRequest) -> HttpResponse:
    sessions = list(upcoming_sessions()[:3])
    return render(
        request, "services/index.html", {"services": Service.choices, "sessions": sessions}
    )


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "services/too_many.html", status=429)


@require_http_methods(["GET", "POST"])
def interest(request: HttpRequest) -> HttpResponse:
    form = InterestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.looks_automated():
            return redirect("services:interest_sent")
        data = form.cleaned_data
        if spam_guard.over_limits(request=request, email=data["email"]):
            return _too_many(request)
        record_interest(
            name=data["name"],
            company=data["company"],
            email=data["email"],
            phone=data["phone"],
            bn9=data["bn9"],
            services=data["services"],
            message=data["message"],
            language=translation.get_language() or "en",
        )
        return redirect("services:interest_sent")
    return render(request, "services/interest.html", {"form": form})


def interest_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "services/interest_sent.html")


@require_http_methods(["GET", "POST"])
def interest_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; only the POST confirms, so a mail scanner that opens links (GET) does
    not confirm on the person's behalf."""
    prospect = prospect_from_token(token)
    if prospect is None:
        return render(request, "services/interest_confirm.html", {"invalid": True}, status=404)
    if request.method == "POST":
        confirm_interest(prospect)
        return render(request, "services/interest_confirm.html", {"done": True})
    already = prospect.confirmed_at is not None
    return render(
        request,
        "services/interest_confirm.html",
        {"prospect": prospect, "done": already, "token": token},
    )


def webinars(request: HttpRequest) -> HttpResponse:
    sessions = list(with_seat_counts(upcoming_sessions())[:SESSIONS_SHOWN])
    return render(request, "services/webinars.html", {"sessions": sessions})


@require_http_methods(["GET", "POST"])
def webinar_register(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(upcoming_sessions(), pk=pk)
    form = PublicRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.looks_automated():  # answered like a visitor's registration, recording nothing
            return render(
                request,
                "services/webinar_registered.html",
                {"session": session, "pending": True, "hours": CONFIRM_HOURS},
            )
        data = form.cleaned_data
        if spam_guard.over_limits(request=request, email=data["email"]):
            return _too_many(request)
        signed_in = _signed_in_importer_person(request, data["email"])
        try:
            registration = register(
                session=session,
                name=data["name"],
                email=data["email"],
                company=data["company"],
                user=signed_in,
                language=translation.get_language() or "en",
                opt_in=signed_in is None,
            )
        except RegistrationClosed:
            raise Http404(_("Registration for this session is closed.")) from None
        return _registered(request, registration)
    return render(request, "services/webinar_register.html", {"session": session, "form": form})


def _signed_in_importer_person(request: HttpRequest, email: str) -> Any:
    """The signed-in user when they are one of an importer's people registering their own
    address: the address is proven by their sign-in, so no opt-in. None otherwise."""
    user = request.user
    if not user.is_authenticated or not access.member_roles(user):
        return None
    return user if user.email.strip().lower() == email.strip().lower() else None


def _registered(request: HttpRequest, registration: Registration) -> HttpResponse:
    return render(
        request,
        "services/webinar_registered.html",
        {
            "session": registration.session,
            "registration": registration,
            "pending": registration.status == Registration.Status.PENDING,
            "waitlisted": registration.status == Registration.Status.WAITLISTED,
            "hours": CONFIRM_HOURS,
            "recorded": True,
        },
    )


@require_http_methods(["GET", "POST"])
def webinar_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the registration e-mail. GET shows a button; only the POST takes the seat, so
    a mail scanner that opens links does not register on the person's behalf."""
    registration = registration_from_token(token)
    if registration is None:
        return render(
            request,
            "services/webinar_confirm.html",
            {"invalid": True, "hours": CONFIRM_HOURS},
            status=404,
        )
    if request.method == "POST":
        try:
            registration = confirm_registration(registration)
        except RegistrationClosed:
            raise Http404(_("Registration for this session is closed.")) from None
        if registration.status == Registration.Status.CANCELLED:
            return redirect("services:webinar_register", registration.session_id)
        return _registered(request, registration)
    if registration.status != Registration.Status.PENDING:
        return _registered(request, registration)
    return render(
        request,
        "services/webinar_confirm.html",
        {"registration": registration, "session": registration.session, "token": token},
    )
