"""REST API for statements, their lines, broker entries and import batches.

``/api/v1/statements/`` (with ``/{id}/lines/``) and ``/api/v1/broker-entries/`` are read only and
scoped by ``clients.access`` like the pages: rows of importers on which the user holds
``VIEW_FINANCE``; a statement of an invisible importer is a 404, of a visible one without finance a
403. ``/api/v1/import-batches/`` lists the batches and takes uploads (multipart ``kind`` + ``file``),
for the broker's staff, exactly as the upload page does: small files are imported at once, large
ones queued for the ``heavy`` worker; the same file twice answers 200 with the earlier batch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from carm_portal.api import (
    AttributeReadMixin,
    ColumnReadMixin,
    FieldTemplatesMixin,
    ListFilterBackend,
    NamedChoiceField,
    ScopedReadViewSet,
    crud_schema,
    error_responses,
    id_filter,
)
from carm_portal.calendar import cbsa_today
from carm_portal.pagination import ShortFirstPagePagination
from clients.access import Perm
from clients.validators import compact_identifier
from statements import balance as balances
from statements import selectors
from statements.billing import cad_due_date
from statements.importing.batches import import_upload
from statements.importing.problems import AlreadyImported
from statements.models import COMPONENTS, BrokerEntry, ImportBatch, Statement, StatementLine
from statements.timeliness import FIRST_VERSION, is_accounted_late
from statements.views import can_import, visible_batches

IMPORTER_FIELD = "program_account__importer"


# --- Serializers ------------------------------------------------------------------------------


class BalanceFindingSerializer(FieldTemplatesMixin, AttributeReadMixin, serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            balances.CLOSING_DIFFERS,
            balances.NO_STATED_BALANCE,
            balances.OPENING_DIFFERS,
            balances.NO_PREVIOUS_STATEMENT,
        ],
        read_only=True,
    )
    message = serializers.CharField(read_only=True)
    is_exception = serializers.BooleanField(
        read_only=True, help_text=_("A difference a person must explain.")
    )
    stated = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )
    expected = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )
    difference = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )


class BalanceCheckSerializer(FieldTemplatesMixin, AttributeReadMixin, serializers.Serializer):
    """``statements/balance.py``: the stated closing balance against opening + lines, and the
    opening balance against the previous statement's closing balance (docs/formats.md)."""

    ok = serializers.BooleanField(read_only=True, help_text=_("Nothing differs."))
    exception_count = serializers.IntegerField(
        read_only=True, help_text=_("Differences to explain; they count as exceptions.")
    )
    opening = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    lines = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    computed_closing = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    stated_closing = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text=_("null: the file stated no closing balance."),
    )
    closing_difference = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text=_("Stated minus computed closing balance."),
    )
    previous_statement = serializers.IntegerField(
        source="previous_statement_id", read_only=True, allow_null=True
    )
    previous_statement_date = serializers.DateField(read_only=True, allow_null=True)
    previous_closing = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text=_("The previous statement's stated closing balance, else its computed one."),
    )
    opening_difference = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text=_("Opening balance minus the previous statement's closing balance."),
    )
    findings = BalanceFindingSerializer(many=True, read_only=True)


def balance_check_data(
    statement: Statement, holder: Any = None, serializer: BalanceCheckSerializer | None = None
) -> dict[str, Any]:
    """The check of ``statement``, from ``holder``'s ``with_previous_closing`` annotations when it
    has them (a list, without a query per row), else read. A list passes one ``serializer`` for
    all its rows: a new one per row copied its eleven fields each time (a fifth of the API's
    statement list)."""
    holder = statement if holder is None else holder
    if hasattr(holder, "previous_closing"):
        check = balances.figures(
            statement, holder.previous_id, holder.previous_date, holder.previous_closing
        )
    else:
        check = balances.check(statement)
    return (serializer or BalanceCheckSerializer()).to_representation(check)


@extend_schema_field(BalanceCheckSerializer)
class BalanceCheckField(serializers.Field):
    """``balance_check``: the statement's check (read only), through one
    ``BalanceCheckSerializer`` kept by the field (a list's child serializer, and so this field,
    serves every row)."""

    def __init__(self, holder: str | None = None, **kwargs: Any) -> None:
        self.holder = holder  # the attribute of the row that is the statement, None: the row
        super().__init__(source="*", read_only=True, **kwargs)

    @cached_property
    def check_serializer(self) -> BalanceCheckSerializer:
        return BalanceCheckSerializer()

    def to_representation(self, value: Any) -> dict[str, Any]:
        statement = value if self.holder is None else getattr(value, self.holder)
        return balance_check_data(statement, value, self.check_serializer)


class StatementSerializer(FieldTemplatesMixin, ColumnReadMixin, serializers.ModelSerializer):
    importer = serializers.IntegerField(source="program_account.importer_id", read_only=True)
    importer_name = serializers.CharField(
        source="program_account.importer.legal_name", read_only=True
    )
    program_account = serializers.CharField(source="program_account.bn15", read_only=True)
    status = NamedChoiceField(
        enum_name="StatementStatus", choices=Statement.Status.choices, read_only=True
    )
    balance_check = BalanceCheckField()

    class Meta:
        model = Statement
        fields = [
            "id",
            "importer",
            "importer_name",
            "program_account",
            "statement_date",
            "period_start",
            "period_end",
            "due_date",
            "opening_balance",
            "closing_balance",
            "stated_closing_balance",
            "line_count",
            "status",
            "source_batch",
            "balance_check",
        ]
        read_only_fields = fields


class StatementLineSerializer(serializers.ModelSerializer):
    line_type = NamedChoiceField(
        enum_name="StatementLineType", choices=StatementLine.LineType.choices, read_only=True
    )

    class Meta:
        model = StatementLine
        fields = [
            "id",
            "position",
            "line_type",
            "transaction_number",
            "posted_on",
            "reference",
            *COMPONENTS,
            "amount",
        ]
        read_only_fields = fields


class BrokerEntrySerializer(serializers.ModelSerializer):
    program_account = serializers.CharField(source="program_account.bn15", read_only=True)
    accounting_due_on = serializers.SerializerMethodField(
        help_text=_("5 business days after release (federal holidays excluded).")
    )
    accounted_late = serializers.SerializerMethodField(
        help_text=_("A first version accounted after its due date.")
    )

    def get_accounting_due_on(self, entry: BrokerEntry) -> dt.date:
        return cad_due_date(entry.release_date)

    def get_accounted_late(self, entry: BrokerEntry) -> bool:
        return entry.version == FIRST_VERSION and is_accounted_late(
            release_date=entry.release_date, accounted_on=entry.accounted_on
        )

    class Meta:
        model = BrokerEntry
        fields = [
            "id",
            "program_account",
            "transaction_number",
            "version",
            "release_date",
            "accounted_on",
            "accounting_due_on",
            "accounted_late",
            "client_reference",
            *COMPONENTS,
            "amount",
            "source_batch",
        ]
        read_only_fields = fields


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text=_("As a spreadsheet shows it."))
    column = serializers.CharField()
    value = serializers.CharField()
    reason = serializers.CharField()


class UnknownAccountSerializer(serializers.Serializer):
    bn15 = serializers.CharField()
    first_row = serializers.IntegerField()
    rows = serializers.IntegerField()


class ImportBatchSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(enum_name="ImportKind", choices=ImportBatch.Kind.choices)
    status = NamedChoiceField(
        enum_name="ImportStatus", choices=ImportBatch.Status.choices, read_only=True
    )
    file = serializers.FileField(write_only=True, help_text=_("The CSV file (UTF-8)."))
    errors = ImportErrorSerializer(many=True, read_only=True)  # type: ignore[assignment]  # a declared field: the metaclass moves it out of the class
    unknown_accounts = UnknownAccountSerializer(many=True, read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    percent = serializers.IntegerField(read_only=True)
    uploaded_by = serializers.EmailField(
        source="uploaded_by.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "kind",
            "file",
            "file_name",
            "sha256",
            "size",
            "status",
            "phase",
            "percent",
            "row_count",
            "statement_count",
            "line_count",
            "entry_count",
            "skipped_count",
            "account_count",
            "error_count",
            "errors",
            "unknown_accounts",
            "warnings",
            "message",
            "uploaded_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = [f for f in fields if f not in {"kind", "file"}]

    def validate_file(self, upload: Any) -> Any:
        if upload.size > settings.STATEMENTS_UPLOAD_MAX_BYTES:
            raise serializers.ValidationError(_("The file is over the upload limit."))
        return upload


# --- Filters ----------------------------------------------------------------------------------


class ProgramAccountRowFilter(django_filters.FilterSet):
    """The filters of rows held per program account: by importer id or by BN15 typed any way."""

    importer = id_filter("program_account__importer_id", _("Importer id"))
    program_account = django_filters.CharFilter(
        method="filter_bn15", label=_("Program account (BN15)")
    )

    def filter_bn15(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(program_account__bn15=compact_identifier(value))


class StatementFilter(ProgramAccountRowFilter):
    statement_date = django_filters.DateFilter(label=_("Statement date (YYYY-MM-DD)"))
    status = django_filters.ChoiceFilter(choices=Statement.Status.choices)
    due = django_filters.ChoiceFilter(
        method="filter_due",
        choices=[("due_soon", _("Due soon")), ("overdue", _("Overdue"))],
        label=_("Due soon or overdue"),
    )

    class Meta:
        model = Statement
        fields = ["importer", "program_account", "statement_date", "status", "due"]

    def filter_due(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.filter_statements(queryset, {"due": value}, today=cbsa_today())


class BrokerEntryFilter(ProgramAccountRowFilter):
    transaction_number = django_filters.CharFilter()
    accounted_from = django_filters.DateFilter(field_name="accounted_on", lookup_expr="gte")
    accounted_to = django_filters.DateFilter(field_name="accounted_on", lookup_expr="lte")

    class Meta:
        model = BrokerEntry
        fields = [
            "importer",
            "program_account",
            "transaction_number",
            "accounted_from",
            "accounted_to",
        ]


# --- Viewsets ---------------------------------------------------------------------------------


@crud_schema(
    StatementSerializer,
    tag="statements",
    one="a statement of account",
    many="statements of account",
    list_description="Statements of the importers on which you may see finances, newest first.",
    lines=extend_schema(
        summary="List the lines of a statement",
        description="In file order (``position`` is the row in the imported file).",
        responses={200: StatementLineSerializer(many=True), **error_responses(401, 403, 404)},
    ),
)
class StatementViewSet(ScopedReadViewSet):
    """Statements of account CBSA issued for each RM program account, imported from CARM, with
    their lines (read only)."""

    queryset = balances.with_previous_closing(  # the balance check without a query per row
        Statement.objects.select_related("program_account__importer")
    ).order_by("-statement_date", "program_account__bn15", "pk")
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    filter_backends = [ListFilterBackend]
    pagination_class = ShortFirstPagePagination
    importer_field = IMPORTER_FIELD
    read_perm = Perm.VIEW_FINANCE

    # filter_backends=[]: the statement filters neither apply to lines nor appear in their docs.
    @action(
        detail=True, methods=["get"], serializer_class=StatementLineSerializer, filter_backends=[]
    )
    def lines(self, request: Request, pk: str | None = None) -> Response:
        statement = self.get_object()
        lines = StatementLine.objects.filter(statement=statement).order_by("position")
        page = self.paginate_queryset(lines)
        return self.get_paginated_response(StatementLineSerializer(page, many=True).data)


@crud_schema(
    BrokerEntrySerializer,
    tag="broker entries",
    one="a broker entry",
    many="broker entries",
    list_description="The broker's CAD versions for importers on which you may see finances.",
)
class BrokerEntryViewSet(ScopedReadViewSet):
    """Each version of a CAD as the broker declared it: the broker's side of reconciliation,
    imported from its own files (read only)."""

    queryset = BrokerEntry.objects.select_related("program_account").order_by(
        "program_account__bn15", "transaction_number", "version"
    )
    serializer_class = BrokerEntrySerializer
    filterset_class = BrokerEntryFilter
    importer_field = IMPORTER_FIELD
    read_perm = Perm.VIEW_FINANCE


@crud_schema(
    ImportBatchSerializer,
    tag="imports",
    one="an import batch",
    many="import batches",
    list_description="Every file handed in, newest first (the broker's staff).",
    retrieve_description="Its status, progress, counts and, for a refused file, the errors.",
    create=extend_schema(
        summary="Import a file",
        description=(
            "Multipart ``kind`` (statement or entries) and ``file``. 201 with the batch (accepted "
            "or refused, or queued for a large file: poll it); 200 with the earlier batch when "
            "the same file was already imported."
        ),
        responses={
            201: ImportBatchSerializer,
            200: ImportBatchSerializer,
            **error_responses(400, 401, 403),
        },
    ),
)
class ImportBatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Statement and broker-entry files handed in for import, and what became of each (the
    broker's staff)."""

    serializer_class = ImportBatchSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    queryset = ImportBatch.objects.select_related("uploaded_by")

    def get_queryset(self) -> QuerySet[ImportBatch]:
        return visible_batches(self.request.user)

    def get_object(self) -> ImportBatch:
        try:
            batch = self.get_queryset().get(pk=self.kwargs["pk"])
        except (ImportBatch.DoesNotExist, ValueError, TypeError):
            raise NotFound(_("Not found.")) from None
        self._require_import()
        return batch

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_import()
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_import()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kind = serializer.validated_data["kind"]
        upload = serializer.validated_data["file"]
        assert request.user.is_authenticated  # permission_classes: IsAuthenticated
        try:
            batch, _queued = import_upload(kind=kind, upload=upload, user=request.user)
        except AlreadyImported as exc:
            data = self.get_serializer(exc.batch).data
            return Response(data, status=status.HTTP_200_OK)
        return Response(self.get_serializer(batch).data, status=status.HTTP_201_CREATED)

    def _require_import(self) -> None:
        if not can_import(self.request.user):
            raise PermissionDenied(_("Importing statements is for the broker's staff."))
