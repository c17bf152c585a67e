"""REST API for reconciliation runs and their items.

``/api/v1/reconciliation-runs/`` lists and shows runs (with their figures and balance check) and
``/{id}/items/`` their items, scoped by ``clients.access`` like the pages: rows of importers on
which the user holds ``VIEW_FINANCE``; a run of an invisible importer is a 404, of a visible one
without finance a 403. ``POST /api/v1/reconciliation-runs/`` with ``{"statement": id}`` queues a
run (``MANAGE_STATEMENTS``), exactly as the statement page's button does: 202 with the run to poll;
a run already queued or under way for the statement is answered instead of a second one.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from carm_portal.api import (
    NamedChoiceField,
    ScopedCreateViewSet,
    StrictBooleanFilter,
    VisibleRowField,
    crud_schema,
    error_responses,
    id_filter,
)
from clients.access import Perm
from statements import balance as balances
from statements import reports
from statements.api import BalanceCheckField
from statements.models import ReconciliationItem, ReconciliationRun, Statement
from statements.reconciliation.runs import start_reconciliation
from statements.reconciliation.selectors import live_run

IMPORTER_FIELD = "statement__program_account__importer"


class ReconciliationRunSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        enum_name="ReconciliationRunStatus",
        choices=ReconciliationRun.Status.choices,
        read_only=True,
    )
    trigger = NamedChoiceField(
        enum_name="ReconciliationTrigger", choices=ReconciliationRun.Trigger.choices, read_only=True
    )
    run_by = serializers.EmailField(
        source="run_by.email", read_only=True, default=None, allow_null=True
    )
    summary = serializers.JSONField(
        read_only=True, help_text=_('Counts and totals by status: {"matched": {"count": 3, ...}}.')
    )
    balance_check = BalanceCheckField(
        holder="statement",
        help_text=_(
            "The stated closing balance against opening + lines, and the opening balance against "
            "the previous statement's closing balance; each difference counts as an exception."
        ),
    )

    class Meta:
        model = ReconciliationRun
        fields = [
            "id",
            "statement",
            "status",
            "trigger",
            "is_current",
            "tolerance",
            "run_by",
            "phase",
            "percent",
            "summary",
            "item_count",
            "exception_count",
            "line_total",
            "computed_closing",
            "balance_difference",
            "balance_ok",
            "balance_check",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class VisibleStatementField(VisibleRowField):
    """A statement among those the user may see (else 400 "No such statement."); with ``perm``,
    one of an importer on which the user lacks it is a 403."""

    model = Statement
    importer_field = "program_account__importer"
    default_error_messages = {"does_not_exist": _("No such statement.")}

    def visible(self, user: Any) -> QuerySet[Statement]:
        return super().visible(user).select_related("program_account")


class StartRunSerializer(serializers.Serializer):
    """The statement to reconcile, among those the user may see."""

    statement = VisibleStatementField(perm=Perm.MANAGE_STATEMENTS)


class ReconciliationItemSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        enum_name="ReconciliationStatus",
        choices=ReconciliationItem.Code.choices,
        read_only=True,
    )
    resolution = NamedChoiceField(
        enum_name="ReconciliationResolution",
        choices=ReconciliationItem.Resolution.choices,
        read_only=True,
        allow_blank=True,
    )
    assigned_to = serializers.EmailField(
        source="assigned_to.email", read_only=True, default=None, allow_null=True
    )
    components_differing = serializers.JSONField(
        read_only=True,
        help_text=_('{component: {"statement": "1.00", "entry": "0.99", "difference": "0.01"}}'),
    )

    class Meta:
        model = ReconciliationItem
        fields = [
            "id",
            "position",
            "status",
            "is_exception",
            "flagged",
            "key",
            "transaction_number",
            "line_type",
            "statement_line",
            "entry",
            "entry_version",
            "statement_amount",
            "entry_amount",
            "difference",
            "components_differing",
            "resolution",
            "note",
            "assigned_to",
            "resolved_at",
            "first_seen_at",
            "reopened",
        ]
        read_only_fields = fields


class ItemQuerySerializer(serializers.Serializer):
    """The query parameters of ``/{id}/items/``: each narrows the run's items."""

    status = NamedChoiceField(
        enum_name="ReconciliationStatus",
        choices=ReconciliationItem.Code.choices,
        required=False,
        error_messages={"invalid_choice": _("Not a status code.")},
        help_text=_("Items of this status only."),
    )
    exceptions = serializers.BooleanField(
        required=False, help_text=_("true: exceptions only; false: the other items.")
    )
    open = serializers.BooleanField(
        required=False,
        help_text=_("true: exceptions nobody has resolved yet; false: the resolved ones."),
    )

    def narrow(self, items: QuerySet[ReconciliationItem]) -> QuerySet[ReconciliationItem]:
        query = self.validated_data
        if "status" in query:
            items = items.filter(status=query["status"])
        if "exceptions" in query:
            items = items.filter(is_exception=query["exceptions"])
        if "open" in query:
            items = items.filter(is_exception=True)
            items = items.filter(resolution="") if query["open"] else items.exclude(resolution="")
        return items


class ReconciliationRunFilter(django_filters.FilterSet):
    statement = id_filter("statement_id", _("Statement id"))
    importer = id_filter("statement__program_account__importer_id", _("Importer id"))
    status = django_filters.ChoiceFilter(choices=ReconciliationRun.Status.choices)
    is_current = StrictBooleanFilter()

    class Meta:
        model = ReconciliationRun
        fields = ["statement", "importer", "status", "is_current"]


@crud_schema(
    ReconciliationRunSerializer,
    tag="reconciliation",
    one="a reconciliation run",
    many="reconciliation runs",
    list_description=(
        "Runs of the statements of importers on which you may see finances, newest first. "
        "``is_current=true`` gives each statement's current result."
    ),
    retrieve_description="Its progress while it runs; its figures and balance check once done.",
    create=extend_schema(
        summary="Reconcile a statement",
        description=(
            "Queues a run for a worker (202); poll the run. If a run of the statement is already "
            "queued or running, that run is answered (200)."
        ),
        request=StartRunSerializer,
        responses={
            202: ReconciliationRunSerializer,
            200: ReconciliationRunSerializer,
            **error_responses(400, 401, 403),
        },
    ),
    items=extend_schema(
        summary="List the items of a run",
        description=(
            "In report order (grouped by status as docs/formats.md lists them). Query "
            "``status=<code>``, ``exceptions=true`` or ``open=true`` to narrow."
        ),
        parameters=[ItemQuerySerializer],
        responses={
            200: ReconciliationItemSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
    ),
)
class ReconciliationRunViewSet(ScopedCreateViewSet):
    """Comparisons of a statement of account with the broker's entries: each run's figures,
    balance check and items. Starting one needs the right to manage the importer's statements."""

    queryset = balances.with_previous_closing(  # the balance check without a query per row
        ReconciliationRun.objects.select_related("run_by", "statement__program_account"),
        outer="statement__",
    ).order_by("-created_at", "-pk")
    serializer_class = ReconciliationRunSerializer
    filterset_class = ReconciliationRunFilter
    importer_field = IMPORTER_FIELD
    read_perm = Perm.VIEW_FINANCE

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "create":
            return StartRunSerializer
        if self.action == "items":
            return ReconciliationItemSerializer
        return ReconciliationRunSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # VisibleStatementField: 400, 403
        statement = serializer.validated_data["statement"]
        existing = live_run(statement)
        assert request.user.is_authenticated  # ScopedCreateViewSet: IsAuthenticated comes first
        run = existing or start_reconciliation(
            statement=statement, run_by=request.user, trigger=ReconciliationRun.Trigger.API
        )
        return Response(
            ReconciliationRunSerializer(run, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK if existing else status.HTTP_202_ACCEPTED,
        )

    # filter_backends=[]: the run filters are not the items' (ItemQuerySerializer reads those).
    @action(detail=True, methods=["get"], filter_backends=[])
    def items(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        query = ItemQuerySerializer(data=request.query_params.dict())  # a dict: absent is not false
        query.is_valid(raise_exception=True)
        items = query.narrow(
            ReconciliationItem.objects.filter(run=run).select_related("assigned_to")
        )
        items = items.annotate(status_rank=reports.status_order()).order_by(
            "status_rank", "position"
        )
        page = self.paginate_queryset(items)
        return self.get_paginated_response(ReconciliationItemSerializer(page, many=True).data)
