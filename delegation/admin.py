from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from delegation.models import (
    AlertDelivery,
    AlertDigest,
    Delegation,
    DelegationAlert,
    RenewalRequest,
)


@admin.register(Delegation)
class DelegationAdmin(SimpleHistoryAdmin):
    list_display = [
        "importer",
        "relationship",
        "authority",
        "status",
        "expiry_date",
        "requested_on",
    ]
    list_filter = ["status", "relationship", "authority"]
    search_fields = ["importer__legal_name", "importer__bn9"]
    list_select_related = ["importer"]
    raw_id_fields = ["importer", "recorded_by"]
    filter_horizontal = ["program_accounts"]
    date_hierarchy = "expiry_date"


@admin.register(DelegationAlert)
class DelegationAlertAdmin(SimpleHistoryAdmin):
    list_display = ["importer", "kind", "severity", "raised_on", "resolved_at"]
    list_filter = ["severity", "kind", "resolved_at"]
    search_fields = ["importer__legal_name", "message"]
    list_select_related = ["importer"]
    raw_id_fields = ["importer", "delegation"]


@admin.register(RenewalRequest)
class RenewalRequestAdmin(SimpleHistoryAdmin):
    list_display = ["delegation", "requested_expiry_date", "status", "requested_at", "confirmed_at"]
    list_filter = ["status"]
    raw_id_fields = ["delegation", "requested_by", "confirmed_by"]


@admin.register(AlertDigest)
class AlertDigestAdmin(admin.ModelAdmin):
    list_display = ["recipient", "digest_date", "claimed_at", "sent_at", "attempts"]
    list_filter = ["digest_date"]
    search_fields = ["recipient"]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ["alert", "recipient", "digest"]
    raw_id_fields = ["alert", "digest"]
    search_fields = ["recipient"]
