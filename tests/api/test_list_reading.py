"""How the API lists read their rows cheaply (carm_portal.api, carm_portal.pagination), each
checked against the plain answer it replaces: the related manager, DRF's own field reading and
field building, django-filter's filter set, Django's paginator."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from carm_portal.api import ColumnReadMixin, _column_path, forget_prefetched_rows
from carm_portal.pagination import ShortFirstPagePaginator
from clients.api import IMPORTER_ACCOUNTS, ImporterFilter, ImporterSerializer, ImporterViewSet
from clients.models import Importer, ProgramAccount
from delegation.api import (
    DELEGATION_ACCOUNTS,
    AlertSerializer,
    DelegationFilter,
    DelegationSerializer,
    DelegationViewSet,
    OpenAlertSerializer,
)
from delegation.checks import run_delegation_checks
from delegation.models import Delegation
from statements import balance as balances
from statements.api import (
    BalanceCheckSerializer,
    BalanceFindingSerializer,
    StatementFilter,
    StatementSerializer,
    StatementViewSet,
)
from statements.models import Statement
from tests.factories import (
    DelegationFactory,
    ImporterFactory,
    ProgramAccountFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def importer() -> Importer:
    """An importer whose accounts were recorded out of BN15 order."""
    importer = ImporterFactory()
    for suffix in ("0003", "0001", "0002"):
        ProgramAccountFactory(importer=importer, bn15=f"{importer.bn9}RM{suffix}")
    return importer


@pytest.fixture
def pmr(importer) -> Delegation:
    delegation = DelegationFactory(
        importer=importer,
        relationship="PMR",
        authority="pPAM",
        expiry_date=TODAY + dt.timedelta(days=10),
        recorded_by=None,
    )
    delegation.program_accounts.add(*importer.program_accounts.all())
    return delegation


def bn15s(rows) -> list[str]:
    return [row.bn15 for row in rows]


# --- PrefetchedRows ---------------------------------------------------------------------------


def test_a_list_prefetch_gives_each_row_its_related_managers_rows_as_a_list(importer):
    ImporterFactory()  # an importer without accounts gets an empty list

    with CaptureQueriesContext(connection) as queries:
        listed = list(ImporterViewSet.queryset.order_by("pk"))
        rows = {one.pk: IMPORTER_ACCOUNTS.rows(one) for one in listed}

    assert len(queries.captured_queries) == 2  # the importers, then every account at once
    for one in listed:
        assert type(rows[one.pk]) is list
        assert bn15s(rows[one.pk]) == bn15s(one.program_accounts.all())  # the manager's answer
    assert bn15s(rows[importer.pk]) == sorted(bn15s(rows[importer.pk]))


def test_a_row_read_without_the_list_fetches_its_rows_once_the_same_way(pmr):
    delegation = Delegation.objects.get(pk=pmr.pk)

    with CaptureQueriesContext(connection) as queries:
        first = DELEGATION_ACCOUNTS.rows(delegation)
        again = DELEGATION_ACCOUNTS.rows(delegation)

    assert len(queries.captured_queries) == 1
    assert first is again
    assert bn15s(first) == bn15s(pmr.program_accounts.order_by("bn15"))


def test_forgetting_the_rows_reads_them_as_saved(importer):
    listed = ImporterViewSet.queryset.get(pk=importer.pk)
    before = bn15s(IMPORTER_ACCOUNTS.rows(listed))
    ProgramAccountFactory(importer=importer, bn15=f"{importer.bn9}RM0000")

    forget_prefetched_rows(listed)

    after = bn15s(IMPORTER_ACCOUNTS.rows(listed))
    assert after == bn15s(importer.program_accounts.all()) == [f"{importer.bn9}RM0000", *before]


def test_an_updated_importer_answers_with_its_accounts_as_saved(api_as, personas):
    owner = personas.importer_a
    ProgramAccountFactory(importer=owner, bn15=f"{owner.bn9}RM0009")

    response = api_as("broker_admin").patch(
        f"/api/v1/importers/{owner.pk}/", {"operating_name": "Renamed"}, format="json"
    )

    assert response.status_code == 200
    assert [row["bn15"] for row in response.json()["program_accounts"]] == bn15s(
        owner.program_accounts.all()
    )


# --- ColumnReadMixin --------------------------------------------------------------------------


def test_a_column_path_runs_through_forward_relations_to_a_column():
    assert _column_path(Importer, ["legal_name"])
    assert _column_path(ProgramAccount, ["importer_id"])
    assert _column_path(Statement, ["program_account", "importer", "legal_name"])
    assert _column_path(Delegation, ["recorded_by", "email"])
    assert not _column_path(ProgramAccount, ["importer"])  # a row, not a column
    assert not _column_path(Delegation, ["program_accounts"])  # many to many
    assert not _column_path(Importer, ["program_accounts"])  # a reverse relation
    assert not _column_path(Delegation, ["days_left"])  # a method
    assert not _column_path(Delegation, ["importer_id", "pk"])
    assert not _column_path(Importer, [])


def test_the_columns_are_read_directly_and_the_rest_by_drf():
    plan = {name: attrs for name, _field, attrs, _convert in DelegationSerializer()._read_plan}

    assert plan["notes"] == ["notes"]
    assert plan["importer_name"] == ["importer", "legal_name"]
    assert plan["recorded_by"] == ["recorded_by", "email"]
    assert plan["importer"] == ["importer_id"]  # a PrimaryKeyRelatedField: the id column
    for drf_reads in ("program_accounts", "days_left", "open_alerts"):
        assert plan[drf_reads] is None
    importer = {name: attrs for name, _field, attrs, _convert in ImporterSerializer()._read_plan}
    assert importer["assigned_agent"] == ["assigned_agent_id"]
    assert importer["program_accounts"] is None


def test_balance_checks_read_by_attributes_are_what_drf_writes(importer):
    account = importer.program_accounts.first()
    StatementFactory(program_account=account, statement_date=dt.date(2026, 9, 25))
    StatementFactory(
        program_account=account, opening_balance=5, closing_balance=7, stated_closing_balance=9
    )
    StatementFactory(program_account=importer.program_accounts.last())  # states nothing
    check_serializer = BalanceCheckSerializer()
    finding_serializer = BalanceFindingSerializer()
    findings = 0

    for statement in StatementViewSet.queryset:
        check = balances.check(statement)
        assert check_serializer.to_representation(check) == drf_answer(check_serializer, check)
        for finding in check.findings:
            findings += 1
            assert finding_serializer.to_representation(finding) == drf_answer(
                finding_serializer, finding
            )
    assert findings >= 3  # no previous statement, opening and closing differ, nothing stated
    mapping = {"code": "closing_differs", "message": "m", "is_exception": True}
    assert finding_serializer.to_representation(mapping) == drf_answer(finding_serializer, mapping)
    plan = {name: attrs for name, _field, attrs, _convert in check_serializer._read_plan}
    assert plan["ok"] == ["ok"]
    assert plan["previous_statement"] == ["previous_statement_id"]


def drf_answer(serializer: serializers.Serializer, row) -> dict:
    """What DRF's own ``Serializer.to_representation`` gives."""
    return serializers.Serializer.to_representation(serializer, row)


def test_rows_read_by_columns_are_what_drf_writes(importer, pmr, personas):
    run_delegation_checks(today=TODAY)
    DelegationFactory(importer=importer, recorded_by=UserFactory(), expiry_date=None)
    StatementFactory(program_account=importer.program_accounts.first(), stated_closing_balance=1)
    context = {"today": TODAY}
    cases = [
        (ImporterSerializer, ImporterViewSet.queryset),
        (DelegationSerializer, DelegationViewSet.queryset),
        (AlertSerializer, AlertSerializer.Meta.model.objects.all()),
        (OpenAlertSerializer, AlertSerializer.Meta.model.objects.all()),
        (StatementSerializer, StatementViewSet.queryset),
    ]

    for serializer_class, queryset in cases:
        serializer = serializer_class(context=context)
        rows = list(queryset)
        assert rows, serializer_class
        assert issubclass(serializer_class, ColumnReadMixin)
        for row in rows:
            assert serializer.to_representation(row) == drf_answer(serializer, row)
    # the null relation (recorded_by) goes to DRF's path, which answers None
    assert DelegationSerializer(pmr, context=context).data["recorded_by"] is None


# --- FieldTemplatesMixin ----------------------------------------------------------------------

FIELD_SETTINGS = [
    "field_name",
    "source",
    "source_attrs",
    "label",
    "help_text",
    "read_only",
    "write_only",
    "required",
    "allow_null",
    "default",
]


def describe(validators: list) -> list:
    """Validators by kind and settings (as text; a queryset by its SQL): DRF builds new ones
    each time."""
    return [
        (
            type(v),
            {
                key: str(value.all().query) if hasattr(value, "query") else str(value)
                for key, value in vars(v).items()
                if key != "_constructor_args"  # the same settings, held again
            },
        )
        for v in validators
    ]


def drf_fields(serializer_class: type[serializers.Serializer]) -> dict:
    """The fields DRF builds for ``serializer_class`` (its own ``get_fields``, every time)."""
    plain = type("Plain", (serializer_class,), {})
    plain.get_fields = serializers.ModelSerializer.get_fields  # type: ignore[method-assign]
    if not issubclass(serializer_class, serializers.ModelSerializer):
        plain.get_fields = serializers.Serializer.get_fields  # type: ignore[method-assign]
    return plain().fields


@pytest.mark.parametrize(
    "serializer_class",
    [ImporterSerializer, DelegationSerializer, OpenAlertSerializer, StatementSerializer],
)
def test_fields_are_built_once_per_class_and_copied_like_drfs(serializer_class):
    serializer_class().fields  # noqa: B018  # builds the templates, if not yet

    with mock.patch.object(
        serializers.ModelSerializer, "build_field", side_effect=AssertionError("built again")
    ):
        one, two = serializer_class().fields, serializer_class().fields

    expected = drf_fields(serializer_class)
    assert list(one) == list(two) == list(expected)
    for name, field in one.items():
        assert field is not two[name]
        assert type(field) is type(expected[name])
        for setting in FIELD_SETTINGS:
            assert getattr(field, setting) == getattr(expected[name], setting), (name, setting)
        assert describe(field.validators) == describe(expected[name].validators), name


def test_copied_fields_belong_to_their_own_serializer():
    one = DelegationSerializer(context={"today": TODAY})
    two = DelegationSerializer(context={"today": TODAY + dt.timedelta(days=1)})

    for serializer in (one, two):
        for field in serializer.fields.values():
            assert field.parent is serializer
        nested = serializer.fields["open_alerts"]
        assert nested.child.context["today"] == serializer.context["today"]
    assert one.fields["program_accounts"].child is not two.fields["program_accounts"].child


# --- ListFilterBackend ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filterset_class", "queryset"),
    [
        (ImporterFilter, ImporterViewSet.queryset),
        (DelegationFilter, DelegationViewSet.queryset),
        (StatementFilter, StatementViewSet.queryset),
    ],
)
def test_an_empty_query_string_filters_nothing(filterset_class, queryset):
    """What the backend skips: django-filter's own answer for no values is the queryset."""
    filterset = filterset_class(data=QueryDict(), queryset=queryset)

    assert filterset.is_valid()
    assert str(filterset.qs.query) == str(queryset.query)
    assert not any(f.extra.get("required") for f in filterset.filters.values())


@pytest.mark.parametrize("url", ["/api/v1/importers/", "/api/v1/delegations/"])
def test_a_list_builds_the_filter_set_only_when_asked_to_filter(api_as, personas, url):
    client = api_as("broker_admin")
    build = "django_filters.rest_framework.DjangoFilterBackend.get_filterset"

    with mock.patch(build, side_effect=AssertionError("built")):
        plain = client.get(url)
        first_page = client.get(url, {"page": 1})
    filtered = client.get(url, {"status": "active"})
    refused = client.get(url, {"status": "nonsense"})

    assert plain.status_code == first_page.status_code == filtered.status_code == 200
    assert plain.json() == first_page.json()
    assert refused.status_code == 400
    assert list(refused.json()) == ["status"]


# --- ShortFirstPagePaginator ------------------------------------------------------------------


def page_facts(paginator: Paginator, number) -> tuple:
    try:
        page = paginator.page(number)
    except (EmptyPage, PageNotAnInteger) as exc:
        return (type(exc).__name__, str(exc))
    return (
        [row.pk for row in page.object_list],
        paginator.count,
        paginator.num_pages,
        page.has_next(),
        page.has_previous(),
        page.start_index(),
        page.end_index(),
    )


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 4])
def test_the_short_first_page_paginator_answers_as_djangos(rows):
    ImporterFactory.create_batch(rows)
    importers = Importer.objects.order_by("pk")

    for number in (1, "1", 2, "2", 0, "x", 9):
        assert page_facts(ShortFirstPagePaginator(importers, 3), number) == page_facts(
            Paginator(importers, 3), number
        ), (rows, number)


@pytest.mark.parametrize(("rows", "queries"), [(0, 1), (2, 1), (3, 2), (4, 2)])
def test_a_short_first_page_is_not_counted(rows, queries):
    ImporterFactory.create_batch(rows)

    with CaptureQueriesContext(connection) as captured:
        page = ShortFirstPagePaginator(Importer.objects.order_by("pk"), 3).page(1)
        assert (len(page), page.paginator.count) == (min(rows, 3), rows)

    assert len(captured.captured_queries) == queries
    assert sum("COUNT(" in q["sql"] for q in captured.captured_queries) == queries - 1
