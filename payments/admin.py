"""Django admin for the payments app. Bank account numbers are never shown or editable here:
only the importer's BAM reads them, on the portal's own page."""

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from payments.models import (
    BankAccount,
    BankAccountReveal,
    FinancialSecurity,
    InterestRate,
    Payment,
    PaymentAlert,
    PaymentAllocation,
    SecurityForecast,
    SecurityReview,
    StatementBalance,
)


class AllocationInline(admin.TabularInline):
    model = PaymentAllocation
    extra = 0
    raw_id_fields = ["statement", "allocated_by"]
    readonly_fields = ["created_at"]


@admin.register(Payment)
class PaymentAdmin(SimpleHistoryAdmin):
    list_display = ["program_account", "amount", "method", "paid_on", "status", "source"]
    list_filter = ["status", "method", "source"]
    search_fields = ["program_account__bn15", "importer__legal_name", "reference"]
    list_select_related = ["program_account"]
    raw_id_fields = ["importer", "program_account", "statement_line", "bank_account", "recorded_by"]
    date_hierarchy = "paid_on"
    inlines = [AllocationInline]


@admin.register(FinancialSecurity)
class FinancialSecurityAdmin(SimpleHistoryAdmin):
    list_display = ["program_account", "kind", "amount", "status", "effective_date", "expiry_date"]
    list_filter = ["kind", "status"]
    search_fields = ["program_account__bn15", "bond_number", "surety_company"]
    list_select_related = ["program_account"]
    raw_id_fields = ["program_account", "recorded_by"]


@admin.register(SecurityReview)
class SecurityReviewAdmin(SimpleHistoryAdmin):
    """CBSA's figure is entered on the account's review page (it re-checks the security); here
    for finding and auditing rows."""

    list_display = [
        "program_account",
        "review_date",
        "required_bond",
        "required_cash",
        "top_up_by",
        "source",
        "cbsa_reference",
    ]
    list_filter = ["source", "review_date"]
    search_fields = [
        "program_account__bn15",
        "program_account__importer__legal_name",
        "cbsa_reference",
    ]
    list_select_related = ["program_account"]
    raw_id_fields = ["program_account", "recorded_by"]


@admin.register(SecurityForecast)
class SecurityForecastAdmin(admin.ModelAdmin):
    """The forecast snapshot: rewritten by the daily security check, so read-only here."""

    list_display = [
        "program_account",
        "review_on",
        "required_bond",
        "posted",
        "shortfall",
        "computed_at",
    ]
    list_filter = ["short"]
    search_fields = ["program_account__bn15"]
    list_select_related = ["program_account"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(InterestRate)
class InterestRateAdmin(SimpleHistoryAdmin):
    list_display = ["effective_from", "annual_rate", "note"]
    raw_id_fields = ["entered_by"]


@admin.register(BankAccount)
class BankAccountAdmin(SimpleHistoryAdmin):
    list_display = [
        "importer",
        "label",
        "institution_number",
        "transit_number",
        "masked_number",
        "status",
    ]
    list_filter = ["status"]
    search_fields = ["importer__legal_name", "holder_name"]
    raw_id_fields = ["importer", "created_by"]
    exclude = ["account_number_encrypted"]
    readonly_fields = ["account_last_digits"]

    def has_add_permission(self, request) -> bool:
        return False  # the number is entered, encrypted, by the importer's BAM on the portal


@admin.register(BankAccountReveal)
class BankAccountRevealAdmin(admin.ModelAdmin):
    """The reveal audit, read only: nobody adds, edits or deletes a row here."""

    list_display = ["revealed_at", "bank_account", "user_email", "channel", "ip"]
    list_filter = ["channel"]
    search_fields = ["user_email", "bank_account__importer__legal_name"]
    list_select_related = ["bank_account"]
    date_hierarchy = "revealed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaymentAlert)
class PaymentAlertAdmin(SimpleHistoryAdmin):
    list_display = ["importer", "kind", "severity", "raised_on", "resolved_at", "notified_at"]
    list_filter = ["severity", "kind", "resolved_at"]
    search_fields = ["importer__legal_name", "message"]
    list_select_related = ["importer"]
    raw_id_fields = ["importer", "program_account", "statement", "payment", "security"]


@admin.register(StatementBalance)
class StatementBalanceAdmin(admin.ModelAdmin):
    list_display = ["statement", "billed", "paid", "in_transit", "outstanding", "computed_at"]
    raw_id_fields = ["statement"]
