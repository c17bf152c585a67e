"""REST API for delegations and their alerts, scoped by ``clients.access`` like the pages.

``/api/v1/delegations/``: list, retrieve, create and update (no delete: a delegation ends by its
status, and its history is kept). Everyone who sees the importer reads its delegations; recording
one needs ``Perm.MANAGE_DELEGATION`` (broker admins and agents). The rules are the form's, from
``delegation.validation``, and a write goes through ``delegation.records.record_delegation``, so
the importer's alerts are re-checked in the same transaction, exactly as after the page's form.

``/api/v1/delegation-alerts/``: the alerts the daily check raised, read only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import F, QuerySet, prefetch_related_objects
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carm_portal.api import (
    MAX_PK,
    ColumnReadMixin,
    FieldTemplatesMixin,
    ListFilterBackend,
    NamedChoiceField,
    PrefetchedRows,
    PrefetchedRowsMixin,
    ScopedCrudViewSet,
    ScopedReadViewSet,
    VisibleImporterField,
    crud_schema,
    id_filter,
    open_alerts_filter,
    value_after_write,
)
from carm_portal.calendar import cbsa_today
from carm_portal.pagination import ShortFirstPagePagination
from carm_portal.severity import severity_order
from clients import access
from clients.access import Perm
from clients.models import ProgramAccount
from delegation.models import Delegation, DelegationAlert
from delegation.records import record_delegation
from delegation.rules import KIND_LABELS, Kind, kind_family, kind_label
from delegation.selectors import family_match, filter_delegations, open_alerts_prefetch
from delegation.validation import validate_delegation

MAX_ACCOUNTS = 500  # far more than any importer has; bounds the work one request can ask for


# The accounts a delegation covers, ordered by BN15: prefetched by the list, read the same way
# for a write's answer.
DELEGATION_ACCOUNTS = PrefetchedRows("program_accounts", ProgramAccount.objects.order_by("bn15"))


def alert_severity(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        enum_name="AlertSeverity", choices=DelegationAlert.Severity.choices, **kwargs
    )


# --- Serializers ------------------------------------------------------------------------------


class AlertSerializer(FieldTemplatesMixin, ColumnReadMixin, serializers.ModelSerializer):
    family = serializers.SerializerMethodField(
        help_text=_("The kind without its threshold: expires_within_14 is expires_within.")
    )
    label = serializers.SerializerMethodField()  # type: ignore[assignment]  # a declared field: the metaclass moves it out of the class
    severity = alert_severity(read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = DelegationAlert
        fields = [
            "id",
            "importer",
            "delegation",
            "kind",
            "family",
            "label",
            "severity",
            "message",
            "expiry_date",
            "raised_on",
            "raised_at",
            "is_open",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields

    def get_family(self, alert: DelegationAlert) -> str:
        return kind_family(alert.kind)

    def get_label(self, alert: DelegationAlert) -> str:
        return kind_label(alert.kind)


class OpenAlertSerializer(AlertSerializer):
    """An open alert as listed inside its delegation."""

    class Meta(AlertSerializer.Meta):
        fields = ["id", "kind", "family", "label", "severity", "message", "raised_on"]
        read_only_fields = fields


class ProgramAccountIdsField(PrefetchedRowsMixin, serializers.ListField):
    """The ids of the program accounts covered: read as stored, written as a list of ids.

    All ids are fetched in one query among the accounts the user may see; an unknown or invisible
    id is "No such program account", and ``validate_delegation`` refuses an account of another
    importer.
    """

    default_error_messages = {
        "does_not_exist": _("No such program account: %(ids)s."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.IntegerField(min_value=1, max_value=MAX_PK))
        kwargs.setdefault("max_length", MAX_ACCOUNTS)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[ProgramAccount]:
        ids = list(dict.fromkeys(super().to_internal_value(data)))
        if not ids:
            return []
        visible = access.scope(ProgramAccount.objects.all(), self.context["request"].user)
        found = visible.in_bulk(ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(
                self.error_messages["does_not_exist"] % {"ids": ", ".join(map(str, missing))}
            )
        return [found[pk] for pk in ids]

    def to_representation(self, data: Any) -> list[int]:
        return [account.pk for account in data]


class DelegationSerializer(FieldTemplatesMixin, ColumnReadMixin, serializers.ModelSerializer):
    importer = VisibleImporterField(perm=Perm.MANAGE_DELEGATION)
    importer_name = serializers.CharField(source="importer.legal_name", read_only=True)
    relationship = NamedChoiceField(
        enum_name="DelegationRelationship",
        choices=Delegation.Relationship.choices,
        required=False,
        help_text=_("BMR covers every program account, PMR only those listed. Defaults to BMR."),
    )
    authority = NamedChoiceField(
        enum_name="DelegationAuthority",
        choices=Delegation.Authority.choices,
        required=False,
        help_text=_("Defaults to pBAM."),
    )
    status = NamedChoiceField(
        enum_name="DelegationStatus",
        choices=Delegation.Status.choices,
        required=False,
        help_text=_("Defaults to requested."),
    )
    program_accounts = ProgramAccountIdsField(
        rows=DELEGATION_ACCOUNTS,
        required=False,
        help_text=_(
            "For a PMR, the ids of the importer's program accounts it covers (at least one). "
            "A BMR covers every account: any ids sent with it are dropped."
        ),
    )
    program_account_bn15s = serializers.SerializerMethodField(
        help_text=_("The BN15 of each program account covered (empty for a BMR: it covers all).")
    )
    days_left = serializers.SerializerMethodField(
        help_text=_("Days until the expiry date, 0 on the day itself; null for a blank date.")
    )
    open_alerts = OpenAlertSerializer(many=True, read_only=True)
    recorded_by = serializers.EmailField(
        source="recorded_by.email", read_only=True, allow_null=True
    )

    class Meta:
        model = Delegation
        fields = [
            "id",
            "importer",
            "importer_name",
            "relationship",
            "authority",
            "status",
            "program_accounts",
            "program_account_bn15s",
            "requested_on",
            "approved_on",
            "expiry_date",
            "blank_expiry_confirmed",
            "revoked_on",
            "days_left",
            "notes",
            "open_alerts",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "blank_expiry_confirmed": {
                "help_text": _(
                    "Send true only if the importer really left the expiry date blank in the CCP; "
                    "the delegation is then flagged. Ignored (stored false) with an expiry date."
                )
            }
        }

    @property
    def today(self) -> dt.date:
        return self.context.get("today") or cbsa_today()

    def get_program_account_bn15s(self, delegation: Delegation) -> list[str]:
        return [account.bn15 for account in DELEGATION_ACCOUNTS.rows(delegation)]

    def get_days_left(self, delegation: Delegation) -> int | None:
        return delegation.days_left(self.today)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Delegation | None = self.instance
        importer = value_after_write(self, attrs, "importer")
        if instance is not None and importer.pk != instance.importer_id:
            raise serializers.ValidationError(
                {"importer": [_("A delegation cannot move to another importer.")]}
            )
        if "program_accounts" in attrs:
            accounts = attrs["program_accounts"]
        else:
            accounts = list(DELEGATION_ACCOUNTS.rows(instance)) if instance is not None else []
        changed = (
            set(attrs)
            if instance is None
            else {
                name
                for name, value in attrs.items()
                if name != "program_accounts" and value != getattr(instance, name)
            }
        )
        values = validate_delegation(
            importer=importer,
            relationship=value_after_write(self, attrs, "relationship"),
            authority=value_after_write(self, attrs, "authority"),
            status=value_after_write(self, attrs, "status"),
            program_accounts=accounts,
            requested_on=value_after_write(self, attrs, "requested_on"),
            approved_on=value_after_write(self, attrs, "approved_on"),
            expiry_date=value_after_write(self, attrs, "expiry_date"),
            blank_expiry_confirmed=value_after_write(self, attrs, "blank_expiry_confirmed"),
            revoked_on=value_after_write(self, attrs, "revoked_on"),
            is_new=instance is None,
            changed=changed,
            today=self.today,
        )  # a Django ValidationError here is a 400 with its field errors (DRF converts it)
        if "program_accounts" in attrs or list(values.program_accounts) != accounts:
            attrs["program_accounts"] = list(values.program_accounts)
        attrs["blank_expiry_confirmed"] = values.blank_expiry_confirmed
        return attrs

    def _saved(self, delegation: Delegation, accounts: list[ProgramAccount] | None) -> Delegation:
        record_delegation(
            delegation=delegation,
            program_accounts=accounts,
            by=self.context["request"].user,
            today=self.today,
        )
        # The answer shows the delegation as saved and re-checked: fresh accounts and alerts.
        delegation.__dict__.pop("open_alerts", None)
        delegation.__dict__.pop(DELEGATION_ACCOUNTS.attr, None)
        prefetch_related_objects(
            [delegation], DELEGATION_ACCOUNTS.prefetch(), open_alerts_prefetch()
        )
        return delegation

    def create(self, validated_data: dict[str, Any]) -> Delegation:
        accounts = validated_data.pop("program_accounts", [])
        return self._saved(Delegation(**validated_data), accounts)

    def update(self, instance: Delegation, validated_data: dict[str, Any]) -> Delegation:
        accounts = validated_data.pop("program_accounts", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self._saved(instance, accounts)


# --- Filters ----------------------------------------------------------------------------------


DELEGATION_FINDINGS = [(k.value, KIND_LABELS[k]) for k in Kind if k != Kind.NO_DELEGATION]
ALERT_FAMILIES = [(k.value, KIND_LABELS[k]) for k in Kind]


class DelegationFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))
    status = django_filters.ChoiceFilter(choices=Delegation.Status.choices)
    expiring_within = extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(
            method="filter_expiring_within",
            label=_("Expiring within N days (from today to today + N, inclusive)"),
            min_value=0,
            max_value=3650,
            decimal_places=0,
        )
    )
    finding = django_filters.ChoiceFilter(
        method="filter_finding",
        choices=DELEGATION_FINDINGS,
        label=_("With an open alert of this kind (expires_within: any of 30, 14, 7 days)"),
    )

    class Meta:
        model = Delegation
        fields = ["importer", "status", "expiring_within", "finding"]

    def filter_expiring_within(
        self, queryset: QuerySet[Delegation], name: str, value: Any
    ) -> QuerySet[Delegation]:
        return filter_delegations(queryset, today=cbsa_today(), expiring_within_days=int(value))

    def filter_finding(
        self, queryset: QuerySet[Delegation], name: str, value: str
    ) -> QuerySet[Delegation]:
        return filter_delegations(queryset, today=cbsa_today(), finding=value)


class AlertFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))
    delegation = id_filter("delegation_id", _("Delegation id"))
    severity = django_filters.ChoiceFilter(choices=DelegationAlert.Severity.choices)
    kind = django_filters.ChoiceFilter(
        method="filter_kind",
        choices=ALERT_FAMILIES,
        label=_("Kind family (expires_within: any of 30, 14, 7 days)"),
    )
    open = open_alerts_filter()

    class Meta:
        model = DelegationAlert
        fields = ["importer", "delegation", "severity", "kind", "open"]

    def filter_kind(
        self, queryset: QuerySet[DelegationAlert], name: str, value: str
    ) -> QuerySet[DelegationAlert]:
        return queryset.filter(family_match(value))


# --- Viewsets ---------------------------------------------------------------------------------


@crud_schema(
    DelegationSerializer,
    tag="delegations",
    one="a delegation",
    many="delegations",
    list_description=(
        "Delegations of the importers you may see, blank expiry dates first, then soonest "
        "to expire; each with its covered accounts, days left and open alerts."
    ),
    create_verb="Record",
    create_description=(
        "What the importer's BAM approved in the CCP. Needs the right to manage the "
        "importer's delegations (broker admins and agents). The importer's alerts are "
        "re-checked at once."
    ),
    update_description="Needs the right to manage the importer's delegations.",
)
class DelegationViewSet(ScopedCrudViewSet):
    """The broker's third-party access to each importer, as recorded from the CCP."""

    queryset = (
        Delegation.objects.select_related("importer", "recorded_by")
        .prefetch_related(DELEGATION_ACCOUNTS.prefetch(), open_alerts_prefetch())
        .order_by(F("expiry_date").asc(nulls_first=True), "id")
    )
    serializer_class = DelegationSerializer
    filterset_class = DelegationFilter
    filter_backends = [ListFilterBackend]
    pagination_class = ShortFirstPagePagination
    importer_field = "importer"
    read_perm = Perm.VIEW
    write_perm = Perm.MANAGE_DELEGATION

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": cbsa_today()}


@crud_schema(
    AlertSerializer,
    tag="delegations",
    one="a delegation alert",
    many="delegation alerts",
    list_description=(
        "Alerts of the importers you may see, open ones first, most severe first. An alert "
        "is raised once per finding and resolved when its cause goes away."
    ),
)
class DelegationAlertViewSet(ScopedReadViewSet):
    """What the daily check found about the importers' delegations (read only)."""

    queryset = DelegationAlert.objects.order_by(
        F("resolved_at").desc(nulls_first=True), severity_order(), "-raised_on", "id"
    )
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    importer_field = "importer"
    read_perm = Perm.VIEW
