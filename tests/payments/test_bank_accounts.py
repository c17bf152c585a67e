"""PAD bank accounts: encrypted at rest, masked for everyone, in full for the importer's BAM only."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from payments import crypto
from payments.models import BankAccount
from payments.records import save_bank_account
from tests.kit import PERSONAS
from tests.mfa import give_totp
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

NUMBER = "001234567890"


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
        account_number="0012-3456 7890",
        by=personas.bam_a,
    )


def raw_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return cursor.fetchall()


def test_the_database_never_holds_the_plain_number(bank_a):
    for table in (BankAccount._meta.db_table, BankAccount.history.model._meta.db_table):
        rows = raw_rows(table)
        assert rows
        assert not any(NUMBER in str(value) for row in rows for value in row)

    token = BankAccount.objects.values_list("account_number_encrypted", flat=True).get()
    assert token.startswith("gAAAAA")  # a Fernet token
    assert crypto.decrypt(token) == NUMBER
    assert (bank_a.account_last_digits, bank_a.masked_number) == ("7890", "•••• 7890")


def test_the_history_never_holds_the_token_either(bank_a):
    fields = {f.name for f in BankAccount.history.model._meta.fields}
    assert "account_number_encrypted" not in fields


def test_a_bad_number_is_refused():
    with pytest.raises(ValueError, match="5 to 12 digits"):
        crypto.normalize_account_number("12-34")


def test_keys_rotate(bank_a, settings):
    old_key = settings.PAYMENTS_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.PAYMENTS_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()

    call_command("rotate_bank_keys", stdout=out)

    settings.PAYMENTS_ENCRYPTION_KEYS = [new_key]
    bank_a.refresh_from_db()
    assert crypto.reveal_account_number(bank_a) == NUMBER
    assert out.getvalue() == "1 bank account number(s) re-encrypted with the newest key.\n"


def test_an_unreadable_token_says_so(bank_a, settings):
    settings.PAYMENTS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.UnreadableToken):
        crypto.reveal_account_number(bank_a)


def test_production_refuses_to_start_without_a_key():
    result = run_manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY="x" * 64,
        ALLOWED_HOSTS="carm.example.com",
        PAYMENTS_ENCRYPTION_KEYS="",
    )

    assert result.returncode != 0
    assert "DJANGO_ENV=production needs PAYMENTS_ENCRYPTION_KEYS" in result.stderr


# --- Who sees what -------------------------------------------------------------------------------

PAGE = {"broker_admin": 200, "broker_agent": 200, "broker_finance": 200, "bam_a": 200}
PAGE |= {"finance_a": 200}
PAGE |= {"employee_a": 403, "bam_b": 404}
REVEAL = dict.fromkeys(
    ("broker_admin", "broker_agent", "broker_finance", "finance_a", "employee_a"), 403
)
REVEAL |= {"bam_a": 200, "bam_b": 404}
CREATE = REVEAL


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_pages_show_the_full_number_to_the_bam_only(personas, client_for, bank_a, persona):
    give_totp(personas.bam_a)  # a BAM reveals with two-factor authentication (test_two_factor.py)
    client = client_for(personas.all()[persona])

    listing = client.get(f"/payments/bank-accounts/importer/{personas.importer_a.pk}/")
    detail = client.get(bank_a.get_absolute_url())
    reveal = client.post(f"/payments/bank-accounts/{bank_a.pk}/reveal/")
    create = client.get(f"/payments/bank-accounts/new/{personas.importer_a.pk}/")

    assert (listing.status_code, detail.status_code) == (PAGE[persona], PAGE[persona])
    assert reveal.status_code == REVEAL[persona]
    assert create.status_code == CREATE[persona]
    for response in (listing, detail):
        assert NUMBER not in response.content.decode()
        if response.status_code == 200:
            assert "•••• 7890" in response.content.decode()
    assert (NUMBER in reveal.content.decode()) is (persona == "bam_a")
    if reveal.status_code == 200:
        assert (
            reveal["Cache-Control"].startswith("max-age=0") or "no-store" in reveal["Cache-Control"]
        )


def test_reveal_refuses_get(personas, client_for, bank_a):
    response = client_for(personas.bam_a).get(f"/payments/bank-accounts/{bank_a.pk}/reveal/")
    assert response.status_code == 405


def test_the_bam_adds_an_account_and_only_the_token_is_stored(personas, client_for):
    response = client_for(personas.bam_a).post(
        f"/payments/bank-accounts/new/{personas.importer_a.pk}/",
        {
            "label": "Payroll",
            "holder_name": "Alpha Imports Inc.",
            "institution_number": "004",
            "transit_number": "12-345",
            "account_number": "5555 1234",
        },
    )

    account = BankAccount.objects.get()
    assert response.status_code == 302
    assert (account.transit_number, account.account_last_digits) == ("12345", "1234")
    assert "55551234" not in str(raw_rows(BankAccount._meta.db_table))
    assert crypto.reveal_account_number(account) == "55551234"


def test_a_bad_transit_number_is_shown_under_its_field(personas, client_for):
    response = client_for(personas.bam_a).post(
        f"/payments/bank-accounts/new/{personas.importer_a.pk}/",
        {
            "holder_name": "A",
            "institution_number": "4",
            "transit_number": "1",
            "account_number": "1",
        },
    )

    errors = response.context["form"].errors
    assert errors["institution_number"] == ["An institution number is 3 digits, e.g. 001."]
    assert errors["transit_number"] == ["A transit (branch) number is 5 digits."]
    assert errors["account_number"] == ["An account number is 5 to 12 digits."]
    assert BankAccount.objects.count() == 0


API_LIST = dict.fromkeys(PERSONAS, 200) | {"employee_a": 200}  # lists are scoped, never a 403
API_DETAIL = PAGE


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_lists_and_gets_masked_numbers_only(api_as, bank_a, persona):
    """Even the BAM's list and get hold no full number: a GET is no silent mass reveal (the
    number comes from POST /reveal/, audited: test_bank_account_reveals.py)."""
    api = api_as(persona)

    listing = api.get("/api/v1/bank-accounts/")
    detail = api.get(f"/api/v1/bank-accounts/{bank_a.pk}/")

    assert listing.status_code == API_LIST[persona]
    assert detail.status_code == API_DETAIL[persona]
    rows = listing.json()["results"]
    if persona in ("employee_a", "bam_b"):
        assert rows == []
    else:
        assert [r["account_number_masked"] for r in rows] == ["•••• 7890"]
        assert "account_number" not in rows[0]
        assert "account_number" not in detail.json()
    assert NUMBER not in listing.content.decode()
    assert NUMBER not in detail.content.decode()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("bam_a", 201),
        ("broker_admin", 403),
        ("broker_finance", 403),
        ("finance_a", 403),
        ("employee_a", 403),
        ("bam_b", 400),
    ],
)
def test_only_the_bam_adds_an_account_by_api(api_as, personas, persona, expected):
    api = api_as(persona)

    response = api.post(
        "/api/v1/bank-accounts/",
        {
            "importer": personas.importer_a.pk,
            "holder_name": "Alpha Imports Inc.",
            "institution_number": "003",
            "transit_number": "00012",
            "account_number": "7654321",
        },
        format="json",
    )

    assert response.status_code == expected, response.content
    if expected == 201:
        assert "account_number" not in response.json()  # written, never echoed
        assert "7654321" not in response.content.decode()
        assert response.json()["account_number_masked"] == "•••• 4321"
        assert "7654321" not in str(raw_rows(BankAccount._meta.db_table))
