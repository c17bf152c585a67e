from typing import Any

from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from carm_portal.models import Notification, User
from clients.access import BROKER_GROUP_NAMES


class StaffUserChangeForm(UserChangeForm):
    """Refuses what ``clients.signals`` refuses, as a form error instead of a failed save: an
    importer's member cannot be made broker staff (a broker group or superuser)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # BaseForm.clean returns self.cleaned_data
        groups = cleaned.get("groups") or []
        to_broker = cleaned.get("is_superuser") or any(g.name in BROKER_GROUP_NAMES for g in groups)
        if to_broker and self.instance.pk and self.instance.memberships.exists():
            raise forms.ValidationError(
                _(
                    "This person is an importer's member: remove their memberships before "
                    "making them broker staff (broker staff may not hold a membership)."
                )
            )
        return cleaned


# The admin is branded, not "Django administration": staff see which site they are on.
admin.site.site_header = "carm-portal"
admin.site.site_title = "carm-portal"
admin.site.index_title = _("Administration")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = StaffUserChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


# --- Two-factor authenticators (allauth.mfa) -----------------------------------------------------
# Resetting a lost device is deleting the user's authenticators here (README, "Two-factor
# authentication"). allauth's own admin shows the stored secrets (the authenticator app's key, the
# recovery codes' seed) and lets anyone add one: this one finds them by user and only deletes.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user"]
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read only: to answer "why did I not get that e-mail?" (the row says how and when)."""

    list_display = ("created_at", "recipient", "kind", "delivery", "emailed_at", "read_at")
    list_filter = ("kind", "delivery")
    search_fields = ("recipient__email", "key")
    list_select_related = ("recipient",)
    raw_id_fields = ("recipient",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
