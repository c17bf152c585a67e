"""The compliance pages: who gets what (the seven personas against importer A), what they show."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from services.compliance.corrections import open_correction
from services.models import Correction
from tests.factories import BrokerEntryFactory, ImporterFactory, ProgramAccountFactory
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db

TXN = "12345000000017"
TODAY = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC)


def _correction(account, number=TXN):
    BrokerEntryFactory(
        program_account=account,
        transaction_number=number,
        release_date=dt.date(2026, 10, 1),
        accounted_on=dt.date(2026, 10, 2),
        amount=Decimal("100.00"),
    )
    return open_correction(
        importer=account.importer,
        program_account=account,
        transaction_number=number,
        reason=Correction.Reason.VALUE,
        reason_to_believe_on=dt.date(2026, 10, 20),
        amount_before=Decimal("100.00"),
        by=None,
        today=dt.date(2026, 11, 5),
    )


@pytest.fixture
def correction(personas):
    return _correction(personas.importer_a.program_accounts.get())


TABLE = [
    ("list", "get", (200, 200, 200, 200, 200, 200, 200)),  # a list: each sees only their own
    ("detail", "get", (200, 200, 200, 200, 200, 403, 404)),
    ("status", "post", (302, 302, 302, 403, 403, 403, 404)),
    ("create", "get", (200, 200, 200, 403, 403, 403, 404)),
    ("create", "post", (302, 302, 302, 403, 403, 403, 404)),
    ("importer", "get", (200, 200, 200, 200, 200, 403, 404)),
    ("late", "get", (200, 200, 200, 403, 403, 403, 403)),
]


def _url(name: str, correction: Correction) -> str:
    return {
        "list": reverse("compliance:correction_list"),
        "detail": reverse("compliance:correction_detail", args=[correction.pk]),
        "status": reverse("compliance:correction_status", args=[correction.pk]),
        "create": reverse("compliance:correction_create", args=[correction.importer_id]),
        "importer": reverse("compliance:importer", args=[correction.importer_id]),
        "late": reverse("compliance:late_accounting"),
    }[name]


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, correction, name, method, persona, expected
):
    client = client_for(personas.all()[persona])
    url = _url(name, correction)
    if method == "get":
        response = client.get(url)
    elif name == "status":
        response = client.post(url, {"status": "filed", "filed_version": "2"})
    else:
        response = client.post(
            url,
            {
                "program_account": personas.importer_a.program_accounts.get().pk,
                "transaction_number": "12345000000099",
                "reason": "origin",
                "reason_to_believe_on": "2026-11-01",
                "accounted_on": "2026-10-30",
            },
        )
    assert response.status_code == expected
    if name == "status":
        correction.refresh_from_db()
        assert correction.status == ("filed" if expected == 302 else "open")
    if name == "create" and method == "post":
        assert Correction.objects.filter(transaction_number="12345000000099").exists() == (
            expected == 302
        )


@time_machine.travel(TODAY, tick=False)
def test_the_list_shows_only_the_users_importers_in_a_fixed_number_of_queries(
    personas, client_for, django_assert_num_queries
):
    mine = _correction(personas.importer_a.program_accounts.get())
    other = _correction(personas.importer_b.program_accounts.get(), number="12345000000018")
    client = client_for(personas.bam_a)
    client.get(reverse("compliance:correction_list"))  # warm the session and user caches

    with django_assert_num_queries(9):
        response = client.get(reverse("compliance:correction_list"))
    for n in range(3):
        _correction(personas.importer_a.program_accounts.get(), number=f"1234500000010{n}")
    with django_assert_num_queries(9):
        client.get(reverse("compliance:correction_list"))

    assert [c.pk for c in response.context["corrections"]] == [mine.pk]
    assert other.transaction_number.encode() not in response.content


@time_machine.travel(TODAY, tick=False)
def test_the_detail_shows_the_free_correction_window(personas, client_for, correction):
    response = client_for(personas.broker_agent).get(correction.get_absolute_url())

    # accounted 2 October: the statement of 18 September - 17 October is due 30 October 2026
    assert b"has passed: the correction will be an adjustment" in response.content
    assert b"2026-10-30" in response.content
    assert b"2027-01-18" in response.content  # the deadline


@time_machine.travel(dt.datetime(2026, 10, 20, 15, 0, tzinfo=dt.UTC), tick=False)
def test_before_the_due_date_the_page_says_to_correct_before_it(personas, client_for):
    account = personas.importer_a.program_accounts.get()
    BrokerEntryFactory(
        program_account=account, transaction_number=TXN, accounted_on=dt.date(2026, 10, 2)
    )
    correction = open_correction(
        importer=account.importer,
        program_account=account,
        transaction_number=TXN,
        reason="origin",
        reason_to_believe_on=dt.date(2026, 10, 19),
        by=None,
    )

    response = client_for(personas.broker_agent).get(correction.get_absolute_url())

    assert b"Correct before the due date of 2026-10-30 to avoid an adjustment." in response.content


@time_machine.travel(TODAY, tick=False)
def test_the_form_refuses_a_reason_past_the_four_year_limit(personas, client_for):
    account = personas.importer_a.program_accounts.get()
    BrokerEntryFactory(
        program_account=account, transaction_number=TXN, accounted_on=dt.date(2022, 10, 1)
    )

    response = client_for(personas.broker_agent).post(
        reverse("compliance:correction_create", args=[account.importer_id]),
        {
            "program_account": account.pk,
            "transaction_number": TXN,
            "reason": "value",
            "reason_to_believe_on": "2026-11-02",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason_to_believe_on"] == [
        "The CAD was accounted on 2022-10-01: the obligation to correct ended four years "
        "later, on 2026-10-01."
    ]
    assert Correction.objects.count() == 0


@time_machine.travel(TODAY, tick=False)
def test_the_form_refuses_another_importers_program_account(personas, client_for):
    response = client_for(personas.broker_agent).post(
        reverse("compliance:correction_create", args=[personas.importer_a.pk]),
        {
            "program_account": personas.importer_b.program_accounts.get().pk,
            "transaction_number": TXN,
            "reason": "value",
            "reason_to_believe_on": "2026-11-02",
            "accounted_on": "2026-10-01",
        },
    )

    assert response.status_code == 200
    assert "program_account" in response.context["form"].errors
    assert Correction.objects.count() == 0


@time_machine.travel(TODAY, tick=False)
def test_the_importer_page_lists_late_cads_and_the_monthly_rate(personas, client_for):
    account = personas.importer_a.program_accounts.get()
    BrokerEntryFactory(
        program_account=account,
        transaction_number="12345000000050",
        release_date=dt.date(2026, 10, 1),
        accounted_on=dt.date(2026, 10, 15),
    )
    BrokerEntryFactory(
        program_account=account,
        release_date=dt.date(2026, 10, 1),
        accounted_on=dt.date(2026, 10, 2),
    )
    other = ProgramAccountFactory(importer=ImporterFactory())
    BrokerEntryFactory(
        program_account=other,
        transaction_number="12345000000051",
        release_date=dt.date(2026, 10, 1),
        accounted_on=dt.date(2026, 10, 20),
    )

    response = client_for(personas.finance_a).get(
        reverse("compliance:importer", args=[personas.importer_a.pk])
    )

    assert [e.transaction_number for e in response.context["late"]] == ["12345000000050"]
    assert [(r.total, r.late) for r in response.context["rates"]] == [(2, 1)]
    assert b"12345000000051" not in response.content
