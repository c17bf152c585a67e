from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

from carm_portal.models import User
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
