"""The services app in the Django admin."""

from django.contrib import admin

from services import admin_compliance  # noqa: F401  (the compliance records' admin)

# --- The broker's services (prospects, webinars) ---------------------------------------------------
from services.models import Prospect, Registration, WebinarSession


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ["company", "name", "email", "stage", "owner", "confirmed_at", "created_at"]
    list_filter = ["stage"]
    search_fields = ["company", "name", "email"]
    raw_id_fields = ["importer"]


class RegistrationInline(admin.TabularInline):
    model = Registration
    extra = 0
    fields = ["name", "email", "company", "status", "attended"]


@admin.register(WebinarSession)
class WebinarSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "capacity", "cancelled_at"]
    inlines = [RegistrationInline]


# --- end of the broker's services ------------------------------------------------------------------
