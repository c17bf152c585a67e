from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from clients.models import (
    ClientGroup,
    Importer,
    Membership,
    OnboardingStep,
    PortalUser,
    ProgramAccount,
)


class ProgramAccountInline(admin.TabularInline):
    model = ProgramAccount
    extra = 0


class PortalUserInline(admin.TabularInline):
    model = PortalUser
    extra = 0
    fields = [
        "full_name",
        "email",
        "ccp_role",
        "sign_in_method",
        "profile_created",
        "access_approved",
    ]


@admin.register(Importer)
class ImporterAdmin(SimpleHistoryAdmin):
    list_display = ["legal_name", "bn9", "status", "province", "assigned_agent", "client_group"]
    list_filter = ["status", "province", "client_group"]
    search_fields = ["legal_name", "operating_name", "bn9", "program_accounts__bn15"]
    list_select_related = ["assigned_agent", "client_group"]
    autocomplete_fields = ["assigned_agent"]
    inlines = [ProgramAccountInline, PortalUserInline]


@admin.register(ProgramAccount)
class ProgramAccountAdmin(SimpleHistoryAdmin):
    list_display = ["bn15", "importer", "name", "status"]
    list_filter = ["status"]
    search_fields = ["bn15", "importer__legal_name"]
    list_select_related = ["importer"]
    raw_id_fields = ["importer"]


@admin.register(PortalUser)
class PortalUserAdmin(SimpleHistoryAdmin):
    list_display = [
        "full_name",
        "email",
        "importer",
        "ccp_role",
        "profile_created",
        "access_approved",
    ]
    list_filter = ["ccp_role", "sign_in_method", "profile_created", "access_approved"]
    search_fields = ["full_name", "email", "importer__legal_name"]
    list_select_related = ["importer"]
    raw_id_fields = ["importer", "program_account", "user"]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    """Read and remove only. A membership comes from an accepted invitation, where a new BAM is
    confirmed by the importer's BAM or contact: here an admin could make any address (their own
    included) a BAM, who sees full bank account numbers."""

    list_display = ["user", "importer", "role"]
    list_filter = ["role"]
    search_fields = ["user__email", "importer__legal_name"]
    raw_id_fields = ["user", "importer"]
    readonly_fields = ["user", "importer", "role"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(OnboardingStep)
class OnboardingStepAdmin(SimpleHistoryAdmin):
    list_display = ["importer", "step", "status", "derived", "manual_status", "updated_at"]
    list_filter = ["step", "status", "derived"]
    search_fields = ["importer__legal_name"]
    raw_id_fields = ["importer", "confirmed_by"]


@admin.register(ClientGroup)
class ClientGroupAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["agents"]
