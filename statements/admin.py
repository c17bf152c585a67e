from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from statements.models import BrokerEntry, ImportBatch, Statement, StatementLine


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "file_name", "status", "row_count", "error_count", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["file_name", "sha256"]
    raw_id_fields = ["uploaded_by"]
    readonly_fields = ["sha256", "size", "errors", "unknown_accounts", "warnings", "message"]
    date_hierarchy = "created_at"


@admin.register(Statement)
class StatementAdmin(SimpleHistoryAdmin):
    list_display = [
        "program_account",
        "statement_date",
        "due_date",
        "opening_balance",
        "closing_balance",
        "line_count",
        "status",
    ]
    list_filter = ["status", "statement_date"]
    search_fields = ["program_account__bn15", "program_account__importer__legal_name"]
    list_select_related = ["program_account"]
    raw_id_fields = ["program_account", "source_batch"]
    date_hierarchy = "statement_date"


@admin.register(StatementLine)
class StatementLineAdmin(admin.ModelAdmin):
    list_display = ["statement", "position", "line_type", "transaction_number", "amount"]
    list_filter = ["line_type"]
    search_fields = ["transaction_number", "reference"]
    list_select_related = ["statement", "statement__program_account"]
    raw_id_fields = ["statement"]
    show_full_result_count = False


@admin.register(BrokerEntry)
class BrokerEntryAdmin(admin.ModelAdmin):
    list_display = [
        "program_account",
        "transaction_number",
        "version",
        "accounted_on",
        "amount",
        "source_batch",
    ]
    search_fields = ["transaction_number", "client_reference", "program_account__bn15"]
    list_select_related = ["program_account"]
    raw_id_fields = ["program_account", "source_batch"]
    show_full_result_count = False
