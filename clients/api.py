"""REST API for importers and their RM program accounts, scoped by ``clients.access``.

``/api/v1/importers/`` and ``/api/v1/program-accounts/``: list, retrieve, create and update; no
delete (an importer or account is closed by its status, and its history is kept). Identifiers are
normalised and checked with ``clients.validators`` exactly as the forms do.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from carm_portal.api import (
    ColumnReadMixin,
    FieldTemplatesMixin,
    ListFilterBackend,
    NamedChoiceField,
    NormalizedCharField,
    PrefetchedListSerializer,
    PrefetchedRows,
    RaceSafeUniqueSerializer,
    ScopedCrudViewSet,
    VisibleImporterField,
    crud_schema,
    id_filter,
    value_after_write,
)
from carm_portal.pagination import ShortFirstPagePagination
from clients.access import GlobalPerm, Perm
from clients.models import Importer, ProgramAccount, Province
from clients.search import importer_search
from clients.validation import MAILING_FIELDS, check_account_owner, check_importer
from clients.validators import (
    compact_identifier,
    normalize_bn9,
    normalize_bn15,
    normalize_phone,
)

BN9_TAKEN = _("An importer with this Business Number already exists.")
BN15_TAKEN = _("This program account is already recorded.")

# An importer's accounts as its answer lists them: the list prefetches them, a write's answer
# reads them the same way (ordered by BN15 in both).
IMPORTER_ACCOUNTS = PrefetchedRows("program_accounts", ProgramAccount.objects.order_by("bn15"))


# --- Serializers ------------------------------------------------------------------------------


def program_account_status(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        enum_name="ProgramAccountStatus",
        choices=ProgramAccount.Status.choices,
        label=_("Status"),
        **kwargs,
    )


class NestedProgramAccountSerializer(
    FieldTemplatesMixin, ColumnReadMixin, serializers.ModelSerializer
):
    """A program account as listed inside its importer (read only)."""

    status = program_account_status(read_only=True)

    class Meta:
        model = ProgramAccount
        fields = ["id", "bn15", "name", "status", "opened_on"]
        read_only_fields = fields


class ImporterSerializer(FieldTemplatesMixin, ColumnReadMixin, RaceSafeUniqueSerializer):
    unique_field = "bn9"
    unique_message = BN9_TAKEN

    # Read as null for an importer made from a prospect who did not know it yet (the onboarding
    # wizard asks for it); a write must give one (validate_bn9).
    bn9 = NormalizedCharField(
        normalizer=normalize_bn9,
        allow_null=True,
        label=_("Business number (BN9)"),
        help_text=_(
            "9 digits; spaces and dashes are removed. Null until the importer gives it (a "
            "prospect made a client); a write must give one."
        ),
        validators=[UniqueValidator(queryset=Importer.objects.all(), message=BN9_TAKEN)],
    )
    phone = NormalizedCharField(
        normalizer=normalize_phone,
        max_length=24,
        required=False,
        allow_blank=True,
        help_text=_("Stored as +1 AAA-EEE-NNNN (x123 for an extension)."),
    )
    status = NamedChoiceField(
        enum_name="ImporterStatus",
        choices=Importer.Status.choices,
        required=False,
        label=_("Status"),
        help_text=_("Defaults to onboarding."),
    )
    # Read as blank for an importer made from a prospect (the wizard asks for the address); a
    # write must name one (validate_province).
    province = NamedChoiceField(
        enum_name="Province",
        choices=Province.choices,
        allow_blank=True,
        label=_("Province or territory"),
    )
    mailing_province = NamedChoiceField(
        enum_name="Province",
        choices=Province.choices,
        required=False,
        allow_blank=True,
        label=_("Mailing province or territory"),
    )
    program_accounts = PrefetchedListSerializer(
        child=NestedProgramAccountSerializer(read_only=True),
        read_only=True,
        rows=IMPORTER_ACCOUNTS,
    )

    class Meta:
        model = Importer
        fields = [
            "id",
            "legal_name",
            "operating_name",
            "bn9",
            "status",
            "address_line1",
            "address_line2",
            "city",
            "province",
            "postal_code",
            "mailing_same_as_legal",
            "mailing_line1",
            "mailing_line2",
            "mailing_city",
            "mailing_province",
            "mailing_postal_code",
            "phone",
            "email",
            "assigned_agent",
            "client_group",
            "program_accounts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["assigned_agent", "client_group", "created_at", "updated_at"]

    def validate_bn9(self, value: str | None) -> str:
        if value is None:
            self.fields["bn9"].fail("null")
        return value

    def validate_province(self, value: str) -> str:
        if not value:
            self.fields["province"].fail("invalid_choice", input=value)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        names = ("bn9", "postal_code", "province", "mailing_same_as_legal", *MAILING_FIELDS)
        values = {name: value_after_write(self, attrs, name) for name in names}
        try:
            cleaned = check_importer(values, instance=self.instance, changed=set(attrs))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        # What the request set, normalised, plus the mailing address a tick clears.
        attrs.update(
            {
                name: cleaned[name]
                for name in names
                if name in attrs or (name in MAILING_FIELDS and cleaned["mailing_same_as_legal"])
            }
        )
        return attrs


class ProgramAccountSerializer(RaceSafeUniqueSerializer):
    unique_field = "bn15"
    unique_message = BN15_TAKEN

    importer = VisibleImporterField(perm=Perm.MANAGE_CLIENT)
    bn15 = NormalizedCharField(
        normalizer=normalize_bn15,
        label=_("Program account (BN15)"),
        help_text=_("BN9 + RM + 4 digits, e.g. 123456782RM0001; spaces and dashes are removed."),
        validators=[UniqueValidator(queryset=ProgramAccount.objects.all(), message=BN15_TAKEN)],
    )
    status = program_account_status(required=False)

    class Meta:
        model = ProgramAccount
        fields = ["id", "importer", "bn15", "name", "status", "opened_on", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        importer = value_after_write(self, attrs, "importer")
        try:
            check_account_owner(value_after_write(self, attrs, "bn15"), importer)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                {"bn15" if "bn15" in attrs else "importer": exc.messages}
            ) from None
        return attrs


# --- Filters ----------------------------------------------------------------------------------


class ImporterFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Importer.Status.choices)
    bn9 = django_filters.CharFilter(
        method="filter_bn9", label=_("Business Number (spaces and dashes ignored)")
    )
    q = django_filters.CharFilter(
        method="filter_q", label=_("Search: legal or operating name, BN9 or BN15")
    )

    class Meta:
        model = Importer
        fields = ["status", "bn9", "q"]

    def filter_bn9(self, queryset: QuerySet[Importer], name: str, value: str) -> QuerySet[Importer]:
        return queryset.filter(bn9=compact_identifier(value))

    def filter_q(self, queryset: QuerySet[Importer], name: str, value: str) -> QuerySet[Importer]:
        return queryset.filter(importer_search(value))


class ProgramAccountFilter(django_filters.FilterSet):
    # By id, not a ModelChoiceFilter: an invisible importer must look exactly like an unknown one
    # (an empty page), not a "select a valid choice" error for one and not the other.
    importer = id_filter("importer_id", _("Importer id"))
    status = django_filters.ChoiceFilter(choices=ProgramAccount.Status.choices)
    bn15 = django_filters.CharFilter(method="filter_bn15", label=_("Program account (BN15)"))

    class Meta:
        model = ProgramAccount
        fields = ["importer", "status", "bn15"]

    def filter_bn15(
        self, queryset: QuerySet[ProgramAccount], name: str, value: str
    ) -> QuerySet[ProgramAccount]:
        return queryset.filter(bn15=compact_identifier(value))


# --- Viewsets ---------------------------------------------------------------------------------


@crud_schema(
    ImporterSerializer,
    tag="importers",
    one="an importer",
    many="importers",
    list_description="Broker staff see every importer; an importer's people only their own.",
    create_verb="Create",
    create_description="Broker admins and agents.",
    update_description="Needs the right to manage the client (broker admins and agents).",
)
class ImporterViewSet(ScopedCrudViewSet):
    """Importers: broker staff see and search the whole portfolio, an importer's people their own."""

    queryset = Importer.objects.prefetch_related(IMPORTER_ACCOUNTS.prefetch())
    serializer_class = ImporterSerializer
    filterset_class = ImporterFilter
    filter_backends = [ListFilterBackend]
    pagination_class = ShortFirstPagePagination
    importer_field = "pk"
    write_perm = Perm.MANAGE_CLIENT
    create_perm = GlobalPerm.CREATE_IMPORTER


@crud_schema(
    ProgramAccountSerializer,
    tag="program accounts",
    one="a program account",
    many="program accounts",
    list_description="Accounts of the importers you may see; filter with ?importer=<id>.",
    create_verb="Add",
    create_description=(
        "Needs the right to manage the importer's client record. The BN15 must be an RM "
        "account of the importer's BN9."
    ),
)
class ProgramAccountViewSet(ScopedCrudViewSet):
    """RM program accounts (BN15) of the importers the user may see."""

    queryset = ProgramAccount.objects.all()
    serializer_class = ProgramAccountSerializer
    filterset_class = ProgramAccountFilter
    importer_field = "importer"
    write_perm = Perm.MANAGE_CLIENT
