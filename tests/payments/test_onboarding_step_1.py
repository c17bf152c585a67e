"""Checklist step 1 (financial security) follows the security records."""

import datetime as dt

import pytest

from clients.models import OnboardingStep, ProgramAccount
from clients.onboarding import is_derived, set_step_status
from payments.checklist import derive_financial_security
from payments.rules import SecurityFacts
from tests.factories import (
    FinancialSecurityFactory,
    ImporterFactory,
    ProgramAccountFactory,
    UserFactory,
)
from tests.payments.conftest import D

Step, Status = OnboardingStep.Step, OnboardingStep.Status
TODAY = dt.date(2026, 11, 23)
ACCOUNTS = {1: "123456782RM0001", 2: "123456782RM0002"}


def bond(
    n=1, account=1, status="active", start=dt.date(2026, 1, 1), end=dt.date(2027, 6, 30), **kw
):
    values = {
        "id": n,
        "program_account_id": account,
        "kind": "surety_bond",
        "amount": D("5000.00"),
        "status": status,
        "effective_date": start,
        "expiry_date": end,
        "surety_company": "Trisura",
        "bond_number": f"TB-{n}",
    }
    values.update(kw)
    return SecurityFacts(**values)


@pytest.mark.parametrize(
    ("securities", "status", "summary"),
    [
        ([], Status.NOT_STARTED, "No surety bond or cash deposit recorded yet."),
        (
            [bond(1, 1), bond(2, 2)],
            Status.DONE,
            "Security in force on every RM account (2 records).",
        ),
        ([bond(1, 1)], Status.IN_PROGRESS, "No security in force yet on 123456782RM0002."),
        (
            [bond(1, 1, status="pending", start=None)],
            Status.IN_PROGRESS,
            "Security submitted (Trisura); waiting for CBSA to accept it.",
        ),
        (
            [bond(1, 1, status="expired", end=dt.date(2026, 10, 31))],
            Status.IN_PROGRESS,
            "The security expired on 2026-10-31: post a new bond or cash deposit.",
        ),
        (
            [bond(1, 1, start=dt.date(2026, 12, 1))],
            Status.NOT_STARTED,
            "No surety bond or cash deposit recorded yet.",
        ),
    ],
)
def test_the_derivation(securities, status, summary):
    derivation = derive_financial_security(securities, ACCOUNTS, TODAY)

    assert (derivation.status, derivation.summary) == (status, summary)


def test_a_single_cash_deposit_says_so():
    cash = bond(kind="cash_deposit", end=None, surety_company="", bond_number="")

    derivation = derive_financial_security([cash], {1: ACCOUNTS[1]}, TODAY)

    assert (derivation.status, derivation.summary) == (
        Status.DONE,
        "Cash deposit of $5,000.00, in force.",
    )


@pytest.mark.django_db
def test_step_1_follows_the_records_and_cannot_be_ticked_by_hand():
    importer = ImporterFactory()
    account = ProgramAccountFactory(importer=importer)
    assert is_derived(Step.FINANCIAL_SECURITY)

    with pytest.raises(ValueError, match="Step 1 follows the importer's records"):
        set_step_status(
            importer=importer, step=Step.FINANCIAL_SECURITY, status=Status.DONE, by=UserFactory()
        )

    security = FinancialSecurityFactory(
        program_account=account, status="pending", effective_date=None
    )
    step = importer.onboarding_steps.get(step=Step.FINANCIAL_SECURITY)
    assert (step.status, step.derived) == (Status.IN_PROGRESS, True)

    security.status, security.effective_date = "active", dt.date(2026, 11, 2)
    security.save()
    step.refresh_from_db()
    assert step.status == Status.DONE

    ProgramAccountFactory(
        importer=importer, status=ProgramAccount.Status.ACTIVE
    )  # a new RM account
    step.refresh_from_db()
    assert step.status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_a_person_may_still_block_step_1():
    importer = ImporterFactory()
    FinancialSecurityFactory(program_account=ProgramAccountFactory(importer=importer))

    row = set_step_status(
        importer=importer,
        step=Step.FINANCIAL_SECURITY,
        status=Status.BLOCKED,
        note="Waiting on the surety.",
        by=UserFactory(),
    )

    assert (row.status, row.summary) == (Status.BLOCKED, "Waiting on the surety.")
