"""The broker's services: public pages (no login) and the staff and importer pages behind them."""

from django.urls import path

from services.views import (
    charges,
    importer_services,
    prospects,
    public,
    requests,
    walkthroughs,
    webinars,
)

app_name = "services"

urlpatterns = [
    # Public: no login.
    path("", public.index, name="index"),
    path("interest/", public.interest, name="interest"),
    path("interest/sent/", public.interest_sent, name="interest_sent"),
    path("interest/confirm/<str:token>/", public.interest_confirm, name="interest_confirm"),
    path("webinars/", public.webinars, name="webinars"),
    path("webinars/<int:pk>/", public.webinar_register, name="webinar_register"),
    path("webinars/confirm/<str:token>/", public.webinar_confirm, name="webinar_confirm"),
    # An importer's people.
    path("webinars/<int:pk>/register-me/", webinars.register_me, name="register_me"),
    path(
        "registrations/<int:pk>/cancel/", webinars.registration_cancel, name="registration_cancel"
    ),
    # Broker staff.
    path("prospects/", prospects.prospect_list, name="prospect_list"),
    path("prospects/<int:pk>/", prospects.prospect_detail, name="prospect_detail"),
    path("prospects/<int:pk>/convert/", prospects.prospect_convert, name="prospect_convert"),
    path("sessions/", webinars.session_list, name="session_list"),
    path("sessions/new/", webinars.session_create, name="session_create"),
    path("sessions/<int:pk>/", webinars.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", webinars.session_edit, name="session_edit"),
    path("sessions/<int:pk>/cancel/", webinars.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/attendance/", webinars.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/attendees.csv", webinars.session_csv, name="session_csv"),
    # One importer's services (its people and the broker's staff).
    path(
        "importers/<int:importer_pk>/",
        importer_services.importer_services,
        name="importer_services",
    ),
    path("importers/<int:importer_pk>/book/", walkthroughs.book, name="book"),
    path(
        "importers/<int:importer_pk>/request/<slug:kind>/",
        requests.request_create,
        name="request_create",
    ),
    # Walk-throughs.
    path("slots/", walkthroughs.slot_list, name="slot_list"),
    path("bookings/<int:pk>/", walkthroughs.booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/walkthrough.ics", walkthroughs.booking_ics, name="booking_ics"),
    path("bookings/<int:pk>/cancel/", walkthroughs.booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/move/", walkthroughs.booking_move, name="booking_move"),
    path("bookings/<int:pk>/record/", walkthroughs.booking_record, name="booking_record"),
    # Service requests.
    path("requests/", requests.request_list, name="request_list"),
    path("requests/<int:pk>/", requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/reply/", requests.request_reply, name="request_reply"),
    path("requests/<int:pk>/advance/", requests.request_advance, name="request_advance"),
    path("requests/<int:pk>/assign/", requests.request_assign, name="request_assign"),
    path("requests/<int:pk>/bond/", requests.request_bond_edit, name="request_bond_edit"),
    path("requests/<int:pk>/approve/", requests.request_approve, name="request_approve"),
    path("requests/<int:pk>/attach/", requests.request_attach, name="request_attach"),
    # Fees and charges.
    path("charges/", charges.charge_list, name="charge_list"),
    path("charges/export.csv", charges.charge_csv, name="charge_csv"),
    path("charges/status/", charges.charge_status, name="charge_status"),
    path("fees/", charges.fee_schedule, name="fee_schedule"),
]
