"""Editing, deactivating and reactivating a PAD bank account: the importer's BAM only, the number
still encrypted, every change in the history, the consequences said before deactivating."""

from __future__ import annotations

import pytest

from payments import crypto
from payments.models import BankAccount, Payment
from payments.records import save_bank_account
from tests.factories import PaymentFactory
from tests.kit import PERSONAS
from tests.payments.test_bank_accounts import raw_rows

pytestmark = pytest.mark.django_db

NUMBER = "001234567890"
NEW_NUMBER = "98765432"


@pytest.fixture
def bank_a(personas):
    return save_bank_account(
        bank_account=BankAccount(
            importer=personas.importer_a,
            label="Operating",
            holder_name="Alpha Imports Inc.",
            institution_number="003",
            transit_number="00012",
        ),
        account_number=NUMBER,
        by=personas.bam_a,
    )


def edit_url(account: BankAccount) -> str:
    return f"/payments/bank-accounts/{account.pk}/edit/"


def status_url(account: BankAccount, action: str) -> str:
    return f"/payments/bank-accounts/{account.pk}/{action}/"


def form_data(**changes: str) -> dict[str, str]:
    return {
        "label": "Operating",
        "holder_name": "Alpha Imports Inc.",
        "institution_number": "003",
        "transit_number": "00012",
        "account_number": "",
        "pad_agreement_on": "",
    } | changes


# --- Who may change what -------------------------------------------------------------------------

# As adding an account or revealing its number: broker staff see the importer but may never see
# the number, so a 403; the importer's finance member and employee a 403; another importer's BAM
# a 404.
CHANGE = dict.fromkeys(
    ("broker_admin", "broker_agent", "broker_finance", "finance_a", "employee_a"), 403
)
CHANGE |= {"bam_a": 200, "bam_b": 404}


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_bam_opens_the_change_pages(personas, client_for, bank_a, persona):
    inactive = save_bank_account(
        bank_account=BankAccount(
            importer=personas.importer_a,
            label="Old",
            holder_name="Alpha Imports Inc.",
            institution_number="003",
            transit_number="00012",
            status=BankAccount.Status.INACTIVE,
        ),
        account_number="5555512",
        by=personas.bam_a,
    )
    client = client_for(personas.all()[persona])

    responses = [
        client.get(edit_url(bank_a)),
        client.get(status_url(bank_a, "deactivate")),
        client.get(status_url(inactive, "reactivate")),
    ]

    assert [r.status_code for r in responses] == [CHANGE[persona]] * 3
    for response in responses:
        assert NUMBER not in response.content.decode()


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "bam_a"])
def test_nobody_else_changes_an_account_by_posting(personas, client_for, bank_a, persona):
    client = client_for(personas.all()[persona])

    edit = client.post(edit_url(bank_a), form_data(label="Hijacked", account_number="11111111"))
    deactivate = client.post(status_url(bank_a, "deactivate"))

    assert (edit.status_code, deactivate.status_code) == (CHANGE[persona], CHANGE[persona])
    bank_a.refresh_from_db()
    assert (bank_a.label, bank_a.status) == ("Operating", BankAccount.Status.ACTIVE)
    assert crypto.reveal_account_number(bank_a) == NUMBER


def test_the_detail_page_offers_the_changes_to_the_bam_only(personas, client_for, bank_a):
    bam_page = client_for(personas.bam_a).get(bank_a.get_absolute_url()).content.decode()
    broker_page = client_for(personas.broker_admin).get(bank_a.get_absolute_url()).content.decode()

    assert edit_url(bank_a) in bam_page and status_url(bank_a, "deactivate") in bam_page
    assert edit_url(bank_a) not in broker_page
    assert status_url(bank_a, "deactivate") not in broker_page


# --- Editing -------------------------------------------------------------------------------------


def test_the_edit_page_never_prints_the_number(personas, client_for, bank_a):
    response = client_for(personas.bam_a).get(edit_url(bank_a))

    page = response.content.decode()
    assert NUMBER not in page
    assert "•••• 7890" in page
    assert "no-store" in response["Cache-Control"]
    assert response.context["form"]["account_number"].value() in (None, "")


def test_editing_without_a_number_keeps_the_stored_one(personas, client_for, bank_a):
    token = bank_a.account_number_encrypted

    response = client_for(personas.bam_a).post(
        edit_url(bank_a), form_data(label="Main", transit_number="12-345")
    )

    assert response.status_code == 302
    bank_a.refresh_from_db()
    assert (bank_a.label, bank_a.transit_number) == ("Main", "12345")
    assert bank_a.account_number_encrypted == token
    assert crypto.reveal_account_number(bank_a) == NUMBER


def test_a_new_number_is_stored_encrypted_and_the_history_says_it_changed(
    personas, client_for, bank_a
):
    response = client_for(personas.bam_a).post(
        edit_url(bank_a), form_data(account_number="9876-5432")
    )

    assert response.status_code == 302
    bank_a.refresh_from_db()
    assert crypto.reveal_account_number(bank_a) == NEW_NUMBER
    assert bank_a.account_last_digits == "5432"
    for table in (BankAccount._meta.db_table, BankAccount.history.model._meta.db_table):
        assert NEW_NUMBER not in str(raw_rows(table))
    latest = bank_a.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Account number changed"
    assert latest.history_user == personas.bam_a
    assert bank_a.history.count() == 2  # created, then changed: the first record is kept

    page = client_for(personas.bam_a).get(bank_a.get_absolute_url()).content.decode()
    assert "Account number changed" in page
    assert NEW_NUMBER not in page


def test_the_same_number_typed_again_is_no_change(personas, client_for, bank_a):
    client_for(personas.bam_a).post(edit_url(bank_a), form_data(account_number="0012-3456 7890"))

    latest = bank_a.history.order_by("-history_id").first()
    assert not latest.history_change_reason


def test_a_wrong_form_shows_what_was_typed(personas, client_for, bank_a):
    response = client_for(personas.bam_a).post(
        edit_url(bank_a),
        form_data(label="Payroll", institution_number="4", account_number="12"),
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["institution_number"] == ["An institution number is 3 digits, e.g. 001."]
    assert form.errors["account_number"] == ["An account number is 5 to 12 digits."]
    page = response.content.decode()
    assert 'value="Payroll"' in page and 'value="4"' in page and 'value="12"' in page
    # The page's headings keep the saved account, not what was typed.
    assert "<h1>Edit the bank account" in page
    bank_a.refresh_from_db()
    assert (bank_a.label, bank_a.institution_number) == ("Operating", "003")


# --- Deactivating and reactivating ---------------------------------------------------------------


def test_deactivating_says_what_happens_to_debits_in_transit(personas, client_for, bank_a):
    account = personas.importer_a.program_accounts.get()
    for amount in ("100.00", "250.50"):
        PaymentFactory(
            program_account=account, amount=amount, method=Payment.Method.PAD, bank_account=bank_a
        )
    PaymentFactory(
        program_account=account,
        amount="75.00",
        method=Payment.Method.PAD,
        bank_account=bank_a,
        status=Payment.Status.CLEARED,
    )

    response = client_for(personas.bam_a).get(status_url(bank_a, "deactivate"))

    consequences = response.context["consequences"]
    assert (consequences.in_transit_count, str(consequences.in_transit_total)) == (2, "350.50")
    assert (consequences.payments_count, consequences.other_active) == (3, 0)
    page = response.content.decode()
    assert "2 pre-authorized debits totalling $350.50 from this account are still in transit." in (
        page
    )
    assert "does not stop a debit already made" in page
    assert "only active bank account" in page


def test_deactivating_without_debits_in_transit_says_less(personas, client_for, bank_a):
    save_bank_account(
        bank_account=BankAccount(
            importer=personas.importer_a,
            holder_name="Alpha Imports Inc.",
            institution_number="004",
            transit_number="00099",
        ),
        account_number="7777777",
        by=personas.bam_a,
    )

    page = client_for(personas.bam_a).get(status_url(bank_a, "deactivate")).content.decode()

    assert "still in transit" not in page
    assert "only active bank account" not in page


def test_deactivate_then_reactivate_keeps_the_history(personas, client_for, bank_a):
    client = client_for(personas.bam_a)

    off = client.post(status_url(bank_a, "deactivate"))
    bank_a.refresh_from_db()
    assert (off.status_code, bank_a.status) == (302, BankAccount.Status.INACTIVE)
    detail = client.get(bank_a.get_absolute_url()).content.decode()
    assert status_url(bank_a, "reactivate") in detail

    on = client.post(status_url(bank_a, "reactivate"))
    bank_a.refresh_from_db()
    assert (on.status_code, bank_a.status) == (302, BankAccount.Status.ACTIVE)

    reasons = list(
        bank_a.history.order_by("history_id").values_list(
            "history_change_reason", "status", "history_user"
        )
    )
    assert reasons == [
        (None, "active", personas.bam_a.pk),
        ("Deactivated", "inactive", personas.bam_a.pk),
        ("Reactivated", "active", personas.bam_a.pk),
    ]
    assert crypto.reveal_account_number(bank_a) == NUMBER


def test_a_deactivated_account_is_not_offered_for_new_payments(personas, client_for, bank_a):
    client = client_for(personas.bam_a)
    client.post(status_url(bank_a, "deactivate"))

    form = client.get(f"/payments/new/{personas.importer_a.pk}/").context["form"]

    assert list(form.fields["bank_account"].queryset) == []


def test_deactivating_twice_changes_nothing(personas, client_for, bank_a):
    client = client_for(personas.bam_a)
    client.post(status_url(bank_a, "deactivate"))

    again = client.post(status_url(bank_a, "deactivate"), follow=True)

    assert again.redirect_chain == [(bank_a.get_absolute_url(), 302)]
    assert "already no longer used" in again.content.decode()
    assert bank_a.history.count() == 2
