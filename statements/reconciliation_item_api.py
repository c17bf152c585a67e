"""REST API for the exceptions workflow: one reconciliation item, assigned, commented, resolved.

``/api/v1/reconciliation-items/`` lists the items of the *current* runs of statements the user may
see finances of (``VIEW_FINANCE``), and shows one item with its comments. The actions are the
item page's, through the same ``statements.workflow`` functions and their rules (current run only,
a note for explained and written off, the write-off limit), with ``MANAGE_STATEMENTS``:

* ``POST /{id}/assign/`` ``{"assignee": <user id> | null}``: a broker staff member, or nobody;
* ``POST /{id}/comments/`` ``{"text": "..."}``: a note in the finding's discussion (201);
* ``POST /{id}/resolve/`` ``{"resolution": "...", "note": "..."}``;
* ``POST /{id}/reopen/``.

A refusal by the workflow is a 400 on the field it names.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from carm_portal.api import (
    MAX_PK,
    NamedChoiceField,
    ScopedReadViewSet,
    StrictBooleanFilter,
    crud_schema,
    error_responses,
    id_filter,
    row_action_schema,
)
from clients import access
from clients.access import Perm
from statements import workflow
from statements.models import ReconciliationComment, ReconciliationItem
from statements.reconciliation_api import ReconciliationItemSerializer

Resolution = ReconciliationItem.Resolution


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.EmailField(
        source="author.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ReconciliationComment
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = fields


class ItemDetailSerializer(ReconciliationItemSerializer):
    statement = serializers.IntegerField(source="statement_id", read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True)
    importer = serializers.IntegerField(source="importer_id", read_only=True)
    workable = serializers.SerializerMethodField(
        help_text=_("True while the item can be worked: a finding of the statement's current run.")
    )
    comments = serializers.SerializerMethodField()

    class Meta(ReconciliationItemSerializer.Meta):
        fields = [
            *ReconciliationItemSerializer.Meta.fields,
            "statement",
            "run",
            "importer",
            "workable",
            "comments",
        ]
        read_only_fields = fields

    def get_workable(self, item: ReconciliationItem) -> bool:
        return item.status not in ReconciliationItem.MATCHED_CODES and item.run.is_current

    @extend_schema_field(CommentSerializer(many=True))
    def get_comments(self, item: ReconciliationItem) -> list[dict[str, Any]]:
        comments = ReconciliationComment.objects.filter(
            statement_id=item.statement_id, key=item.key
        ).select_related("author")
        return list(CommentSerializer(comments, many=True).data)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=access.broker_staff(),
        allow_null=True,
        pk_field=serializers.IntegerField(min_value=1, max_value=MAX_PK),
        help_text=_("A broker staff member's user id, or null to take the item back."),
        error_messages={"does_not_exist": _("No such broker staff member.")},
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        assignee = fields["assignee"]
        assert isinstance(assignee, serializers.PrimaryKeyRelatedField)
        assignee.queryset = access.broker_staff()  # evaluated per request: staff change
        return fields


class CommentRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=workflow.COMMENT_MAX_LENGTH)


class ResolveSerializer(serializers.Serializer):
    resolution = NamedChoiceField(
        enum_name="ReconciliationResolution",
        choices=[(v, label) for v, label in Resolution.choices if v != Resolution.OPEN],
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ItemFilter(django_filters.FilterSet):
    statement = id_filter("statement_id", _("Statement id"))
    importer = id_filter("importer_id", _("Importer id"))
    status = django_filters.ChoiceFilter(choices=ReconciliationItem.Code.choices)
    exceptions = StrictBooleanFilter(field_name="is_exception")
    assigned_to = id_filter("assigned_to_id", _("Assigned to (user id)"))

    class Meta:
        model = ReconciliationItem
        fields = ["statement", "importer", "status", "exceptions", "assigned_to"]


def _as_validation_error(exc: workflow.WorkflowError) -> ValidationError:
    return ValidationError({exc.field or api_settings.NON_FIELD_ERRORS_KEY: [exc.message]})


@crud_schema(
    ItemDetailSerializer,
    tag="reconciliation",
    one="a reconciliation item",
    many="reconciliation items",
    list_description="The items of each statement's current run, by statement and position.",
    list=extend_schema(
        summary="List reconciliation items",
        description="The items of each statement's current run, by statement and position.",
        responses={
            200: ReconciliationItemSerializer(many=True),
            **error_responses(400, 401, 403),
        },
    ),
    assign=row_action_schema(
        "Assign a reconciliation item", request=AssignSerializer, answer=ItemDetailSerializer
    ),
    resolve=row_action_schema(
        "Resolve a reconciliation item",
        description=(
            "Explained and written off need a note; a write-off above the limit is refused (400)."
        ),
        request=ResolveSerializer,
        answer=ItemDetailSerializer,
    ),
    reopen=row_action_schema(
        "Reopen a reconciliation item", request=None, answer=ItemDetailSerializer
    ),
    comments=extend_schema(
        summary="Comment on a reconciliation item",
        request=CommentRequestSerializer,
        responses={201: CommentSerializer, **error_responses(400, 401, 403, 404)},
    ),
)
class ReconciliationItemViewSet(ScopedReadViewSet):
    """Findings of the current reconciliation of each statement, and the work on them."""

    queryset = (
        ReconciliationItem.objects.filter(run__is_current=True)
        .select_related("assigned_to", "run")
        .order_by("statement_id", "position", "pk")
    )
    serializer_class = ItemDetailSerializer
    filterset_class = ItemFilter
    importer_field = "importer"
    read_perm = Perm.VIEW_FINANCE
    action_perms = {
        "assign": Perm.MANAGE_STATEMENTS,
        "comments": Perm.MANAGE_STATEMENTS,
        "resolve": Perm.MANAGE_STATEMENTS,
        "reopen": Perm.MANAGE_STATEMENTS,
    }

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return ReconciliationItemSerializer
        return {
            "assign": AssignSerializer,
            "comments": CommentRequestSerializer,
            "resolve": ResolveSerializer,
        }.get(self.action or "", ItemDetailSerializer)

    def _answer(self, item: ReconciliationItem) -> Response:
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(ItemDetailSerializer(fresh, context=self.get_serializer_context()).data)

    def _body(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        data = self._body(AssignSerializer)
        try:
            workflow.assign(item, user=request.user, assignee=data["assignee"])  # type: ignore[arg-type]
        except workflow.WorkflowError as exc:
            raise _as_validation_error(exc) from None
        return self._answer(item)

    @action(detail=True, methods=["post"])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        data = self._body(CommentRequestSerializer)
        try:
            note = workflow.comment(item, user=request.user, text=data["text"])  # type: ignore[arg-type]
        except workflow.WorkflowError as exc:
            raise _as_validation_error(exc) from None
        return Response(CommentSerializer(note).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        data = self._body(ResolveSerializer)
        try:
            workflow.resolve(
                item,
                user=request.user,  # type: ignore[arg-type]
                resolution=data["resolution"],
                note=data.get("note", ""),
            )
        except workflow.WorkflowError as exc:
            raise _as_validation_error(exc) from None
        return self._answer(item)

    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        try:
            workflow.reopen(item, user=request.user)  # type: ignore[arg-type]
        except workflow.WorkflowError as exc:
            raise _as_validation_error(exc) from None
        return self._answer(item)
