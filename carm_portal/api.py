"""Shared REST API pieces: every app's viewsets reach ``clients.access`` through these.

The rule of the pages holds in the API: an importer the user may not *see* is a 404 (we never
confirm it exists), one they may see but not act on in the way asked is a 403. An importer named in
a request body that the user may not see is a 400 "No such importer.", word for word the answer for
an id that does not exist.

A viewset over importer-owned rows (a statement, a delegation, a payment) declares::

    @crud_schema(DelegationSerializer, tag="delegations", one="a delegation",
                 many="delegations", create_verb="Record")
    class DelegationViewSet(ScopedCrudViewSet):  # or ScopedReadViewSet, ScopedCreateViewSet
        queryset = Delegation.objects.select_related(...)
        importer_field = "importer"  # the lookup path from the row to its importer
        read_perm = Perm.VIEW  # lists hold only importers with it; retrieve 403s without
        write_perm = Perm.MANAGE_DELEGATION  # update of an existing row

and its serializer names the owning importer with ``VisibleImporterField(perm=...)``, which turns an
invisible importer into a 400 and a visible one without the permission into a 403.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, cast

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Field, Model, Prefetch, QuerySet, prefetch_related_objects
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.fields import SkipField, get_error_detail
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from clients import access
from clients.access import GlobalPerm, Perm
from clients.models import Importer

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
    from rest_framework.generics import GenericAPIView
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.views import APIView

    _GenericViewBase = GenericAPIView  # the mixin is only ever mixed into a generic view
else:
    _GenericViewBase = object

# Largest primary key a BigAutoField holds: a larger id in a body is a 400, not a database error.
MAX_PK = 2**63 - 1


# --- Errors -----------------------------------------------------------------------------------


def django_error_detail(exc: DjangoValidationError) -> dict[str, Any]:
    """A Django ``ValidationError`` as DRF field errors: ``{field: [messages]}``.

    Errors raised without a field (or for ``__all__``) go under ``non_field_errors``.
    """
    detail = get_error_detail(exc)
    if isinstance(detail, dict):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value
            for key, value in detail.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: detail}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a Django ``ValidationError`` from a model or domain function is a 400.

    ``ImporterScopedMixin`` installs it on its views; projects may also set it as
    ``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "carm_portal.api.exception_handler"``.
    """
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(django_error_detail(exc))
    return drf_exception_handler(exc, context)


@contextmanager
def unique_as_field_error(
    field: str, message: StrOrPromise, *, taken: Callable[[], bool]
) -> Iterator[None]:
    """Turn a unique-constraint violation on ``field`` into a 400 field error.

    Serializers check uniqueness before saving (``UniqueValidator``), but two requests can pass
    that check together and the second insert then hits the constraint. Wrap the save::

        with unique_as_field_error("bn9", msg, taken=lambda: Importer.objects.filter(...).exists()):
            return super().create(validated_data)

    (``RaceSafeUniqueSerializer`` does this for a serializer's one unique field.)

    The save runs in a savepoint; ``taken()`` is asked after it rolls back, and any other
    integrity error is re-raised untouched.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        if taken():
            raise ValidationError({field: [message]}) from None
        raise


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """OpenAPI descriptions of the error answers a view gives, for ``extend_schema(responses=)``."""
    described = {
        400: _("Invalid input: {field: [messages]}, or non_field_errors."),
        401: _(
            "Not signed in (session or 'Authorization: Bearer <token>'), or the token is expired or revoked."
        ),
        403: _("Signed in, but your role does not allow this (or not signed in)."),
        404: _("No such object, or not one you may see."),
    }
    return {code: OpenApiResponse(description=str(described[code])) for code in codes}


_HTTP_METHODS = frozenset({"get", "put", "patch", "post", "delete", "head", "options"})


def document_common_answers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """A drf-spectacular postprocessing hook: the answers every operation can give, documented.

    Whatever the view: 400 (a NUL character in the query string or the path, which
    ``carm_portal.nul_guard`` answers before any view runs, whatever the operation; for one with a
    body, also a body that is not JSON or nested too deeply), 401 (no or a bad sign-in), 403 (a
    role that may not, or broker staff without two-factor authentication), 429 (over a rate limit,
    with ``Retry-After``); one on a row (``{id}``) or a paginated list also 404 (no such row; a
    page past the last). The views document the rest (their 200/201 and field errors).
    """
    nul = _("A value in the query string or the path holds a NUL character.")
    described = {
        "400": _("Invalid input: {field: [messages]}, or non_field_errors."),
        "401": _(
            "Not signed in (session or 'Authorization: Bearer <token>'), or the token is expired "
            "or revoked."
        ),
        "403": _("Signed in, but your role does not allow this (or not signed in)."),
        "404": _("No such object, or not one you may see (or a page past the last)."),
        "429": _("Too many requests: wait the number of seconds in Retry-After."),
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            codes = ["400", "401", "403", "429"]
            if "{" in path or any(p.get("name") == "page" for p in operation.get("parameters", [])):
                codes.append("404")  # a row that is not there, or a page past the last
            responses = operation.setdefault("responses", {})
            if "requestBody" not in operation:
                responses.setdefault("400", {"description": str(nul)})
            for code in codes:
                responses.setdefault(code, {"description": str(described[code])})
            responses["429"].setdefault(
                "headers",
                {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": str(_("Seconds to wait before trying again.")),
                    }
                },
            )
    return result


def value_after_write(
    serializer: serializers.ModelSerializer, attrs: dict[str, Any], name: str
) -> Any:
    """The value ``name`` will hold once this write is saved: sent, else stored, else the default.

    For checks across fields in ``validate()`` that must hold on partial updates too (a postal
    code against a province when only the province changes).
    """
    if name in attrs:
        return attrs[name]
    if serializer.instance is not None:
        return getattr(serializer.instance, name)
    model: type[Model] = serializer.Meta.model
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, Field)  # a serializer writes the model's own columns
    return model_field.get_default()


# A model serializer whose unique ``unique_field`` stays a 400 when two writes race. The field's
# ``UniqueValidator`` answers the usual case with ``unique_message``; this answers the rare one,
# two requests passing that check together, with the same message (``unique_as_field_error``)
# instead of a 500 from the constraint. Said in comments, not a docstring: drf-spectacular would
# publish a base class's docstring as the description of each subclass without one.
class RaceSafeUniqueSerializer(serializers.ModelSerializer):
    unique_field: str
    unique_message: StrOrPromise

    def _taken(self, value: object) -> bool:
        """Whether another row holds ``value`` (asked after the failed save rolled back)."""
        model: type[Model] = self.Meta.model
        others = model._default_manager.filter(**{self.unique_field: value})
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        return others.exists()

    def _unique_guard(self, value: object) -> AbstractContextManager[None]:
        return unique_as_field_error(
            self.unique_field, self.unique_message, taken=lambda: self._taken(value)
        )

    def create(self, validated_data: dict[str, Any]) -> Model:
        with self._unique_guard(validated_data[self.unique_field]):
            return super().create(validated_data)

    def update(self, instance: Model, validated_data: dict[str, Any]) -> Model:
        value = validated_data.get(self.unique_field, getattr(instance, self.unique_field))
        with self._unique_guard(value):
            return super().update(instance, validated_data)


# --- Authentication in the schema -------------------------------------------------------------


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The personal API tokens (``carm_portal.mfa.TokenAuthentication``) as an HTTP bearer scheme."""

    target_class = "carm_portal.mfa.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _(
                    "A personal API token made on the 'API tokens' page of your account: "
                    "'Authorization: Bearer <token>' ('Token <token>' also works)."
                )
            ),
        }


# --- Reading rows ----------------------------------------------------------------------------


def _fresh(field: serializers.Field) -> serializers.Field:
    """A new unbound copy of ``field``, as DRF's deep copy makes one, for less: a field that
    holds others (a nested serializer, a ``ListField``'s child, a many-related field) is
    deep-copied as DRF does, since binding it binds what it holds; any other is shallow-copied
    (its settings are read, never changed, once built; binding sets its own attributes)."""
    if isinstance(
        field,
        (
            serializers.BaseSerializer,
            serializers.ListField,
            serializers.DictField,
            serializers.ManyRelatedField,
        ),
    ):
        return copy.deepcopy(field)
    new = object.__new__(type(field))
    new.__dict__.update(field.__dict__)
    return new


# Builds the serializer's fields once per class, then copies them for each serializer.
#
# DRF builds them for every serializer made (every request): a deep copy of each declared field
# (re-running its ``__init__``) and, for a model serializer, the model's introspection for
# the others; 4,000-6,500 Python calls per API list, a sixth of a short one. The fields depend
# only on the class here (no ``get_fields`` override reading the request or the instance:
# do not mix this into one that does), so the built fields serve as templates, never bound
# themselves, and each serializer binds its own copies (``_fresh``).
#
# (Said in comments, not a docstring: drf-spectacular would publish a mixin's docstring as the
# description of each serializer without one.)
class FieldTemplatesMixin(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        templates: dict[str, serializers.Field] | None = cls.__dict__.get("_field_templates")
        if templates is None:
            templates = super().get_fields()
            cls._field_templates = templates  # type: ignore[attr-defined]  # per class, see above
        return {name: _fresh(field) for name, field in templates.items()}


def _column_path(model: type[Model], attrs: list[str]) -> bool:
    """Whether ``attrs`` leads from a ``model`` row through forward foreign keys (or one-to-one
    fields) to a concrete column (``legal_name``, ``importer_id``, ``importer.legal_name``)."""
    for hop, attr in enumerate(attrs):
        try:
            field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if hop == len(attrs) - 1:
            if field.is_relation:  # only a foreign key's own column: ``importer_id``
                return bool(field.concrete and field.many_to_one) and attr == field.attname  # type: ignore[union-attr]
            return bool(field.concrete)
        if not (field.concrete and attr == field.name and (field.many_to_one or field.one_to_one)):
            return False
        model = field.related_model  # type: ignore[assignment]  # a forward relation has one
    return False


_UNREAD = object()  # a path that raised, or led to a callable: DRF's path reads the field

_Plan = list[tuple[str, serializers.Field, list[str] | None, Callable[[Any], Any] | None]]


def _foreign_key_id(model: type[Model], field: serializers.Field) -> str | None:
    """The column holding the id that a ``PrimaryKeyRelatedField`` (DRF's own reading and
    writing of it, not overridden) writes for a forward foreign key of ``model``, else None."""
    if not isinstance(field, serializers.PrimaryKeyRelatedField):
        return None
    kind = type(field)
    if not (
        kind.get_attribute is serializers.RelatedField.get_attribute
        and kind.to_representation is serializers.PrimaryKeyRelatedField.to_representation
        and kind.use_pk_only_optimization
        is serializers.PrimaryKeyRelatedField.use_pk_only_optimization
        and len(field.source_attrs) == 1
    ):
        return None
    try:
        relation = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None
    if relation.concrete and relation.many_to_one and relation.name == field.source_attrs[0]:
        return relation.attname  # type: ignore[union-attr]  # a concrete field has one
    return None


# Writes a row as DRF's ``Serializer.to_representation`` does, reading directly each field that
# DRF would read with plain attribute lookups: ``_direct_plan`` says which, once per serializer
# (a list's child serves the whole page), as the path of attributes and the conversion of the
# value read (None: the value as read).
#
# DRF's path costs ~14 Python calls per field and row (the readable-fields generator, two
# ``get_attribute`` layers, an ABC ``Mapping`` check, a callable check, a ``PKOnlyObject``
# check); a page of 50 importers has over a thousand such fields. Any exception on the way (a
# null relation, a missing row), or a callable read where ``_values_may_be_callable``, hands the
# field to DRF's own path, whose answer (None, a default, a skip, a call) is the answer.
#
# (Said in comments, not docstrings, here and in the subclasses: drf-spectacular would publish
# a mixin's docstring as the description of each serializer without one.)
class _DirectReadMixin(serializers.Serializer):
    _values_may_be_callable = True

    def _direct_path(
        self, field: serializers.Field
    ) -> tuple[list[str], Callable[[Any], Any] | None] | None:
        raise NotImplementedError

    def _reads_directly(self, instance: Any) -> bool:
        raise NotImplementedError

    @cached_property
    def _read_plan(self) -> _Plan:
        plan: _Plan = []
        for field in self._readable_fields:
            attrs, convert = self._direct_path(field) or (None, None)
            plan.append((cast(str, field.field_name), field, attrs, convert))  # bound: named
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        if not self._reads_directly(instance):
            return super().to_representation(instance)
        may_call = self._values_may_be_callable
        ret: dict[str, Any] = {}
        for name, field, attrs, convert in self._read_plan:
            if attrs is not None:
                value = instance
                try:
                    for attr in attrs:
                        value = getattr(value, attr)
                except Exception:  # DRF's own path, below, decides
                    value = _UNREAD
                if may_call and callable(value):
                    value = _UNREAD  # DRF would call it (or refuse a builtin): its path does
                if value is not _UNREAD:
                    ret[name] = value if value is None or convert is None else convert(value)
                    continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check is None else field.to_representation(attribute)
        return ret


# A model serializer reading directly: a field keeping ``Field.get_attribute`` whose source is a
# path of forward relations to a concrete column (``name``, ``importer.legal_name``,
# ``program_account.importer_id``: a value never callable), and a ``PrimaryKeyRelatedField`` of
# a forward foreign key, read from its ``_id`` column as DRF's pk-only optimisation reads it.
class ColumnReadMixin(_DirectReadMixin, serializers.ModelSerializer):
    _values_may_be_callable = False

    def _direct_path(
        self, field: serializers.Field
    ) -> tuple[list[str], Callable[[Any], Any] | None] | None:
        model: type[Model] = self.Meta.model
        if type(field).get_attribute is serializers.Field.get_attribute:
            if _column_path(model, field.source_attrs):
                return field.source_attrs, field.to_representation
            return None
        column = _foreign_key_id(model, field)
        if column is None:
            return None
        pk_field = field.pk_field  # type: ignore[attr-defined]  # a PrimaryKeyRelatedField's
        return [column], None if pk_field is None else pk_field.to_representation

    def _reads_directly(self, instance: Any) -> bool:
        return isinstance(instance, self.Meta.model)


# A serializer of plain objects (a dataclass: a statement's balance check) reading directly each
# field keeping ``Field.get_attribute`` with a one-attribute source; a callable read goes to
# DRF's path, which calls it. A mapping is read by DRF's path.
class AttributeReadMixin(_DirectReadMixin):
    def _direct_path(
        self, field: serializers.Field
    ) -> tuple[list[str], Callable[[Any], Any] | None] | None:
        if type(field).get_attribute is serializers.Field.get_attribute and (
            len(field.source_attrs) == 1
        ):
            return field.source_attrs, field.to_representation
        return None

    def _reads_directly(self, instance: Any) -> bool:
        return not isinstance(instance, Mapping)


# --- To-many relations a list prefetches ------------------------------------------------------

PREFETCHED_PREFIX = "prefetched_"


class PrefetchedRows:
    """A to-many relation that a list prefetches into a plain list, and that every other read
    (a create's or an update's answer, which DRF serializes without the list's prefetch) fetches
    the same way, so both give the same rows in the same order.

    Why not Django's own prefetch (``Prefetch(relation, queryset)``): it makes, for every row of
    the page, a related manager and a filtered queryset clone to hold the rows it has already
    read (~50 per page, a sixth of the importer list's Python calls); ``to_attr`` stores a list.
    Declare one per relation (``ACCOUNTS = PrefetchedRows("program_accounts", qs)``); put
    ``ACCOUNTS.prefetch()`` in the viewset's queryset and read ``ACCOUNTS.rows(obj)`` (or a
    ``PrefetchedRowsMixin`` field).
    """

    def __init__(self, relation: str, queryset: QuerySet | None = None) -> None:
        self.relation = relation
        self.queryset = queryset
        self.attr = PREFETCHED_PREFIX + relation

    def __deepcopy__(self, memo: dict[int, Any]) -> PrefetchedRows:
        return self  # never changed; a field holding it is deep-copied for every serializer

    def prefetch(self) -> Prefetch:
        return Prefetch(self.relation, queryset=self.queryset, to_attr=self.attr)

    def rows(self, instance: Model) -> list[Any]:
        """The related rows of ``instance``: the list's prefetch, else fetched now (and kept)."""
        try:
            return instance.__dict__[self.attr]
        except KeyError:
            prefetch_related_objects([instance], self.prefetch())
            return instance.__dict__[self.attr]


def forget_prefetched_rows(instance: Model) -> None:
    """Drop what ``PrefetchedRows`` kept on ``instance``, as DRF drops Django's prefetch cache
    after an update: the answer then reads the rows as saved."""
    for name in [name for name in instance.__dict__ if name.startswith(PREFETCHED_PREFIX)]:
        del instance.__dict__[name]


class PrefetchedRowsMixin(serializers.Field):
    """A field (a nested ``ListSerializer``, a ``ListField``…) reading the rows of
    ``rows: PrefetchedRows`` instead of its source's related manager."""

    def __init__(self, *args: Any, rows: PrefetchedRows, **kwargs: Any) -> None:
        self.rows = rows
        super().__init__(*args, **kwargs)

    def get_attribute(self, instance: Any) -> list[Any]:
        return self.rows.rows(instance)


class PrefetchedListSerializer(PrefetchedRowsMixin, serializers.ListSerializer):
    """``Child(many=True, read_only=True)`` over a ``PrefetchedRows``:
    ``PrefetchedListSerializer(child=Child(read_only=True), read_only=True, rows=...)``."""


# --- Fields -----------------------------------------------------------------------------------


class NormalizedCharField(serializers.CharField):
    """A text field cleaned by one of ``clients.validators``' ``normalize_*`` functions.

    The normaliser runs before the field's validators, so a ``UniqueValidator`` compares the
    stored form ("123 456 782" and "123-456-782" are the same BN9); its Django
    ``ValidationError`` becomes this field's error.
    """

    def __init__(self, *, normalizer: Callable[[object], str], **kwargs: Any) -> None:
        self.normalizer = normalizer
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return self.normalizer(value)
        except DjangoValidationError as exc:
            raise ValidationError(get_error_detail(exc)) from None


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose OpenAPI enum has a name we give (``enum_name`` + "Enum").

    drf-spectacular names an enum after its field, so ``Importer.status`` and
    ``ProgramAccount.status`` (or ``province`` and ``mailing_province``) collide and warn. Name each
    choice set once where it is declared: ``NamedChoiceField(enum_name="ImporterStatus",
    choices=Importer.Status.choices)``; fields sharing a name must share the choices.
    """

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field: NamedChoiceField = self.target
        choices = {
            value: label for value, label in field.choices.items() if value not in ("", None)
        }
        component = ResolvedComponent(
            name=f"{field.enum_name}Enum",
            type=ResolvedComponent.SCHEMA,
            object=f"{field.enum_name}Enum",
            schema={
                "type": "string",
                "enum": list(choices),
                "description": build_choice_description_list(choices.items()),
            },
        )
        auto_schema.registry.register_on_missing(component)
        if field.allow_blank:
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref


class EmailFieldExtension(OpenApiSerializerFieldExtension):
    """Every e-mail field as an ``idn-email``: Django's ``EmailValidator`` accepts a domain in
    any script (chloe@boréal.example.com), which the ``email`` format (ASCII only, RFC 5321)
    does not, so a stored address like that broke the schema of every answer carrying it."""

    target_class = serializers.EmailField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {"type": "string", "format": "idn-email"}


class VisibleRowField(serializers.PrimaryKeyRelatedField):
    """A row a write names by id, chosen among the rows the user may see.

    An id the user may not see gets the same "does not exist" answer as one that does not exist
    (a 400, leaking nothing); with ``perm``, a visible row of an importer on which the user lacks
    it is a 403. A subclass names its ``model``, the path from the row to its importer
    (``importer_field``, as in ``ImporterScopedMixin``) and its ``does_not_exist`` message.
    """

    model: type[Model]
    importer_field: str = "importer"

    def __init__(self, *, perm: Perm | None = None, **kwargs: Any) -> None:
        self.perm = perm
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", self.model._default_manager.all())  # see get_queryset
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_PK))
        super().__init__(**kwargs)

    def visible(self, user: Any) -> QuerySet:
        return access.scope(
            self.model._default_manager.all(), user, importer_field=self.importer_field
        )

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        if request is None:
            return self.model._default_manager.none()
        return self.visible(request.user)

    def to_internal_value(self, data: object) -> Model:
        row = super().to_internal_value(data)
        if self.perm is not None and not access.can(
            self.context["request"].user, self.perm, access.importer_id_of(row, self.importer_field)
        ):
            raise PermissionDenied(_("Your role does not allow this for this importer."))
        return row


class VisibleImporterField(VisibleRowField):
    """The importer a written row belongs to, chosen among those the user may see: an invisible
    one is "No such importer.", word for word the answer for an id that does not exist."""

    model = Importer
    importer_field = "pk"
    default_error_messages = {"does_not_exist": _("No such importer.")}

    def visible(self, user: Any) -> QuerySet[Importer]:
        return access.visible_importers(user)


# --- Permissions and scoping ------------------------------------------------------------------


class ImporterPermission(BasePermission):
    """``clients.access`` as a DRF permission; the view is an ``ImporterScopedMixin``.

    View level: ``create`` needs the view's ``create_perm`` (a ``GlobalPerm``) when it has one.
    Object level: the view's ``required_perm()`` on the object's importer, else 403. The 404 for
    an invisible object comes first, from the mixin's scoped ``get_queryset``.
    """

    message = _("Your role does not allow this for this importer.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        create_perm = getattr(view, "create_perm", None)
        if getattr(view, "action", None) == "create" and create_perm is not None:
            self.message = _("Your role does not allow this.")
            return access.can_global(request.user, create_perm)
        return True

    def has_object_permission(self, request: Request, view: APIView, obj: Model) -> bool:
        assert isinstance(view, ImporterScopedMixin)  # the only views that install this permission
        importer_id = access.importer_id_of(obj, view.importer_field)
        return access.can(request.user, view.required_perm(), importer_id)


class ImporterScopedMixin(_GenericViewBase):
    """Scope a DRF view over importer-owned rows through ``clients.access``.

    - list: only rows of importers on which the user holds ``read_perm``;
    - a single row: 404 if its importer is invisible, 403 without ``read_perm`` (safe methods) or
      ``write_perm`` (others); ``action_perms`` overrides per action (e.g. ``{"reconcile": ...}``);
    - create: 403 without ``create_perm`` when set; otherwise the serializer's
      ``VisibleImporterField(perm=...)`` guards the importer named in the body;
    - a Django ``ValidationError`` raised while saving is a 400, never a 500.
    """

    importer_field: str = "importer"
    read_perm: Perm = Perm.VIEW
    write_perm: Perm | None = None
    create_perm: GlobalPerm | None = None
    action_perms: dict[str, Perm] = {}
    permission_classes = [IsAuthenticated, ImporterPermission]

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        user = self.request.user
        if getattr(self, "detail", None) is False:  # list-like actions
            return access.scope_for(
                queryset, user, self.read_perm, importer_field=self.importer_field
            )
        return access.scope(queryset, user, importer_field=self.importer_field)

    def required_perm(self) -> Perm:
        action = getattr(self, "action", None)
        if action in self.action_perms:
            return self.action_perms[action]
        if self.request.method in SAFE_METHODS:
            return self.read_perm
        if self.write_perm is None:
            raise ImproperlyConfigured(f"{type(self).__name__} writes but sets no write_perm.")
        return self.write_perm

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler


class ScopedReadViewSet(
    ImporterScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve importer-owned rows the API never writes (what a check or an import
    found: alerts, statements)."""


class ScopedCreateViewSet(
    ImporterScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """List, retrieve and create importer-owned rows that are recorded once and never replaced
    (a payment, an invitation): they change only through their own actions, so their history
    says what happened."""


class ScopedCrudViewSet(
    ImporterScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, retrieve, create and update (PUT and PATCH) importer-owned records. No delete: a
    record ends by its status and its history is kept."""

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        super().perform_update(serializer)
        if serializer.instance is not None:
            forget_prefetched_rows(serializer.instance)


class ListFilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend``, without building the filter set for a query string that names
    no filter (nothing, or only the page).

    Building it deep-copies each filter and cleans a form of empty fields (~2,300 Python calls,
    a tenth of a short list), and then each filter hands the queryset back untouched: an empty
    value filters nothing. A viewset uses this only when that holds for all its filters (none
    required, none filtering on an empty value; tests/api/test_list_reading.py checks them).
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        paginator = getattr(view, "paginator", None)
        page = getattr(paginator, "page_query_param", None)
        if all(name == page for name in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


# --- OpenAPI documentation of viewsets --------------------------------------------------------


def crud_schema(
    serializer: type[serializers.BaseSerializer],
    *,
    tag: str,
    one: str,
    many: str,
    list_description: str | None = None,
    retrieve_description: str | None = None,
    create_verb: str | None = None,
    create_description: str | None = None,
    update_description: str | None = None,
    **special: Any,
) -> Callable[[type], type]:
    """Document a viewset's standard actions the same way in every app, as a class decorator.

    Each action the view has (from its mixins) gets a summary and its answers: ``List <many>``
    (200 with a page of ``serializer``), ``Get <one>``, ``<create_verb> <one>`` (201: "Add",
    "Record"…), ``Replace <one>`` (PUT) and ``Change <one>`` (PATCH), and the errors each can
    give: a list is a 400 only for a bad filter, so only when the view has a ``filterset_class``;
    one row is a 404 when invisible; a write is a 400 on bad input. ``update_description`` serves
    PUT and PATCH. An action without a description shows the view's docstring, so give every
    view one written for the API's readers. The view is tagged ``tag``.

    ``special`` maps an action name to its own ``extend_schema(...)``: an ``@action`` kept with
    the others, or a standard action whose answers are not the standard ones (it replaces them).
    """

    def decorate(view: type) -> type:
        schemas: dict[str, Any] = {}
        if issubclass(view, mixins.ListModelMixin):
            filtered = getattr(view, "filterset_class", None) is not None
            schemas["list"] = extend_schema(
                summary=f"List {many}",
                description=list_description,
                responses={
                    200: serializer(many=True),
                    **error_responses(*((400, 401, 403) if filtered else (401, 403))),
                },
            )
        if issubclass(view, mixins.RetrieveModelMixin):
            schemas["retrieve"] = extend_schema(
                summary=f"Get {one}",
                description=retrieve_description,
                responses={200: serializer, **error_responses(401, 403, 404)},
            )
        if issubclass(view, mixins.CreateModelMixin) and "create" not in special:
            if create_verb is None:
                raise ImproperlyConfigured(f"{view.__name__} creates: crud_schema needs a verb.")
            schemas["create"] = extend_schema(
                summary=f"{create_verb} {one}",
                description=create_description,
                responses={201: serializer, **error_responses(400, 401, 403)},
            )
        if issubclass(view, mixins.UpdateModelMixin):
            for action, verb in (("update", "Replace"), ("partial_update", "Change")):
                schemas[action] = extend_schema(
                    summary=f"{verb} {one}",
                    description=update_description,
                    responses={200: serializer, **error_responses(400, 401, 403, 404)},
                )
        schemas.update(special)
        return extend_schema_view(**schemas)(extend_schema(tags=[tag])(view))

    return decorate


def row_action_schema(
    summary: str,
    *,
    answer: type[serializers.BaseSerializer],
    request: Any,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document an ``@action(detail=True)`` that changes one row and answers with it (200), or
    refuses: 400 (refused, with the reason), 401, 403, 404. ``request`` is the body's serializer,
    or None for an action that takes no body."""
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: answer, **error_responses(400, 401, 403, 404)},
    )


# --- Filters ----------------------------------------------------------------------------------


def id_filter(field_name: str, label: StrOrPromise) -> django_filters.NumberFilter:
    """A row id: a whole number a primary key can hold (a larger one is a 400, not a 500).

    By id, not a ModelChoiceFilter: an invisible importer looks exactly like an unknown one (an
    empty page), never "select a valid choice" for one and not the other.
    """
    return extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(
            field_name=field_name, label=label, min_value=1, max_value=MAX_PK, decimal_places=0
        )
    )


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or 1/0), absent for no filter, anything else a 400 (not ignored)."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]  # as django-stubs' own NullBooleanField.to_python
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise DjangoValidationError(_("Enter true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


def _filter_open(queryset: QuerySet, name: str, value: bool) -> QuerySet:
    return queryset.filter(resolved_at__isnull=value)


def open_alerts_filter() -> StrictBooleanFilter:
    """``?open=true``: alerts still open (no ``resolved_at``); ``false``: the resolved ones.

    Every alert model (delegation, payment) closes an alert by setting ``resolved_at``.
    """
    return StrictBooleanFilter(
        method=_filter_open, label=_("true: open alerts only; false: resolved ones only")
    )
