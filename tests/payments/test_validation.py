"""The credit card limit per billing cycle per program account, and the other payment rules."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from payments.validation import credit_card_room, validate_payment
from tests.factories import BankAccountFactory, PaymentFactory, ProgramAccountFactory
from tests.payments.conftest import D

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def account(personas):
    return personas.importer_a.program_accounts.get()


def check(account, amount, *, method="credit_card", paid_on=dt.date(2026, 11, 20), **kw):
    kw.setdefault("manual", False)
    kw.setdefault("bank_account", None)
    return validate_payment(
        importer=account.importer,
        program_account=account,
        amount=D(amount),
        method=method,
        paid_on=paid_on,
        today=TODAY,
        **kw,
    )


def room(account, paid_on=dt.date(2026, 11, 20)) -> tuple:
    return credit_card_room(program_account=account, paid_on=paid_on)


def test_up_to_4999_99_per_cycle_is_accepted(account):
    assert room(account) == (D("0.00"), D("4999.99"))
    assert check(account, "4999.99") is None  # accepted: a refusal raises ValidationError
    PaymentFactory(
        program_account=account,
        method="credit_card",
        amount=D("4999.98"),
        paid_on=dt.date(2026, 11, 18),
    )
    assert room(account) == (D("4999.98"), D("0.01"))
    assert check(account, "0.01") is None


def test_one_cent_over_the_cycle_limit_is_refused(account):
    PaymentFactory(
        program_account=account,
        method="credit_card",
        amount=D("4999.98"),
        paid_on=dt.date(2026, 11, 18),
    )

    with pytest.raises(ValidationError) as refused:
        check(account, "0.02")

    assert "at most $0.01 more can be" in refused.value.message_dict["amount"][0]


def test_the_limit_is_per_billing_cycle(account):
    PaymentFactory(
        program_account=account,
        method="credit_card",
        amount=D("4999.99"),
        paid_on=dt.date(2026, 11, 17),
    )

    check(account, "4999.99", paid_on=dt.date(2026, 11, 18))  # the next cycle starts on the 18th
    assert credit_card_room(program_account=account, paid_on=dt.date(2026, 11, 17)) == (
        D("4999.99"),
        D("0.00"),
    )


def test_the_limit_is_per_program_account_and_ignores_returned_and_other_methods(account):
    other = ProgramAccountFactory(importer=account.importer)
    PaymentFactory(program_account=other, method="credit_card", amount=D("4999.99"))
    PaymentFactory(
        program_account=account, method="credit_card", amount=D("4999.99"), status="returned"
    )
    PaymentFactory(program_account=account, method="debit_card", amount=D("9000.00"))

    assert room(account) == (D("0.00"), D("4999.99"))
    assert check(account, "4999.99") is None  # accepted: a refusal raises ValidationError


def test_every_rule_broken_is_named_at_once(account, personas):
    other_account = personas.importer_b.program_accounts.get()
    bank = BankAccountFactory(importer=personas.importer_b)

    with pytest.raises(ValidationError) as refused:
        validate_payment(
            importer=personas.importer_a,
            program_account=other_account,
            amount=D("0.00"),
            method="online_banking",
            paid_on=TODAY + dt.timedelta(days=1),
            bank_account=bank,
            manual=False,
            today=TODAY,
        )

    assert refused.value.message_dict == {
        "program_account": [f"{other_account.bn15} is not a program account of this importer."],
        "amount": ["Enter an amount greater than zero."],
        "paid_on": ["A payment cannot be dated in the future: record it once it is made."],
        "bank_account": [
            "A bank account goes with a pre-authorized debit only.",
            "This bank account is not the importer's.",
        ],
    }
