"""Demo payments and securities: every stage's step 1, the payment cases, idempotent."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from clients.models import Importer, OnboardingStep
from payments.models import (
    BankAccount,
    FinancialSecurity,
    InterestRate,
    Payment,
    PaymentAlert,
    PaymentAllocation,
)
from tests.payments.conftest import TODAY

pytestmark = pytest.mark.django_db
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seeded once for the module, on the payments tests' fixed day (``conftest.TODAY``): the
    tests run on that day too (an autouse fixture), and the demo's dates are relative to it."""
    with (
        time_machine.travel(dt.datetime.combine(TODAY, dt.time(15), tzinfo=dt.UTC)),
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def snapshot():
    models = [
        FinancialSecurity,
        InterestRate,
        Payment,
        PaymentAllocation,
        PaymentAlert,
        BankAccount,
    ]
    return {
        "rows": {
            m.__name__: list(m.objects.order_by("pk").values_list("pk", flat=True)) for m in models
        },
        "history": {m.__name__: m.history.count() for m in models},
        "steps": list(OnboardingStep.objects.order_by("pk").values_list("pk", "updated_at")),
    }


def test_step_1_follows_the_demo_securities(seeded):
    def step_1(name):
        return OnboardingStep.objects.get(importer__legal_name=name, step=1)

    assert step_1("Okanagan Orchard Equipment Ltd.").status == OnboardingStep.Status.DONE
    assert step_1("Petitcodiac Home Furnishings Ltd.").status == OnboardingStep.Status.IN_PROGRESS
    assert step_1("Bow River Oilfield Supply Ltd.").status == OnboardingStep.Status.BLOCKED
    assert step_1("Tsawwassen Logistics Supply Inc.").status == OnboardingStep.Status.NOT_STARTED
    for importer in Importer.objects.filter(
        legal_name__in=["Rideau Office Interiors Inc.", "Hamilton Steelworks Trading Corp."]
    ):
        assert step_1(importer.legal_name).status == OnboardingStep.Status.DONE


def test_the_payment_cases_are_there(seeded):
    methods = set(Payment.objects.values_list("method", "source"))

    assert {
        ("pad", "recorded"),
        ("credit_card", "recorded"),
        ("broker", "recorded"),
        ("online_banking", "recorded"),
        ("unknown", "statement"),
    } <= methods
    assert BankAccount.objects.get().importer.legal_name == "Rideau Office Interiors Inc."
    assert PaymentAlert.objects.filter(kind="bond_expiring", resolved_at=None).exists()
    assert InterestRate.objects.count() == 5


def test_seeding_again_changes_nothing(seeded):
    before = snapshot()

    call_command("seed_demo", stdout=StringIO())

    assert snapshot() == before
