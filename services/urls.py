"""The broker's services: public pages (no login) and the staff and importer pages behind them."""

from django.urls import path

from services.views import prospects, public, webinars

app_name = "services"

urlpatterns = [
    # Public: no login.
    path("", public.index, name="index"),
    path("interest/", public.interest, name="interest"),
    path("interest/sent/", public.interest_sent, name="interest_sent"),
    path("interest/confirm/<str:token>/", public.interest_confirm, name="interest_confirm"),
    path("webinars/", public.webinars, name="webinars"),
    path("webinars/<int:pk>/", public.webinar_register, name="webinar_register"),
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
    path("sessions/<int:pk>/attendance/", webinars.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/attendees.csv", webinars.session_csv, name="session_csv"),
]
