"""The public interest form: no login, spam guards, double opt-in, French."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from services import spam_guard
from services.interest import confirm_token
from services.models import Prospect
from tests.services.factories import ProspectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _stamp(seconds_ago: int = 30) -> str:
    import time

    return spam_guard.form_stamp(time.time() - seconds_ago)


def _post(client, **overrides):
    data = {
        "name": "Paula Prospect",
        "company": "Maple Imports Ltd.",
        "email": "Paula@Maple.example.com",
        "phone": "416 555 0123",
        "bn9": "",
        "services": ["management", "webinar"],
        "message": "We import furniture.",
        "consent": "on",
        "website": "",
        "shown": _stamp(),
    }
    data.update(overrides)
    return client.post(reverse("services:interest"), data, REMOTE_ADDR="203.0.113.5")


@pytest.mark.parametrize(
    "name", ["services:index", "services:interest", "services:webinars", "services:interest_sent"]
)
def test_public_pages_open_without_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200


def test_public_pages_in_french(client):
    client.cookies["django_language"] = "fr"

    response = client.get(reverse("services:interest"), HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'lang="fr"' in page
    assert "Manifestez votre intérêt pour nos services de gestion de la GCRA" in page
    assert "Services qui vous intéressent" in page


def test_sign_up_records_an_unconfirmed_prospect_and_mails_a_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client)

    assert response.status_code == 302
    prospect = Prospect.objects.get()
    assert prospect.email == "paula@maple.example.com"
    assert prospect.phone == "+1 416-555-0123"
    assert prospect.services == ["management", "webinar"]
    assert prospect.confirmed_at is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["paula@maple.example.com"]
    assert (
        reverse("services:interest_confirm", args=["x"]).rsplit("x/", 1)[0] in mail.outbox[0].body
    )


def test_consent_is_required(client):
    response = _post(client, consent="")

    assert response.status_code == 200
    assert Prospect.objects.count() == 0


def test_bad_bn9_is_refused_but_blank_is_fine(client):
    assert _post(client, bn9="123").status_code == 200
    assert Prospect.objects.count() == 0
    assert _post(client, bn9="").status_code == 302


def test_honeypot_drops_the_post_silently(client):
    response = _post(client, website="http://spam.example.com")

    assert response.status_code == 302
    assert Prospect.objects.count() == 0
    assert mail.outbox == []


def test_a_form_sent_too_fast_is_dropped(client):
    response = _post(client, shown=_stamp(seconds_ago=0))

    assert response.status_code == 302
    assert Prospect.objects.count() == 0


def test_a_forged_stamp_is_dropped(client):
    response = _post(client, shown="12345:forged")

    assert response.status_code == 302
    assert Prospect.objects.count() == 0


def test_per_email_rate_limit(client):
    for _ in range(spam_guard.EMAIL_LIMIT[0]):
        assert _post(client).status_code == 302

    response = _post(client)

    assert response.status_code == 429
    assert Prospect.objects.count() == 1  # the same unconfirmed claim, refreshed


def test_per_ip_rate_limit(client):
    for n in range(spam_guard.IP_LIMIT[0]):
        assert _post(client, email=f"p{n}@example.com").status_code == 302

    response = _post(client, email="one-more@example.com")

    assert response.status_code == 429
    assert Prospect.objects.count() == spam_guard.IP_LIMIT[0]


def test_csrf_is_enforced():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post(reverse("services:interest"), {"name": "x"})

    assert response.status_code == 403


def test_confirmation_get_does_not_confirm_post_does_once(client):
    prospect = ProspectFactory(confirmed_at=None)
    url = reverse("services:interest_confirm", args=[confirm_token(prospect)])

    assert client.get(url).status_code == 200
    prospect.refresh_from_db()
    assert prospect.confirmed_at is None

    assert client.post(url).status_code == 200
    prospect.refresh_from_db()
    first = prospect.confirmed_at
    assert first is not None

    client.post(url)
    prospect.refresh_from_db()
    assert prospect.confirmed_at == first


def test_a_tampered_or_expired_link_confirms_nothing(client):
    prospect = ProspectFactory(confirmed_at=None)
    token = confirm_token(prospect)

    assert (
        client.post(reverse("services:interest_confirm", args=[token[:-2] + "xx"])).status_code
        == 404
    )
    with time_machine.travel("2099-01-01"):
        assert client.post(reverse("services:interest_confirm", args=[token])).status_code == 404
    prospect.refresh_from_db()
    assert prospect.confirmed_at is None


def test_a_token_for_another_address_confirms_nothing(client):
    prospect = ProspectFactory(confirmed_at=None)
    token = confirm_token(prospect)
    Prospect.objects.filter(pk=prospect.pk).update(email="someone-else@example.com")

    assert client.post(reverse("services:interest_confirm", args=[token])).status_code == 404


def test_the_confirmation_email_goes_in_the_visitors_language(
    client, django_capture_on_commit_callbacks
):
    client.cookies["django_language"] = "fr"
    with django_capture_on_commit_callbacks(execute=True):
        _post(client)

    assert mail.outbox[0].subject.startswith("Confirmez votre demande")


def test_the_emailed_link_confirms(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client)
    link = re.search(r"https?://\S+/services/interest/confirm/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("/", 3)[3]

    client.post(path)

    assert Prospect.objects.get().confirmed_at is not None


def test_behind_the_proxy_each_visitor_has_its_own_ip_limit(rf, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    first = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR="10.0.0.1")
    second = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.8", REMOTE_ADDR="10.0.0.1")

    assert spam_guard.client_ip(first) == "198.51.100.7"
    assert spam_guard.client_ip(second) == "198.51.100.8"
