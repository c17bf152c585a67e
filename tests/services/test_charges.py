"""Charges and fees: an importer sees only its own charges, staff bill or waive them, the CSV
escapes formulas, admins alone edit the fee schedule, the list stays constant-query."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services.models import Charge, Fee
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db


def _charge(importer, description="SOA retrieval", amount="35.00", **kw):
    return Charge.objects.create(
        importer=importer,
        service="soa_retrieval",
        description=description,
        amount=Decimal(amount),
        **kw,
    )


TABLE = [
    ("services:charge_list", "get", (200, 200, 200, 200, 200, 403, 200)),
    ("services:charge_csv", "get", (200, 200, 200, 200, 200, 403, 200)),
    ("services:charge_status", "post", (302, 403, 302, 403, 403, 403, 403)),
    ("services:fee_schedule", "get", (200, 403, 403, 403, 403, 403, 403)),
]


@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, name, method, persona, expected
):
    charge = _charge(personas.importer_a)
    client = client_for(personas.all()[persona])

    response = getattr(client, method)(
        reverse(name), {"charge": charge.pk, "status": "billed"} if method == "post" else None
    )

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("persona", "seen"),
    [
        ("bam_a", {"Alpha charge"}),
        ("finance_a", {"Alpha charge"}),
        ("bam_b", {"Bravo charge"}),
        ("broker_finance", {"Alpha charge", "Bravo charge"}),
    ],
)
def test_an_importer_sees_only_its_own_charges(personas, client_for, persona, seen):
    _charge(personas.importer_a, "Alpha charge")
    _charge(personas.importer_b, "Bravo charge")
    client = client_for(personas.all()[persona])

    page = client.get(reverse("services:charge_list")).content.decode()
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("services:charge_csv")).content.decode()))
    )

    assert {d for d in ("Alpha charge", "Bravo charge") if d in page} == seen
    assert {r[3] for r in rows[1:]} == seen


def test_billing_marks_and_filters(personas, client_for):
    a = _charge(personas.importer_a, "First")
    b = _charge(personas.importer_a, "Second")
    client = client_for(personas.broker_finance)

    client.post(reverse("services:charge_status"), {"charge": [a.pk], "status": "billed"})

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status, a.status_changed_by) == (
        "billed",
        "to_bill",
        personas.broker_finance,
    )
    page = client.get(reverse("services:charge_list") + "?status=to_bill").content.decode()
    assert "Second" in page and "First" not in page


def test_csv_escapes_formulas_and_writes_two_places(personas, client_for):
    _charge(personas.importer_a, "=cmd|' /C calc'!A0", "12.5")

    response = client_for(personas.broker_finance).get(reverse("services:charge_csv"))

    row = list(csv.reader(io.StringIO(response.content.decode())))[1]
    assert row[3].startswith("'=")
    assert row[4] == "12.50"


def test_list_is_constant_query(personas, client_for):
    client = client_for(personas.broker_finance)
    _charge(personas.importer_a)
    client.get(reverse("services:charge_list"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("services:charge_list"))
    for _ in range(4):
        _charge(personas.importer_b)
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("services:charge_list"))

    assert len(five) == len(one)


def test_admin_edits_the_fee_schedule(personas, client_for):
    client = client_for(personas.broker_admin)
    client.get(reverse("services:fee_schedule"))
    fees = list(Fee.objects.order_by("service"))
    data = {"form-TOTAL_FORMS": len(fees), "form-INITIAL_FORMS": len(fees)}
    for n, fee in enumerate(fees):
        data |= {f"form-{n}-id": fee.pk, f"form-{n}-service": fee.service, f"form-{n}-amount": "0"}
    soa = next(n for n, f in enumerate(fees) if f.service == "soa_retrieval")
    data |= {f"form-{soa}-amount": "49.95", f"form-{soa}-active": "on"}

    response = client.post(reverse("services:fee_schedule"), data)

    assert response.status_code == 302
    fee = Fee.objects.get(service="soa_retrieval")
    assert (fee.amount, fee.active) == (Decimal("49.95"), True)
    assert Fee.objects.filter(active=True).count() == 1


def test_a_charge_reads_in_each_readers_language_whoever_made_it(personas, client_for):
    """A charge made by staff working in French is stored in English and shown to each reader in
    their own language (the page, the CSV); rows made before the parts were kept show as stored."""
    from django.utils import translation

    from services import requests_flow as flow
    from services.models import RequestStatus

    Fee.objects.create(service="help", amount=Decimal("40.00"))
    req = flow.request_help(
        importer=personas.importer_a, topic="portal", message="?", by=personas.bam_a
    )
    with translation.override("fr"):
        flow.advance(request=req, to=RequestStatus.CLOSED, by=personas.broker_agent)
    charge = Charge.objects.get(request=req)
    assert charge.description == "Help: Portal set-up"
    _charge(personas.importer_a, description="Old row, as stored")

    client = client_for(personas.bam_a)
    english = client.get(reverse("services:charge_list")).content.decode()
    assert "Help: Portal set-up" in english
    client.cookies["django_language"] = "fr"
    french = client.get(reverse("services:charge_list"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Aide : Configuration du portail" in french
    assert "Help: Portal set-up" not in french
    assert "Old row, as stored" in french
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("services:charge_csv")).content.decode()))
    )
    assert any("Aide : Configuration du portail" in row for row in rows)
