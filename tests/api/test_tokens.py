"""Personal API tokens: hashed, expiring, revocable, rotated with the password, one's own only."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from carm_portal import api_tokens
from carm_portal.models import ApiToken
from tests.kit import bearer

pytestmark = pytest.mark.django_db

IMPORTERS = "/api/v1/importers/"
PAGE = "/accounts/api-tokens/"
SECRET = re.compile(r'value="(carm_[a-z0-9]{10}_[A-Za-z0-9_-]{43})"')


def _client_with(raw: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {raw}")
    return client


def test_only_the_hash_is_stored(personas):
    token, raw = api_tokens.issue(user=personas.bam_a, name="export")

    row = ApiToken.objects.values().get(pk=token.pk)
    assert raw not in str(row.values())
    assert row["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(f"carm_{row['prefix']}_")


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer"])
def test_a_token_acts_as_its_owner(personas, scheme):
    _token, raw = api_tokens.issue(user=personas.bam_a, name="export")

    response = _client_with(raw, scheme).get(IMPORTERS)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [personas.importer_a.pk]


def test_use_is_noted(personas):
    token, raw = api_tokens.issue(user=personas.bam_a, name="export")

    _client_with(raw).get(IMPORTERS)

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_expired_token_is_refused_with_401(personas):
    _token, raw = api_tokens.issue(user=personas.bam_a, name="export", days=1)

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = _client_with(raw).get(IMPORTERS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_with_401(personas):
    token, raw = api_tokens.issue(user=personas.bam_a, name="export")
    api_tokens.revoke(token)

    assert _client_with(raw).get(IMPORTERS).status_code == 401


@pytest.mark.parametrize(
    "raw_change",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda raw: raw.replace("carm_", "carx_"),
        lambda raw: raw.split("_", 2)[0] + "_" + raw.split("_", 2)[1],  # prefix alone
    ],
)
def test_a_wrong_secret_is_refused(personas, raw_change):
    _token, raw = api_tokens.issue(user=personas.bam_a, name="export")

    assert _client_with(raw_change(raw)).get(IMPORTERS).status_code == 401


def test_changing_the_password_revokes_every_token(personas, client_for):
    user = personas.bam_a
    user.set_password("old-Passw0rd-long")
    user.save()
    _token, raw = api_tokens.issue(user=user, name="export")
    assert _client_with(raw).get(IMPORTERS).status_code == 200

    client = client_for(user)
    response = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": "old-Passw0rd-long",
            "password1": "new-Passw0rd-longer",
            "password2": "new-Passw0rd-longer",
        },
    )

    assert response.status_code == 302
    assert _client_with(raw).get(IMPORTERS).status_code == 401
    assert ApiToken.objects.get(user=user).revoked_because == "password"
    _new, fresh = api_tokens.issue(user=user, name="after")
    assert _client_with(fresh).get(IMPORTERS).status_code == 200


def test_deactivating_the_account_revokes_every_token(personas):
    user = personas.bam_a
    api_tokens.issue(user=user, name="one")
    api_tokens.issue(user=user, name="two")

    user.is_active = False
    user.save()

    assert set(ApiToken.objects.filter(user=user).values_list("revoked_because", flat=True)) == {
        "deactivated"
    }


def test_a_sign_in_does_not_revoke(personas):
    token, _raw = api_tokens.issue(user=personas.bam_a, name="export")
    personas.bam_a.last_login = timezone.now()
    personas.bam_a.save(update_fields=["last_login"])
    personas.bam_a.full_name = "Renamed"
    personas.bam_a.save()

    token.refresh_from_db()
    assert token.revoked_at is None


def test_issue_refuses_a_lifetime_past_the_maximum(personas):
    with pytest.raises(ValueError):
        api_tokens.issue(user=personas.bam_a, name="x", days=366)


# --- The page ------------------------------------------------------------------------------


def test_the_page_makes_a_token_and_shows_it_once(personas, client_for):
    client = client_for(personas.finance_a)

    response = client.post(PAGE, {"name": "Accounting export", "days": 30})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = SECRET.search(response.content.decode())[1]
    token = ApiToken.objects.get(user=personas.finance_a)
    assert token.name == "Accounting export"
    assert (token.expires_at - token.created_at).days == 30
    assert _client_with(raw).get(IMPORTERS).status_code == 200
    again = client.get(PAGE).content.decode()
    assert raw not in again
    assert "Accounting export" in again
    assert token.prefix in again


@pytest.mark.parametrize("days", [0, 366, "x"])
def test_the_page_refuses_a_bad_lifetime(personas, client_for, days):
    response = client_for(personas.bam_a).post(PAGE, {"name": "x", "days": days})

    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert SECRET.search(response.content.decode()) is None


def test_the_page_lists_only_ones_own_tokens(personas, client_for):
    api_tokens.issue(user=personas.bam_b, name="Bravo secret job")
    api_tokens.issue(user=personas.broker_admin, name="Broker job")
    api_tokens.issue(user=personas.bam_a, name="Alpha job")

    page = client_for(personas.bam_a).get(PAGE).content.decode()

    assert "Alpha job" in page
    assert "Bravo secret job" not in page
    assert "Broker job" not in page


def test_another_persons_token_cannot_be_revoked(personas, client_for):
    theirs, raw = api_tokens.issue(user=personas.bam_b, name="theirs")

    response = client_for(personas.broker_admin).post(f"{PAGE}{theirs.pk}/revoke/")

    assert response.status_code == 404
    assert _client_with(raw).get(IMPORTERS).status_code == 200


def test_revoking_on_the_page(personas, client_for):
    mine, raw = api_tokens.issue(user=personas.bam_a, name="mine")

    response = client_for(personas.bam_a).post(f"{PAGE}{mine.pk}/revoke/")

    assert response.status_code == 302
    assert _client_with(raw).get(IMPORTERS).status_code == 401


def test_the_page_needs_a_sign_in(client):
    assert client.get(PAGE).status_code == 302
    assert client.post(f"{PAGE}1/revoke/").status_code == 302


def test_the_page_in_french(personas, client_for):
    client = client_for(personas.bam_a)
    client.cookies["django_language"] = "fr"

    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Jetons d" in page


def test_kit_bearer_header_works(personas):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(personas.employee_a))

    assert client.get(IMPORTERS).status_code == 200
