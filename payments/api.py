"""REST API for payments, financial securities, payment alerts, interest rates and PAD bank
accounts, scoped by ``clients.access`` like the pages.

* ``/api/v1/payments/``: list, retrieve, record (``POST``; applied by CBSA's rule, or by hand with
  ``allocations``), ``POST /{id}/status/`` (cleared, returned) and ``POST /{id}/allocate/``. Read
  with ``VIEW_FINANCE``, write with ``MANAGE_PAYMENTS``; the rules are the form's
  (``payments.validation``, ``payments.allocation``), including the credit card limit.
* ``/api/v1/financial-securities/``: list, retrieve, create, update, each with what CBSA requires
  for its account today.
* ``/api/v1/payment-alerts/``: what the daily checks found, read only.
* ``/api/v1/interest-rates/``: the dated rate table; broker staff read it, a broker admin adds.
* ``/api/v1/bank-accounts/``: masked numbers for whoever sees the importer's finances; a list or
  a get never carries the full number. ``POST /{id}/reveal/`` answers it to the importer's BAM
  only, through ``payments.reveals.reveal`` (audited, the other BAMs told by email, never
  cached). Only the BAM may add one.

Length: five small resources of one app, each a serializer, a filter and a viewset over the same
``carm_portal.api`` base; one module keeps their shared schema helpers in one place.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field, Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from carm_portal.api import (
    MAX_PK,
    NamedChoiceField,
    ScopedCreateViewSet,
    ScopedCrudViewSet,
    ScopedReadViewSet,
    VisibleImporterField,
    VisibleRowField,
    crud_schema,
    django_error_detail,
    error_responses,
    id_filter,
    open_alerts_filter,
    row_action_schema,
)
from carm_portal.calendar import cbsa_today
from carm_portal.dates import business_date
from clients import access
from clients.access import GlobalPerm, Perm
from clients.models import ProgramAccount
from payments import reveals
from payments.allocation import AllocationError, allocate_payment, preview
from payments.models import (
    BankAccount,
    FinancialSecurity,
    InterestRate,
    Payment,
    PaymentAlert,
    PaymentAllocation,
)
from payments.records import record_payment, save_bank_account, save_security, set_payment_status
from payments.rules import KIND_LABELS, Kind, kind_label
from payments.selectors import account_securities, posting_expected, unapplied
from payments.validation import validate_bank_account, validate_payment, validate_security

MAX_ALLOCATIONS = 500


# Money in the API is a decimal string with two places ("1234.50"), as DRF renders a
# DecimalField: documented so, never as a floating-point number.
MONEY_SCHEMA = {"type": "string", "format": "decimal", "pattern": r"^-?\d{0,12}(?:\.\d{0,2})?$"}


def money_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class VisibleProgramAccountField(VisibleRowField):
    """A program account among those the user may see (else 400 "No such program account.");
    with ``perm``, one of an importer on which the user lacks it is a 403."""

    model = ProgramAccount
    default_error_messages = {"does_not_exist": _("No such program account.")}


@extend_schema_field(MONEY_SCHEMA)
class MoneyMethodField(serializers.SerializerMethodField):
    """A computed amount, rendered as DRF renders money: a string with two places."""

    def to_representation(self, value: Any) -> str:
        return f"{super().to_representation(value):.2f}"


def _as_400(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(django_error_detail(exc))


# --- Payments ------------------------------------------------------------------------------------


class AllocationSerializer(serializers.ModelSerializer):
    statement = serializers.IntegerField(source="statement_id", min_value=1, max_value=MAX_PK)
    statement_date = serializers.DateField(source="statement.statement_date", read_only=True)
    due_date = serializers.DateField(source="statement.due_date", read_only=True)
    amount = money_field(min_value=Decimal("0.01"))
    manual = serializers.BooleanField(read_only=True)

    class Meta:
        model = PaymentAllocation
        fields = ["statement", "statement_date", "due_date", "amount", "manual"]


class AllocationRequestSerializer(serializers.Serializer):
    """How to apply a payment: by hand (``allocations``) or, when absent, by CBSA's rule."""

    allocations = AllocationSerializer(  # type: ignore[call-arg]  # many=True hands max_length to the ListSerializer
        many=True,
        required=False,
        max_length=MAX_ALLOCATIONS,
        help_text=_("Statement ids and amounts; leave out to apply by CBSA's rule."),
    )


def manual_of(items: list[dict[str, Any]] | None) -> dict[int, Decimal] | None:
    if items is None:
        return None
    amounts: dict[int, Decimal] = {}
    for item in items:
        amounts[item["statement_id"]] = (
            amounts.get(item["statement_id"], Decimal(0)) + item["amount"]
        )
    return amounts


class PaymentSerializer(serializers.ModelSerializer):
    importer = VisibleImporterField(perm=Perm.MANAGE_PAYMENTS)
    importer_name = serializers.CharField(source="importer.legal_name", read_only=True)
    program_account = VisibleProgramAccountField()
    program_account_bn15 = serializers.CharField(source="program_account.bn15", read_only=True)
    amount = money_field(min_value=Decimal("0.01"))
    method = NamedChoiceField(enum_name="PaymentMethod", choices=Payment.Method.choices)
    status = NamedChoiceField(
        enum_name="PaymentStatus",
        choices=Payment.Status.choices,
        required=False,
        help_text=_("pending (in transit, the default) or cleared when recording."),
    )
    source = NamedChoiceField(  # type: ignore[assignment]  # a declared field: the metaclass moves it out of the class
        enum_name="PaymentSource", choices=Payment.Source.choices, read_only=True
    )
    allocations = AllocationSerializer(  # type: ignore[call-arg]  # many=True hands max_length to the ListSerializer
        many=True,
        required=False,
        max_length=MAX_ALLOCATIONS,
        help_text=_(
            "Apply by hand: statement ids and amounts. Leave out to apply by CBSA's rule (oldest "
            "overdue first, then the oldest due). A broker-paid payment needs them."
        ),
    )
    unapplied = MoneyMethodField(help_text=_("Paid but applied to no statement."))
    expected_posting = serializers.SerializerMethodField(
        help_text=_("Business day by which CBSA should show it on a statement.")
    )
    posted_on_statement = serializers.IntegerField(
        source="statement_line.statement_id", read_only=True, allow_null=True
    )
    recorded_by = serializers.EmailField(
        source="recorded_by.email", read_only=True, allow_null=True
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "importer",
            "importer_name",
            "program_account",
            "program_account_bn15",
            "amount",
            "method",
            "paid_on",
            "reference",
            "status",
            "source",
            "bank_account",
            "allocations",
            "unapplied",
            "expected_posting",
            "posted_on_statement",
            "returned_on",
            "notes",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["returned_on", "created_at"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "bank_account" in fields:
            bank_account = fields["bank_account"]
            assert isinstance(bank_account, serializers.RelatedField)  # the model's foreign key
            bank_account.queryset = access.scope(BankAccount.objects.all(), request.user)
        return fields

    def get_unapplied(self, payment: Payment) -> Decimal:
        return unapplied(payment)

    def get_expected_posting(self, payment: Payment) -> dt.date:
        return posting_expected(payment)

    def validate_status(self, value: str) -> str:
        if value == Payment.Status.RETURNED:
            raise serializers.ValidationError(_("Record the payment first; then mark it returned."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        manual = manual_of(attrs.get("allocations"))
        try:
            validate_payment(
                importer=attrs["importer"],
                program_account=attrs["program_account"],
                amount=attrs["amount"],
                method=attrs["method"],
                paid_on=attrs["paid_on"],
                bank_account=attrs.get("bank_account"),
                manual=manual is not None,
                today=cbsa_today(),
            )
            preview(
                program_account=attrs["program_account"],
                amount=attrs["amount"],
                method=attrs["method"],
                paid_on=attrs["paid_on"],
                manual=manual,
            )
        except DjangoValidationError as exc:
            raise _as_400(exc) from None
        except AllocationError as exc:
            raise serializers.ValidationError({"allocations": exc.messages}) from None
        attrs["manual"] = manual
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Payment:
        try:
            payment, _plan = record_payment(
                importer=validated_data["importer"],
                program_account=validated_data["program_account"],
                amount=validated_data["amount"],
                method=validated_data["method"],
                paid_on=validated_data["paid_on"],
                reference=validated_data.get("reference", ""),
                status=validated_data.get("status", Payment.Status.PENDING),
                bank_account=validated_data.get("bank_account"),
                notes=validated_data.get("notes", ""),
                manual=validated_data["manual"],
                by=self.context["request"].user,
            )
        except AllocationError as exc:
            raise serializers.ValidationError({"allocations": exc.messages}) from None
        return Payment.objects.select_related("importer", "program_account").get(pk=payment.pk)


class PaymentStatusSerializer(serializers.Serializer):
    status = NamedChoiceField(
        enum_name="PaymentStatus",
        choices=Payment.Status.choices,
        help_text=_("cleared (from pending) or returned."),
    )
    returned_on = serializers.DateField(required=False, allow_null=True, validators=[business_date])


class PaymentFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))
    program_account = id_filter("program_account_id", _("Program account id"))
    status = django_filters.ChoiceFilter(choices=Payment.Status.choices)
    method = django_filters.ChoiceFilter(choices=Payment.Method.choices)
    source = django_filters.ChoiceFilter(choices=Payment.Source.choices)

    class Meta:
        model = Payment
        fields = ["importer", "program_account", "status", "method", "source"]


@crud_schema(
    PaymentSerializer,
    tag="payments",
    one="a payment",
    many="payments",
    list_description="Payments of the importers whose finances you may see, latest first.",
    create_verb="Record",
    create_description=(
        "Needs the right to manage the importer's payments. Applied by CBSA's rule unless "
        "allocations are given; credit card payments over $4,999.99 per billing cycle per "
        "program account are refused with the reason."
    ),
)
class PaymentViewSet(ScopedCreateViewSet):
    """Money sent to CBSA and how each payment is applied to statements."""

    queryset = (
        Payment.objects.select_related(
            "importer", "program_account", "recorded_by", "statement_line"
        )
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("statement").order_by(
                    "statement__due_date", "id"
                ),
            )
        )
        .order_by("-paid_on", "-id")
    )
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    importer_field = "importer"
    read_perm = Perm.VIEW_FINANCE
    write_perm = Perm.MANAGE_PAYMENTS
    action_perms = {"set_status": Perm.MANAGE_PAYMENTS, "allocate": Perm.MANAGE_PAYMENTS}

    def _answer(self, payment: Payment) -> Response:
        return Response(
            PaymentSerializer(
                self.get_queryset().get(pk=payment.pk), context=self.get_serializer_context()
            ).data
        )

    @row_action_schema(
        "Mark a payment cleared or returned",
        request=PaymentStatusSerializer,
        answer=PaymentSerializer,
    )
    @action(
        detail=True, methods=["post"], url_path="status", serializer_class=PaymentStatusSerializer
    )
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        payment = self.get_object()
        data = PaymentStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assert request.user.is_authenticated  # ScopedCreateViewSet: IsAuthenticated comes first
        try:
            set_payment_status(
                payment=payment,
                status=data.validated_data["status"],
                on=data.validated_data.get("returned_on"),
                by=request.user,
            )
        except AllocationError as exc:
            raise serializers.ValidationError({"status": exc.messages}) from None
        return self._answer(payment)

    @row_action_schema(
        "Apply a payment again",
        description="By hand with allocations, else by CBSA's rule; replaces how it was applied.",
        request=AllocationRequestSerializer,
        answer=PaymentSerializer,
    )
    @action(detail=True, methods=["post"], serializer_class=AllocationRequestSerializer)
    def allocate(self, request: Request, pk: str | None = None) -> Response:
        payment = self.get_object()
        data = AllocationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assert request.user.is_authenticated  # ScopedCreateViewSet: IsAuthenticated comes first
        try:
            allocate_payment(
                payment=payment,
                by=request.user,
                manual=manual_of(data.validated_data.get("allocations")),
            )
        except AllocationError as exc:
            raise serializers.ValidationError({"allocations": exc.messages}) from None
        return self._answer(payment)


# --- Financial securities ------------------------------------------------------------------------


class FinancialSecuritySerializer(serializers.ModelSerializer):
    program_account = VisibleProgramAccountField(perm=Perm.MANAGE_PAYMENTS)
    program_account_bn15 = serializers.CharField(source="program_account.bn15", read_only=True)
    importer = serializers.IntegerField(source="program_account.importer_id", read_only=True)
    kind = NamedChoiceField(enum_name="SecurityKind", choices=FinancialSecurity.Kind.choices)
    status = NamedChoiceField(
        enum_name="SecurityStatus", choices=FinancialSecurity.Status.choices, required=False
    )
    amount = money_field(min_value=Decimal("0.01"))
    required_amount = MoneyMethodField(
        help_text=_("What CBSA requires today for the account, as this kind of security.")
    )
    account_covered = serializers.SerializerMethodField(
        help_text=_("Whether the securities in force on the account cover what CBSA requires.")
    )

    class Meta:
        model = FinancialSecurity
        fields = [
            "id",
            "importer",
            "program_account",
            "program_account_bn15",
            "kind",
            "surety_company",
            "bond_number",
            "amount",
            "effective_date",
            "expiry_date",
            "status",
            "required_amount",
            "account_covered",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def _position(self, security: FinancialSecurity) -> Any:
        positions = self.context.setdefault("positions", {})
        if security.program_account_id not in positions:
            positions.update(account_securities([security.program_account], today=cbsa_today()))
        return positions[security.program_account_id]

    def get_required_amount(self, security: FinancialSecurity) -> Decimal:
        return self._position(security).required[security.kind]

    def get_account_covered(self, security: FinancialSecurity) -> bool:
        return self._position(security).coverage.ok

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: FinancialSecurity | None = self.instance

        def value(name: str) -> Any:
            if name in attrs:
                return attrs[name]
            if instance is not None:
                return getattr(instance, name)
            model_field = FinancialSecurity._meta.get_field(name)
            assert isinstance(model_field, Field)  # one of the security's own columns
            return model_field.get_default()

        account = value("program_account")
        if instance is not None and account.pk != instance.program_account_id:
            raise serializers.ValidationError(
                {"program_account": [_("A security cannot move to another program account.")]}
            )
        try:
            cleaned = validate_security(
                program_account=account,
                importer=None,
                kind=value("kind"),
                surety_company=value("surety_company") or "",
                bond_number=value("bond_number") or "",
                amount=value("amount"),
                effective_date=value("effective_date"),
                expiry_date=value("expiry_date"),
                status=value("status"),
            )
        except DjangoValidationError as exc:
            raise _as_400(exc) from None
        attrs.update(cleaned)
        return attrs

    def create(self, validated_data: dict[str, Any]) -> FinancialSecurity:
        return save_security(
            security=FinancialSecurity(**validated_data), by=self.context["request"].user
        )

    def update(
        self, instance: FinancialSecurity, validated_data: dict[str, Any]
    ) -> FinancialSecurity:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        self.context.pop("positions", None)
        return save_security(security=instance, by=self.context["request"].user)


class SecurityFilter(django_filters.FilterSet):
    importer = id_filter("program_account__importer_id", _("Importer id"))
    program_account = id_filter("program_account_id", _("Program account id"))
    kind = django_filters.ChoiceFilter(choices=FinancialSecurity.Kind.choices)
    status = django_filters.ChoiceFilter(choices=FinancialSecurity.Status.choices)

    class Meta:
        model = FinancialSecurity
        fields = ["importer", "program_account", "kind", "status"]


@crud_schema(
    FinancialSecuritySerializer,
    tag="financial security",
    one="a financial security",
    many="financial securities",
    create_verb="Record",
    create_description=(
        "A surety bond or cash deposit of an RM account; needs the right to manage payments."
    ),
)
class FinancialSecurityViewSet(ScopedCrudViewSet):
    """Surety bonds and cash deposits per RM account, with what CBSA requires."""

    queryset = FinancialSecurity.objects.select_related("program_account").order_by(
        "program_account__bn15", "-effective_date", "-id"
    )
    serializer_class = FinancialSecuritySerializer
    filterset_class = SecurityFilter
    importer_field = "program_account__importer"
    read_perm = Perm.VIEW_FINANCE
    write_perm = Perm.MANAGE_PAYMENTS

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        accounts = {s.program_account_id: s.program_account for s in rows}
        context = self.get_serializer_context()
        context["positions"] = account_securities(list(accounts.values()), today=cbsa_today())
        data = FinancialSecuritySerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)


# --- Alerts --------------------------------------------------------------------------------------


class PaymentAlertSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()  # type: ignore[assignment]  # a declared field: the metaclass moves it out of the class
    kind = NamedChoiceField(
        enum_name="PaymentAlertKind",
        choices=[(k.value, KIND_LABELS[k]) for k in Kind],
        read_only=True,
    )
    severity = NamedChoiceField(
        enum_name="AlertSeverity", choices=PaymentAlert.Severity.choices, read_only=True
    )
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = PaymentAlert
        fields = [
            "id",
            "importer",
            "program_account",
            "statement",
            "payment",
            "security",
            "kind",
            "label",
            "severity",
            "message",
            "deadline",
            "amount",
            "raised_on",
            "is_open",
            "resolved_at",
            "resolution",
            "notified_at",
        ]
        read_only_fields = fields

    def get_label(self, alert: PaymentAlert) -> str:
        return kind_label(alert.kind)


class PaymentAlertFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))
    statement = id_filter("statement_id", _("Statement id"))
    kind = django_filters.ChoiceFilter(choices=[(k.value, KIND_LABELS[k]) for k in Kind])
    severity = django_filters.ChoiceFilter(choices=PaymentAlert.Severity.choices)
    open = open_alerts_filter()

    class Meta:
        model = PaymentAlert
        fields = ["importer", "statement", "kind", "severity", "open"]


@crud_schema(
    PaymentAlertSerializer,
    tag="payments",
    one="a payment or security alert",
    many="payment and security alerts",
)
class PaymentAlertViewSet(ScopedReadViewSet):
    """What the daily payment and security checks found (read only)."""

    queryset = PaymentAlert.objects.order_by("resolved_at", "-raised_at", "id")
    serializer_class = PaymentAlertSerializer
    filterset_class = PaymentAlertFilter
    importer_field = "importer"
    read_perm = Perm.VIEW_FINANCE


# --- Interest rates ------------------------------------------------------------------------------


class RatePermission(BasePermission):
    """Broker staff read the table; a broker admin (``MANAGE_RATES``) adds to it."""

    message = _("Interest rates are the broker's reference data.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return access.can_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
        self.message = _("Interest rates are entered by a broker admin.")
        return access.can_global(request.user, GlobalPerm.MANAGE_RATES)


class InterestRateSerializer(serializers.ModelSerializer):
    annual_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text=_("Percent per year, e.g. 9.000."),
    )
    entered_by = serializers.EmailField(source="entered_by.email", read_only=True, allow_null=True)

    class Meta:
        model = InterestRate
        fields = ["id", "effective_from", "annual_rate", "note", "entered_by", "created_at"]
        read_only_fields = ["created_at"]

    def create(self, validated_data: dict[str, Any]) -> InterestRate:
        rate = InterestRate(**validated_data, entered_by=self.context["request"].user)
        rate._history_user = self.context["request"].user
        rate.save()
        return rate


@crud_schema(
    InterestRateSerializer,
    tag="payments",
    one="an interest rate",
    many="interest rates",
    create_verb="Add",
    create_description="A broker admin enters each quarter's rate with the date it applies from.",
)
class InterestRateViewSet(
    # Not importer-owned (RatePermission decides), hence not a Scoped*ViewSet.
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The dated table the late-payment interest estimate reads."""

    queryset = InterestRate.objects.select_related("entered_by").order_by("-effective_from")
    serializer_class = InterestRateSerializer
    permission_classes = [IsAuthenticated, RatePermission]


# --- Bank accounts -------------------------------------------------------------------------------


class BankAccountSerializer(serializers.ModelSerializer):
    importer = VisibleImporterField(perm=Perm.VIEW_BANK_ACCOUNT)
    account_number = serializers.CharField(
        max_length=20,
        allow_null=True,
        write_only=True,
        help_text=_(
            "5 to 12 digits, written only: a list or a get never shows it (see the reveal action)."
        ),
    )
    account_number_masked = serializers.CharField(source="masked_number", read_only=True)
    status = NamedChoiceField(
        enum_name="BankAccountStatus", choices=BankAccount.Status.choices, required=False
    )

    class Meta:
        model = BankAccount
        fields = [
            "id",
            "importer",
            "label",
            "holder_name",
            "institution_number",
            "transit_number",
            "account_number",
            "account_number_masked",
            "status",
            "pad_agreement_on",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        if not access.can(user, Perm.MANAGE_PAYMENTS, attrs["importer"]):
            raise PermissionDenied(_("Your role does not allow this for this importer."))
        try:
            cleaned = validate_bank_account(
                institution_number=attrs.get("institution_number", ""),
                transit_number=attrs.get("transit_number", ""),
                account_number=attrs.get("account_number") or "",
            )
        except DjangoValidationError as exc:
            raise _as_400(exc) from None
        attrs.update(cleaned)
        return attrs

    def create(self, validated_data: dict[str, Any]) -> BankAccount:
        number = validated_data.pop("account_number")
        return save_bank_account(
            bank_account=BankAccount(**validated_data),
            account_number=number,
            by=self.context["request"].user,
        )


class BankAccountNumberSerializer(serializers.Serializer):
    account_number = serializers.CharField(
        read_only=True, help_text=_("The full account number, digits only.")
    )


class BankAccountFilter(django_filters.FilterSet):
    importer = id_filter("importer_id", _("Importer id"))
    status = django_filters.ChoiceFilter(choices=BankAccount.Status.choices)

    class Meta:
        model = BankAccount
        fields = ["importer", "status"]


@crud_schema(
    BankAccountSerializer,
    tag="payments",
    one="a PAD bank account",
    many="PAD bank accounts",
    list_description="Masked numbers only; the importer's BAMs ask for a full one with reveal.",
    create_verb="Add",
    create_description="The importer's BAM only; the number is stored encrypted.",
)
class BankAccountViewSet(ScopedCreateViewSet):
    """Bank accounts for pre-authorized debit."""

    queryset = BankAccount.objects.order_by("importer_id", "label", "id")
    serializer_class = BankAccountSerializer
    filterset_class = BankAccountFilter
    importer_field = "importer"
    read_perm = Perm.VIEW_FINANCE
    write_perm = Perm.VIEW_BANK_ACCOUNT
    action_perms = {"reveal": Perm.VIEW_BANK_ACCOUNT}

    @extend_schema(
        summary="Show a PAD bank account's full number",
        description=(
            "The importer's Business Account Managers only. Each call is recorded (who, when, "
            "from which address) and the importer's other BAMs are told by email; the answer is "
            "never cached."
        ),
        request=None,
        responses={200: BankAccountNumberSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"], serializer_class=BankAccountNumberSerializer)
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        account = self.get_object()  # 404 for another importer's, 403 without the permission
        number = reveals.reveal(
            bank_account=account,
            user=request.user,
            channel=reveals.Channel.API,
            ip=reveals.client_ip(request),
        )
        response = Response({"account_number": number})
        response["Cache-Control"] = "no-store"
        return response
