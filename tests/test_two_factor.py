"""Two-factor authentication (allauth.mfa): who must use it, and signing in with it.

Broker staff (and anyone the Django admin lets in) without an authenticator are sent to the setup
page from every other page, and refused by the API (session or token); an importer's BAM reveals
no bank account number without one; the importer's other people may use it and are never forced.
Signing in goes through allauth's code stage (authenticator app or a one-time recovery code), the
Django admin's login too, with allauth's rate limit on failed passwords.

Real views throughout; codes are computed with allauth's own TOTP arithmetic (``tests.mfa``).
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, unquote, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from carm_portal.demo.seed import DEMO_TOTP_SECRET, demo_totp_code
from carm_portal.mfa import is_allowed
from clients import access
from clients.access import BrokerRole
from payments.models import BankAccount, BankAccountReveal
from payments.records import save_bank_account
from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET, UserFactory
from tests.kit import bearer
from tests.mfa import give_recovery_codes, give_totp, totp_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
MFA_SETUP = reverse("mfa_index")
MFA_STAGE = reverse("mfa_authenticate")
HOME = reverse("home")
STAFF_MESSAGE = str(access.MFA_REQUIRED_FOR_STAFF)
REVEAL_MESSAGE = str(access.MFA_REQUIRED_TO_REVEAL)


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A cache of this test's own: allauth keeps its rate-limit counters and the TOTP codes
    already used there, and neither may leak into another test (or a shared Redis)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"two-factor-{uuid.uuid4()}",
        }
    }


def verified(user):
    """Mandatory email verification would stop a sign-in before the code stage."""
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def sign_in_with_password(client: Client, user, next_url: str = ""):
    data = {"login": user.email, "password": DEFAULT_PASSWORD}
    url = f"{LOGIN}?next={next_url}" if next_url else LOGIN
    return client.post(url, data)


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- Broker staff must have it -------------------------------------------------------------------


@pytest.fixture
def agent_without_mfa():
    return UserFactory(email="new.agent@broker.example.com", roles=[BrokerRole.AGENT], mfa=False)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/clients/",
        "/statements/",
        "/payments/",
        "/delegations/",
        "/admin/",
        "/accounts/password/change/",
    ],
)
def test_staff_without_mfa_is_sent_to_the_setup_from_every_page(client, agent_without_mfa, url):
    client.force_login(agent_without_mfa)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == MFA_SETUP


def test_the_setup_page_says_why_and_opens(client, agent_without_mfa):
    client.force_login(agent_without_mfa)

    response = client.get(MFA_SETUP)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="mfa-required"' in html
    assert STAFF_MESSAGE in html
    assert reverse("mfa_activate_totp") in html
    assert reverse("mfa_add_webauthn") in html
    assert "site-header" in html  # our layout, not allauth's bare one
    assert 'class="button' in html  # allauth's buttons drawn as ours (templates/allauth/elements/)


def test_sign_out_and_the_language_switcher_still_work(client, agent_without_mfa):
    client.force_login(agent_without_mfa)

    switched = client.post(reverse("set_language"), {"language": "fr", "next": MFA_SETUP})
    assert switched.status_code == 302
    assert switched["Location"] == MFA_SETUP
    assert "Authentification à deux facteurs" in client.get(MFA_SETUP).content.decode()

    out = client.post(reverse("account_logout"))
    assert out.status_code == 302
    assert not signed_in(client)


def test_static_files_are_not_redirected(rf, agent_without_mfa):
    request = rf.get("/static/css/app.css")
    request.resolver_match = None
    assert is_allowed(request)


def test_an_htmx_request_is_redirected_by_htmx(client, agent_without_mfa):
    client.force_login(agent_without_mfa)

    response = client.get("/clients/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == MFA_SETUP


def test_the_api_refuses_staff_without_mfa_on_the_session(agent_without_mfa):
    api = APIClient()
    api.force_login(agent_without_mfa)

    response = api.get("/api/v1/importers/")

    assert response.status_code == 403
    assert response.json() == {"detail": STAFF_MESSAGE}


def test_the_api_refuses_a_token_of_staff_without_mfa(agent_without_mfa):
    header = bearer(agent_without_mfa)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)

    response = api.get("/api/v1/importers/")

    assert response.status_code == 403
    assert response.json() == {"detail": STAFF_MESSAGE}


def test_the_api_answers_staff_with_mfa(agent_without_mfa):
    give_totp(agent_without_mfa)
    header = bearer(agent_without_mfa)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)

    assert api.get("/api/v1/importers/").status_code == 200


def test_a_superuser_without_a_broker_group_must_have_it_too(client):
    root = UserFactory(email="root@broker.example.com", is_superuser=True, is_staff=True, mfa=False)
    client.force_login(root)

    assert client.get("/").status_code == 302
    give_totp(root)
    assert client.get("/").status_code == 200


def test_new_staff_sign_in_and_set_up_an_authenticator_app(client, agent_without_mfa):
    """The whole first sign-in: password, the setup page, the app's code, recovery codes, home."""
    verified(agent_without_mfa)

    response = sign_in_with_password(client, agent_without_mfa)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == MFA_SETUP

    # allauth asks for the password again before a new authenticator (a page of the setup).
    again = client.get(reverse("mfa_activate_totp"))
    assert again.status_code == 302
    assert urlsplit(again["Location"]).path == reverse("account_reauthenticate")
    confirmed = client.post(again["Location"], {"password": DEFAULT_PASSWORD})
    assert confirmed.status_code == 302
    activate = client.get(reverse("mfa_activate_totp"))
    assert activate.status_code == 200
    html = activate.content.decode()
    assert "data:image/svg+xml;base64," in html  # the QR code, drawn here (no outside service)
    secret = client.session["mfa.totp.secret"]  # shown on the page to type into an app
    assert re.search(rf'id="authenticator_secret"[^>]*value="{secret}"', html)

    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert client.get("/").status_code == 302

    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    codes = client.get(done["Location"])
    assert codes.status_code == 200
    assert len(Authenticator.objects.filter(user=agent_without_mfa)) == 2  # app, recovery codes
    assert client.get("/").status_code == 200


def test_the_authenticator_app_names_the_broker(client, agent_without_mfa, settings):
    verified(agent_without_mfa)
    sign_in_with_password(client, agent_without_mfa)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})

    response = client.get(reverse("mfa_activate_totp"))

    issuer = quote(settings.BROKER_NAME)
    assert f"issuer={issuer}" in response.context["totp_url"]
    keys = client.get(reverse("mfa_add_webauthn"))
    relying_party = keys.context["js_data"]["creation_options"]["publicKey"]["rp"]
    assert relying_party == {"name": settings.BROKER_NAME, "id": "testserver"}


# --- Signing in with it --------------------------------------------------------------------------


@pytest.fixture
def agent():
    """Broker staff with an authenticator app (``UserFactory`` gives staff one)."""
    return verified(UserFactory(email="agent@broker.example.com", roles=[BrokerRole.AGENT]))


def test_staff_with_an_app_sign_in_through_the_code_stage(client, agent):
    response = sign_in_with_password(client, agent)

    assert response.status_code == 302
    assert response["Location"] == MFA_STAGE
    assert not signed_in(client)  # the password alone signs nobody in
    stage = client.get(MFA_STAGE)
    assert stage.status_code == 200
    assert "site-header" in stage.content.decode()

    wrong = client.post(MFA_STAGE, {"code": "000000"})
    assert wrong.status_code == 200
    assert not signed_in(client)

    right = client.post(MFA_STAGE, {"code": totp_code(TEST_TOTP_SECRET)})
    assert right.status_code == 302
    assert signed_in(client)
    assert client.get(HOME).status_code == 200


def test_a_code_works_once(client, agent):
    code = totp_code(TEST_TOTP_SECRET)
    sign_in_with_password(client, agent)
    assert client.post(MFA_STAGE, {"code": code}).status_code == 302
    client.post(reverse("account_logout"))

    sign_in_with_password(client, agent)
    again = client.post(MFA_STAGE, {"code": code})

    assert again.status_code == 200
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(client, agent):
    codes = give_recovery_codes(agent)

    sign_in_with_password(client, agent)
    first = client.post(MFA_STAGE, {"code": codes[0]})
    assert first.status_code == 302
    assert signed_in(client)
    client.post(reverse("account_logout"))

    sign_in_with_password(client, agent)
    again = client.post(MFA_STAGE, {"code": codes[0]})
    assert again.status_code == 200
    assert not signed_in(client)

    other = client.post(MFA_STAGE, {"code": codes[1]})
    assert other.status_code == 302
    assert signed_in(client)


# --- The Django admin's login is allauth's ---------------------------------------------------------


@pytest.fixture
def admin_user():
    return verified(
        UserFactory(
            email="root@broker.example.com",
            roles=[BrokerRole.ADMIN],
            is_staff=True,
            is_superuser=True,
        )
    )


def test_the_admin_login_page_sends_to_allauth(client, admin_user):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert unquote(response["Location"]) == f"{LOGIN}?next=/admin/"

    # Its own form no longer signs anybody in, not even with the right password.
    posted = client.post(
        "/admin/login/?next=/admin/", {"username": admin_user.email, "password": DEFAULT_PASSWORD}
    )
    assert posted.status_code == 302
    assert posted["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_the_admin_login_goes_through_the_code_stage(client, admin_user):
    to_login = client.get("/admin/login/?next=/admin/")["Location"]

    password = client.post(to_login, {"login": admin_user.email, "password": DEFAULT_PASSWORD})
    assert password["Location"] == MFA_STAGE
    assert client.get("/admin/").status_code == 302  # not in yet

    code = client.post(MFA_STAGE, {"code": totp_code(TEST_TOTP_SECRET)})
    assert code.status_code == 302
    assert code["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_thirty_wrong_passwords_at_the_admin_login_are_rate_limited(client, admin_user):
    to_login = client.get("/admin/login/?next=/admin/")["Location"]
    answers = [
        client.post(to_login, {"login": admin_user.email, "password": f"wrong-{n}"})
        for n in range(30)
    ]
    assert {answer.status_code for answer in answers} <= {200, 429}
    assert "Too many failed login attempts" in answers[-1].content.decode()

    right = client.post(to_login, {"login": admin_user.email, "password": DEFAULT_PASSWORD})

    assert right.status_code in (200, 429)
    assert right.status_code == 429 or "Too many failed" in right.content.decode()
    assert right.get("Location") != MFA_STAGE
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302


# --- BAMs before revealing a bank account number ---------------------------------------------------


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
        account_number="001234567890",
        by=personas.bam_a,
    )


def test_a_bam_without_mfa_is_told_to_set_it_up_instead_of_the_number(personas, bank_a, client):
    client.force_login(personas.bam_a)
    detail = client.get(bank_a.get_absolute_url()).content.decode()
    assert 'id="reveal-needs-mfa"' in detail
    assert f'href="{MFA_SETUP}"' in detail

    page = client.post(reverse("payments:bank_account_reveal", args=[bank_a.pk]))
    api = APIClient()
    api.force_login(personas.bam_a)
    answer = api.post(f"/api/v1/bank-accounts/{bank_a.pk}/reveal/")

    assert page.status_code == 403
    html = page.content.decode()
    assert REVEAL_MESSAGE.split(":")[0] in html
    assert f'href="{MFA_SETUP}"' in html
    assert "001234567890" not in html
    assert answer.status_code == 403
    assert answer.json() == {"detail": REVEAL_MESSAGE}
    assert not BankAccountReveal.objects.exists()


def test_a_bam_with_mfa_reveals_the_number(personas, bank_a, client):
    give_totp(personas.bam_a)
    client.force_login(personas.bam_a)

    detail = client.get(bank_a.get_absolute_url()).content.decode()
    page = client.post(reverse("payments:bank_account_reveal", args=[bank_a.pk]))

    assert 'id="reveal-needs-mfa"' not in detail
    assert page.status_code == 200
    assert "001234567890" in page.content.decode()
    assert BankAccountReveal.objects.count() == 1


# --- The importer's other people: optional ---------------------------------------------------------


def test_importer_people_are_not_forced_and_are_offered_it(personas, client):
    for user in (personas.employee_a, personas.finance_a, personas.bam_a):
        client.force_login(user)
        home = client.get(HOME)
        assert home.status_code == 200, user
        assert f'href="{MFA_SETUP}"' in home.content.decode()
        setup = client.get(MFA_SETUP)
        assert setup.status_code == 200
        assert 'id="mfa-required"' not in setup.content.decode()
        assert not access.must_have_mfa(user)


def test_an_importer_person_with_an_app_signs_in_through_the_code_stage(personas, client):
    bam = verified(personas.bam_a)
    give_totp(bam)

    assert sign_in_with_password(client, bam)["Location"] == MFA_STAGE
    assert client.post(MFA_STAGE, {"code": totp_code()}).status_code == 302
    assert signed_in(client)


# --- The demo ------------------------------------------------------------------------------------


def test_the_demo_code_is_the_published_secrets(capsys):
    call_command("seed_demo", "--code")

    assert capsys.readouterr().out.strip() == demo_totp_code() == totp_code(DEMO_TOTP_SECRET)


def test_an_admin_resets_a_lost_device_by_deleting_the_authenticators(client, admin_user, agent):
    codes = give_recovery_codes(agent)
    client.force_login(admin_user)

    listing = client.get("/admin/mfa/authenticator/", {"q": agent.email})
    assert listing.status_code == 200
    html = listing.content.decode()
    assert TEST_TOTP_SECRET not in html
    ids = list(Authenticator.objects.filter(user=agent).values_list("pk", flat=True))
    shown = client.get(f"/admin/mfa/authenticator/{ids[0]}/change/").content.decode()
    assert TEST_TOTP_SECRET not in shown
    assert codes[0] not in shown

    deleted = client.post(
        "/admin/mfa/authenticator/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert deleted.status_code == 302
    assert not Authenticator.objects.filter(user=agent).exists()
    client.force_login(agent)
    assert client.get(HOME)["Location"] == MFA_SETUP  # staff: a new app at once
