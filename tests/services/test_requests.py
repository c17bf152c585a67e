"""Service requests: SOA retrieval through the statement importer, bond application to exactly one
financial security, help with replies; charges once; access per persona; tenancy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from payments.models import FinancialSecurity
from services import requests_flow as flow
from services.models import Charge, Fee, RequestStatus, ServiceRequest
from statements.models import Statement
from tests.factories import ProgramAccountFactory, StatementFactory, StatementLineFactory
from tests.kit import persona_cases
from tests.statements.conftest import ACCOUNT_A, csv_text, statement_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def fees():
    Fee.objects.create(service="soa_retrieval", amount=Decimal("35.00"))
    Fee.objects.create(service="bond_application", amount=Decimal("75.00"))
    Fee.objects.create(service="help", amount=Decimal("0.00"), active=False)


def _account(personas):
    return personas.importer_a.program_accounts.get()


def test_soa_retrieval_imports_the_statement_and_charges_once(personas, fees):
    account = ProgramAccountFactory(importer=personas.importer_a, bn15=ACCOUNT_A)
    req = flow.request_soa(
        importer=personas.importer_a, program_account=account, period="June 2025", by=personas.bam_a
    )
    flow.advance(request=req, to=RequestStatus.SENT, by=personas.broker_agent)
    upload = SimpleUploadedFile(
        "soa.csv", csv_text("statement", [statement_row()]).encode(), "text/csv"
    )

    flow.attach_statement(request=req, upload=upload, by=personas.broker_agent)

    req.refresh_from_db()
    assert req.status == RequestStatus.IMPORTED
    assert req.import_batch.status == "accepted"
    assert Statement.objects.filter(program_account=account).count() == 1
    again = SimpleUploadedFile(
        "soa.csv", csv_text("statement", [statement_row()]).encode(), "text/csv"
    )
    with pytest.raises(flow.RequestError):
        flow.attach_statement(request=req, upload=again, by=personas.broker_agent)
    charge = Charge.objects.get()
    assert (charge.amount, charge.request, charge.importer) == (
        Decimal("35.00"),
        req,
        personas.importer_a,
    )


def test_a_refused_file_leaves_the_request_received_and_uncharged(personas, fees):
    req = flow.request_soa(
        importer=personas.importer_a,
        program_account=_account(personas),
        period="x",
        by=personas.bam_a,
    )
    flow.advance(request=req, to=RequestStatus.SENT, by=personas.broker_agent)
    upload = SimpleUploadedFile("bad.csv", b"not,a,statement\n1,2,3\n", "text/csv")

    flow.attach_statement(request=req, upload=upload, by=personas.broker_agent)

    req.refresh_from_db()
    assert req.status == RequestStatus.RECEIVED
    assert Charge.objects.count() == 0


def test_status_path_is_enforced(personas):
    req = flow.request_soa(
        importer=personas.importer_a,
        program_account=_account(personas),
        period="x",
        by=personas.bam_a,
    )

    with pytest.raises(flow.RequestError):
        flow.advance(request=req, to=RequestStatus.RECEIVED, by=personas.broker_agent)
    assert (
        flow.advance(request=req, to=RequestStatus.SENT, by=personas.broker_agent).status == "sent"
    )
    assert (
        flow.advance(request=req, to=RequestStatus.SENT, by=personas.broker_agent).status == "sent"
    )


def test_a_program_account_of_another_importer_is_refused(personas):
    with pytest.raises(flow.RequestError):
        flow.request_soa(
            importer=personas.importer_a,
            program_account=personas.importer_b.program_accounts.get(),
            period="x",
            by=personas.bam_a,
        )


def test_bond_amount_is_proposed_from_the_required_security(personas):
    account = _account(personas)
    statement = StatementFactory(program_account=account, statement_date=dt.date(2026, 10, 25))
    StatementLineFactory(statement=statement, amount=Decimal("40000.00"))
    expected = flow.proposed_bond_amount(account)

    req = flow.request_bond(
        importer=personas.importer_a, program_account=account, by=personas.bam_a
    )

    assert req.bond_amount == expected
    assert req.status == RequestStatus.DRAFT


def test_bond_approval_creates_exactly_one_security(personas, fees):
    req = flow.request_bond(
        importer=personas.importer_a,
        program_account=_account(personas),
        by=personas.bam_a,
        amount=Decimal("25000.00"),
        surety_company="Northbridge Surety",
    )
    flow.advance(request=req, to=RequestStatus.SUBMITTED, by=personas.broker_agent)
    with pytest.raises(flow.RequestError):
        flow.advance(request=req, to=RequestStatus.APPROVED, by=personas.broker_agent)

    first = flow.approve_bond(
        request=req,
        by=personas.broker_agent,
        bond_number="B-1",
        effective_date=dt.date(2026, 12, 1),
        expiry_date=dt.date(2027, 12, 1),
    )
    second = flow.approve_bond(
        request=req,
        by=personas.broker_agent,
        bond_number="B-1",
        effective_date=dt.date(2026, 12, 1),
        expiry_date=dt.date(2027, 12, 1),
    )

    assert first == second
    security = FinancialSecurity.objects.get()
    assert (
        security.amount,
        security.kind,
        security.effective_date,
        security.expiry_date,
        security.status,
    ) == (
        Decimal("25000.00"),
        "surety_bond",
        dt.date(2026, 12, 1),
        dt.date(2027, 12, 1),
        "active",
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED
    assert Charge.objects.get().amount == Decimal("75.00")


def test_bond_needs_a_surety_before_submission(personas):
    req = flow.request_bond(
        importer=personas.importer_a,
        program_account=_account(personas),
        by=personas.bam_a,
        amount=Decimal("1"),
    )

    with pytest.raises(flow.RequestError):
        flow.advance(request=req, to=RequestStatus.SUBMITTED, by=personas.broker_agent)


def test_help_with_replies_then_closed(personas, fees):
    req = flow.request_help(
        importer=personas.importer_a, topic="delegation", message="How?", by=personas.bam_a
    )
    flow.reply(request=req, author=personas.broker_agent, body="Like this.")
    flow.advance(request=req, to=RequestStatus.CLOSED, by=personas.broker_agent)

    with pytest.raises(flow.RequestError):
        flow.reply(request=req, author=personas.bam_a, body="Thanks")
    assert req.replies.count() == 1
    assert Charge.objects.count() == 0  # the help fee is switched off


# --- Pages -----------------------------------------------------------------------------------------

TABLE = [
    ("services:request_create", "get", (200, 200, 403, 200, 403, 403, 404)),
    ("services:request_detail", "get", (200, 200, 200, 200, 200, 200, 404)),
    ("services:request_reply", "post", (302, 302, 403, 302, 403, 403, 404)),
    ("services:request_advance", "post", (302, 302, 403, 403, 403, 403, 404)),
    ("services:request_assign", "post", (302, 302, 403, 403, 403, 403, 404)),
    ("services:request_list", "get", (200, 200, 403, 403, 403, 403, 403)),
]


@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, name, method, persona, expected
):
    req = flow.request_help(
        importer=personas.importer_a, topic="payments", message="?", by=personas.bam_a
    )
    if name == "services:request_create":
        args = [personas.importer_a.pk, "help"]
    elif name == "services:request_list":
        args = []
    else:
        args = [req.pk]
    client = client_for(personas.all()[persona])

    response = getattr(client, method)(
        reverse(name, args=args), {"body": "hello", "to": "closed"} if method == "post" else None
    )

    assert response.status_code == expected


def test_request_through_the_page(personas, client_for):
    client = client_for(personas.bam_a)

    response = client.post(
        reverse("services:request_create", args=[personas.importer_a.pk, "soa_retrieval"]),
        {"program_account": _account(personas).pk, "period": "November 2026"},
    )

    req = ServiceRequest.objects.get()
    assert response["Location"] == req.get_absolute_url()
    assert (req.kind, req.status, req.created_by) == ("soa_retrieval", "requested", personas.bam_a)


def test_an_importer_cannot_name_another_importers_account(personas, client_for):
    client = client_for(personas.bam_a)

    response = client.post(
        reverse("services:request_create", args=[personas.importer_a.pk, "soa_retrieval"]),
        {"program_account": personas.importer_b.program_accounts.get().pk, "period": "x"},
    )

    assert response.status_code == 200
    assert ServiceRequest.objects.count() == 0


def test_unknown_kind_is_404(personas, client_for):
    response = client_for(personas.bam_a).get(
        reverse("services:request_create", args=[personas.importer_a.pk, "pizza"])
    )

    assert response.status_code == 404
