"""Every showing of a full bank account number is audited and told to the importer's other BAMs.

The page's "Show the full number" and ``POST /api/v1/bank-accounts/{id}/reveal/`` both go through
``payments.reveals.reveal``: one ``BankAccountReveal`` row per reveal, and on commit one email to
each other active BAM of the importer, in that BAM's own language. A refused reveal writes and
sends nothing; a mail server failure loses no audit row.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation
from rest_framework.test import APIClient

from clients.models import Membership
from payments import reveals
from payments.models import BankAccount, BankAccountReveal
from payments.records import save_bank_account
from tests.factories import MembershipFactory, UserFactory
from tests.mfa import give_totp

pytestmark = pytest.mark.django_db

NUMBER = "001234567890"
NOW = dt.datetime(2026, 11, 23, 15, tzinfo=dt.UTC)  # conftest's frozen time: 10:00 Eastern


@pytest.fixture(autouse=True)
def back_to_english():
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _bams_use_two_factor(personas):
    """A BAM reveals a number only with two-factor authentication (test_two_factor.py: without)."""
    for bam in (personas.bam_a, personas.bam_b):
        give_totp(bam)


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


@pytest.fixture
def people(personas):
    """Importer A's other people: two more BAMs (one French) and a BAM whose account is disabled;
    ``personas`` has its finance member, its employee, B's BAM and the broker staff."""
    french = UserFactory(
        email="bam.fr@alpha.example.com", full_name="Élise Roy", language="fr", mfa=True
    )
    english = UserFactory(
        email="bam.en@alpha.example.com", full_name="Ed Park", language="en", mfa=True
    )
    gone = UserFactory(email="gone@alpha.example.com", is_active=False)
    MembershipFactory(user=french, importer=personas.importer_a, role=Membership.Role.BAM)
    MembershipFactory(user=english, importer=personas.importer_a, role=Membership.Role.BAM)
    MembershipFactory(user=gone, importer=personas.importer_a, role=Membership.Role.BAM)
    return {"bam_fr": french, "bam_en": english, "finance_a": personas.finance_a}


def page_reveal(client, account):
    return client.post(f"/payments/bank-accounts/{account.pk}/reveal/")


def api_reveal(user, account):
    api = APIClient()
    api.force_login(user)
    return api.post(f"/api/v1/bank-accounts/{account.pk}/reveal/")


def sent_to() -> list[list[str]]:
    return sorted(message.to for message in mail.outbox)


def assert_told_to_the_other_bams(personas, account, how_en: str, how_fr: str) -> None:
    """One email each to the French and the English BAM, none to anyone else, each in its
    reader's language, naming who, which account (masked), when (Eastern) and how."""
    assert sent_to() == [["bam.en@alpha.example.com"], ["bam.fr@alpha.example.com"]]
    by_address = {message.to[0]: message for message in mail.outbox}
    who = personas.bam_a.get_full_name()
    english = by_address["bam.en@alpha.example.com"]
    french = by_address["bam.fr@alpha.example.com"]

    assert english.subject == f"{who} saw a full bank account number of Alpha Imports Inc."
    assert f"{who} (bam@alpha.example.com) was shown the full number" in english.body
    assert "Account: Operating •••• 7890 (institution 003, transit 00012)" in english.body
    assert "When: 2026-11-23 10:00 (Eastern time)" in english.body
    assert f"How: {how_en}" in english.body
    assert f"/payments/bank-accounts/{account.pk}/" in english.body
    assert '<html lang="en"' in english.alternatives[0][0]

    assert french.subject == f"Alpha Imports Inc. : {who} a vu un numéro de compte bancaire complet"
    assert f"{who} (bam@alpha.example.com) a vu le numéro complet" in french.body
    assert "Compte : Operating •••• 7890 (institution 003, transit 00012)" in french.body
    assert "Quand : 2026-11-23 10:00 (heure de l'Est)" in french.body
    assert f"Comment : {how_fr}" in french.body
    assert '<html lang="fr"' in french.alternatives[0][0]

    for message in mail.outbox:  # the number itself is never mailed
        assert NUMBER not in message.body
        assert NUMBER not in message.alternatives[0][0]


# --- A reveal is recorded and told ---------------------------------------------------------------


def test_a_reveal_on_the_page_is_recorded_once_and_told_to_each_other_bam(
    personas, people, bank_a, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = page_reveal(client_for(personas.bam_a), bank_a)

    assert response.status_code == 200
    assert f'<span class="mono" id="full-number">{NUMBER}</span>' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    [row] = BankAccountReveal.objects.values(
        "bank_account", "user", "user_email", "revealed_at", "channel", "ip"
    )
    assert NOW <= row.pop("revealed_at") < NOW + dt.timedelta(seconds=30)
    assert row == {
        "bank_account": bank_a.pk,
        "user": personas.bam_a.pk,
        "user_email": "bam@alpha.example.com",
        "channel": "page",
        "ip": "127.0.0.1",
    }
    assert_told_to_the_other_bams(
        personas, bank_a, "On the bank account page", "Sur la page du compte bancaire"
    )


def test_a_reveal_through_the_api_is_recorded_once_and_told_to_each_other_bam(
    personas, people, bank_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_reveal(personas.bam_a, bank_a)

    assert response.status_code == 200
    assert response.json() == {"account_number": NUMBER}
    assert response["Cache-Control"] == "no-store"
    [row] = BankAccountReveal.objects.values("bank_account", "user", "channel", "ip")
    assert row == {
        "bank_account": bank_a.pk,
        "user": personas.bam_a.pk,
        "channel": "api",
        "ip": "127.0.0.1",
    }
    assert_told_to_the_other_bams(personas, bank_a, "Through the API", "Par l'API")


def test_a_sole_bam_revealing_tells_nobody_but_is_recorded(
    personas, bank_a, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = page_reveal(client_for(personas.bam_a), bank_a)

    assert response.status_code == 200
    assert BankAccountReveal.objects.count() == 1
    assert mail.outbox == []  # the revealer, the employee and B's BAM are never told


def test_each_reveal_is_its_own_row(personas, people, bank_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert api_reveal(personas.bam_a, bank_a).status_code == 200
        assert api_reveal(people["bam_fr"], bank_a).status_code == 200

    assert list(BankAccountReveal.objects.values_list("user_email", flat=True)) == [
        "bam.fr@alpha.example.com",  # newest first (same instant: the later id)
        "bam@alpha.example.com",
    ]
    # The French BAM's reveal tells A's first BAM and the English one, not the French one.
    assert [m.to for m in mail.outbox[2:]] == [
        ["bam.en@alpha.example.com"],
        ["bam@alpha.example.com"],
    ]


# --- A refused reveal writes and sends nothing ---------------------------------------------------

REFUSED = {
    "broker_admin": 403,
    "broker_agent": 403,
    "broker_finance": 403,
    "employee_a": 403,
    "finance_a": 403,
    "bam_b": 404,
}


@pytest.mark.parametrize(("persona", "status"), REFUSED.items())
def test_a_refused_reveal_writes_nothing_and_sends_nothing(
    personas, people, bank_a, client_for, django_capture_on_commit_callbacks, persona, status
):
    user = (personas.all() | people)[persona]

    with django_capture_on_commit_callbacks(execute=True):
        page = page_reveal(client_for(user), bank_a)
        api = api_reveal(user, bank_a)

    assert (page.status_code, api.status_code) == (status, status)
    assert NUMBER not in page.content.decode()
    assert NUMBER not in api.content.decode()
    assert BankAccountReveal.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize("persona", ["broker_admin", "broker_agent", "employee_a", "bam_b"])
def test_the_domain_function_refuses_without_the_permission(personas, bank_a, persona):
    """The check is in ``reveal`` itself, not only in the views in front of it."""
    with pytest.raises(PermissionDenied):
        reveals.reveal(
            bank_account=bank_a, user=personas.all()[persona], channel=reveals.Channel.API
        )

    assert BankAccountReveal.objects.count() == 0


def test_an_anonymous_reveal_is_refused(bank_a, client):
    page = client.post(f"/payments/bank-accounts/{bank_a.pk}/reveal/")
    api = APIClient().post(f"/api/v1/bank-accounts/{bank_a.pk}/reveal/")

    assert page.status_code == 302  # to the sign-in page
    assert api.status_code == 401
    assert BankAccountReveal.objects.count() == 0


def test_the_api_reveal_is_a_post(personas, bank_a):
    api = APIClient()
    api.force_login(personas.bam_a)

    assert api.get(f"/api/v1/bank-accounts/{bank_a.pk}/reveal/").status_code == 405
    assert BankAccountReveal.objects.count() == 0


# --- Mail failure ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_audit_row_survives_a_mail_server_failure(personas, people, bank_a, settings, caplog):
    """A real commit (no test transaction around it): the emails fail after it, the row stays and
    the BAM still gets the number; the failure is logged per recipient."""
    settings.EMAIL_BACKEND = "tests.delegation.failing_backend.EmailBackend"
    api = APIClient()
    api.force_login(personas.bam_a)

    with caplog.at_level(logging.ERROR, logger="payments.reveals"):
        response = api.post(f"/api/v1/bank-accounts/{bank_a.pk}/reveal/")

    assert response.status_code == 200
    assert response.json() == {"account_number": NUMBER}
    assert (
        BankAccountReveal.objects.filter(
            bank_account=bank_a, user=personas.bam_a, channel="api"
        ).count()
        == 1
    )
    assert mail.outbox == []
    failures = [r.getMessage() for r in caplog.records if r.name == "payments.reveals"]
    assert failures == [
        f"Reveal {BankAccountReveal.objects.get().pk} of bank account {bank_a.pk}: notice to "
        f"{address} not sent"
        for address in ("bam.en@alpha.example.com", "bam.fr@alpha.example.com")
    ]


@pytest.mark.django_db(transaction=True)
def test_the_notice_is_sent_only_after_the_commit(personas, people, bank_a):
    """With a real commit the emails leave once the request's transaction is committed."""
    api = APIClient()
    api.force_login(personas.bam_a)

    assert api.post(f"/api/v1/bank-accounts/{bank_a.pk}/reveal/").status_code == 200

    assert sent_to() == [["bam.en@alpha.example.com"], ["bam.fr@alpha.example.com"]]
    assert BankAccountReveal.objects.count() == 1


def test_a_rolled_back_reveal_sends_nothing(
    personas, people, bank_a, django_capture_on_commit_callbacks
):
    """The email waits for the commit: a transaction rolled back after the reveal (the request
    failed later) sends no notice about a row that does not exist."""
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                reveals.reveal(
                    bank_account=bank_a, user=personas.bam_a, channel=reveals.Channel.PAGE
                )
                raise RuntimeError("the request failed after the reveal")
        except RuntimeError:
            pass

    assert callbacks == []
    assert BankAccountReveal.objects.count() == 0
    assert mail.outbox == []


# --- The reveal log on the page -------------------------------------------------------------------


def test_the_page_shows_the_reveal_log_newest_first_to_the_bam_and_the_broker(
    personas, people, bank_a, client_for
):
    reveals.reveal(bank_account=bank_a, user=personas.bam_a, channel=reveals.Channel.PAGE)
    later = timezone.now() + dt.timedelta(hours=2)
    BankAccountReveal.objects.create(
        bank_account=bank_a,
        user=people["bam_fr"],
        user_email="bam.fr@alpha.example.com",
        revealed_at=later,
        channel="api",
    )

    for user in (personas.bam_a, personas.broker_agent, people["finance_a"]):
        html = client_for(user).get(bank_a.get_absolute_url()).content.decode()
        table = html[
            html.index('id="reveal-log"') : html.index("</table>", html.index("reveal-log"))
        ]
        rows = [
            " ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
        ]
        assert rows == [
            "2026-11-23 12:00 Élise Roy Through the API",
            f"2026-11-23 10:00 {personas.bam_a.get_full_name()} On the bank account page",
        ]
        assert NUMBER not in html


def test_the_page_shows_the_last_20_reveals(personas, bank_a, client_for):
    for minute in range(25):
        BankAccountReveal.objects.create(
            bank_account=bank_a,
            user=personas.bam_a,
            user_email=personas.bam_a.email,
            revealed_at=NOW + dt.timedelta(minutes=minute),
            channel="page",
        )

    html = client_for(personas.broker_admin).get(bank_a.get_absolute_url()).content.decode()

    times = re.findall(r'<td class="mono"><time datetime="[^"]+">([^<]+)</time>', html)
    assert times == [f"2026-11-23 10:{minute:02d}" for minute in range(24, 4, -1)]


def test_the_page_says_when_nobody_saw_the_number(personas, bank_a, client_for):
    html = client_for(personas.bam_a).get(bank_a.get_absolute_url()).content.decode()

    assert "Nobody has been shown the full number yet." in html
    assert 'id="reveal-log"' not in html


# --- One way to the number ------------------------------------------------------------------------


def test_nothing_but_reveals_reads_a_number_for_a_person():
    """``crypto.reveal_account_number`` is called from ``payments/reveals.py`` only, and
    ``crypto.decrypt`` only there and in the change check of ``payments/records.py``
    (which compares, never shows); the two-factor secrets' keys are not the payments keys."""
    base = Path(settings.BASE_DIR)
    sources = [
        path
        for path in base.rglob("*.py")
        if not {".venv", "tests", "node_modules", "var", ".git"} & set(path.relative_to(base).parts)
    ]
    reveal_users = set()
    decrypt_users = set()
    for path in sources:
        text = path.read_text()
        where = str(path.relative_to(base))
        if "reveal_account_number" in text:
            reveal_users.add(where)
        if re.search(r"\bdecrypt\(", text):
            decrypt_users.add(where)

    assert len(sources) > 100
    assert reveal_users == {"payments/crypto.py", "payments/reveals.py"}
    # carm_portal/keyring.py is the Fernet primitive every kind of secret goes through; what
    # matters is who opens the payments keys: only payments/crypto.py names them outside the
    # settings, and carm_portal/mfa.py opens its own keys only.
    assert decrypt_users - {"carm_portal/keyring.py"} == {
        "payments/crypto.py",
        "payments/records.py",
        "carm_portal/mfa.py",
    }
    names_the_keys = {
        str(path.relative_to(base))
        for path in sources
        if '"PAYMENTS_ENCRYPTION_KEYS"' in path.read_text()
    }
    assert names_the_keys == {"carm_portal/settings.py", "payments/crypto.py"}
    mfa_text = (base / "carm_portal/mfa.py").read_text()
    assert set(re.findall(r"keyring\.decrypt\((\w+)", mfa_text)) == {"MFA_KEYS"}


def test_the_admin_shows_the_audit_read_only(personas, bank_a, client_for):
    reveals.reveal(bank_account=bank_a, user=personas.bam_a, channel=reveals.Channel.PAGE)
    entry = BankAccountReveal.objects.get()
    admin = UserFactory(email="root@broker.example.com", is_staff=True, is_superuser=True)
    client = client_for(admin)

    listing = client.get("/admin/payments/bankaccountreveal/")
    detail = client.get(f"/admin/payments/bankaccountreveal/{entry.pk}/change/")

    assert listing.status_code == 200
    assert "bam@alpha.example.com" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # view only
    assert client.get("/admin/payments/bankaccountreveal/add/").status_code == 403
    assert client.get(f"/admin/payments/bankaccountreveal/{entry.pk}/delete/").status_code == 403
    assert NUMBER not in listing.content.decode() + detail.content.decode()
