"""A user's saved language: the switcher saves it, sign-in restores it, emails are written in it.

Emails sent by background jobs have no request, so without ``User.language`` every digest went out
in English; each recipient now reads theirs in their own language, in the same run.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from carm_portal.models import User
from carm_portal.onboarding_wizard import steps as wizard_steps
from carm_portal.user_language import by_language, languages_by_email
from clients import invitations
from clients.models import Importer, Membership, OnboardingWizard
from payments.checks import run_payment_checks
from payments.notify import notify_all
from tests.factories import (
    DEFAULT_PASSWORD,
    DelegationFactory,
    ImporterFactory,
    MembershipFactory,
    UserFactory,
)
from tests.payments.conftest import make_statement

HOME = reverse("home")
SET_LANGUAGE = reverse("set_language")


@pytest.fixture(autouse=True)
def back_to_english():
    """The test client leaves the last request's language active in this thread: reset it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def switch(client, language: str, next_url: str = HOME):
    return client.post(SET_LANGUAGE, {"language": language, "next": next_url})


def saved(user: User) -> str:
    return User.objects.values_list("language", flat=True).get(pk=user.pk)


def sign_in_with_password(client: Client, user: User):
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return client.post(
        reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
    )


# --- Saving and restoring ------------------------------------------------------------------------


def test_switching_while_signed_in_saves_the_choice(personas, client_for):
    client = client_for(personas.bam_a)
    assert saved(personas.bam_a) == ""

    response = switch(client, "fr")
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"  # Django's part kept
    assert saved(personas.bam_a) == "fr"

    switch(client, "en")
    assert saved(personas.bam_a) == "en"


def test_switching_signed_out_or_to_an_unknown_language_saves_nothing(personas, client):
    switch(client, "fr")  # anonymous: the cookie only
    assert not User.objects.exclude(language="").exists()

    client.force_login(personas.bam_a)
    response = switch(client, "xx")
    assert response.status_code == 302
    assert saved(personas.bam_a) == ""


def test_a_later_sign_in_on_a_fresh_browser_shows_french_without_the_switcher(personas):
    first = Client()
    first.force_login(personas.bam_a)
    switch(first, "fr")

    fresh = Client()  # another device: no language cookie
    assert '<html lang="en"' in fresh.get(reverse("account_login")).content.decode()
    response = sign_in_with_password(fresh, personas.bam_a)
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in fresh.cookies
    home = fresh.get(HOME).content.decode()
    assert '<html lang="fr"' in home
    assert "Accueil" in home


def test_the_browsers_cookie_still_wins_over_the_saved_language(personas, client_for):
    User.objects.filter(pk=personas.bam_a.pk).update(language="fr")
    client = client_for(personas.bam_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<html lang="en"' in client.get(HOME).content.decode()


def test_a_language_chosen_on_the_sign_in_page_is_kept_at_sign_in(personas):
    browser = Client()
    switch(browser, "fr", reverse("account_login"))
    sign_in_with_password(browser, personas.bam_a)
    assert saved(personas.bam_a) == "fr"


def test_signing_in_does_not_overwrite_a_saved_language(personas):
    User.objects.filter(pk=personas.bam_a.pk).update(language="en")
    browser = Client()
    switch(browser, "fr", reverse("account_login"))
    sign_in_with_password(browser, personas.bam_a)
    assert saved(personas.bam_a) == "en"


def test_the_admin_user_form_shows_the_language(personas, admin_client):
    html = admin_client.get(
        reverse("admin:carm_portal_user_change", args=[personas.bam_a.pk])
    ).content.decode()
    assert 'name="language"' in html


def test_recipient_languages_default_to_the_site_language(db):
    UserFactory(email="fr@example.com", language="fr")
    UserFactory(email="plain@example.com")
    assert languages_by_email(["FR@example.com", "plain@example.com", "nobody@example.com"]) == {
        "fr@example.com": "fr",
        "plain@example.com": "en",
        "nobody@example.com": "en",
    }
    assert by_language(["nobody@example.com", "fr@example.com", "plain@example.com"]) == {
        "en": ["nobody@example.com", "plain@example.com"],
        "fr": ["fr@example.com"],
    }


# --- Emails sent by background jobs --------------------------------------------------------------


def test_one_delegation_digest_run_writes_to_each_recipient_in_their_language(db):
    agent = UserFactory(email="agent.fr@broker.example.com", language="fr")
    bam = UserFactory(email="bam.en@importer.example.com")
    importer = ImporterFactory(status=Importer.Status.ACTIVE, assigned_agent=agent)
    MembershipFactory(user=bam, importer=importer, role=Membership.Role.BAM)
    DelegationFactory(importer=importer, expiry_date=dt.date(2026, 11, 30))
    translation.activate("en")  # the job's own language must not matter

    call_command("check_delegations", "--today", "2026-12-01", stdout=StringIO())

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {agent.email, bam.email}
    french, english = by_recipient[agent.email], by_recipient[bam.email]
    assert french.subject.startswith("Action requise : 1 délégation bloquée")
    assert french.body.startswith("Bonjour,")
    assert "Ouvrir dans le Portail GCRA" in french.alternatives[0][0]
    assert "Expirée le 2026-11-30" in french.body  # the alert's sentence too
    assert '<html lang="fr"' in french.alternatives[0][0]
    assert english.subject.startswith("Action needed: 1 blocked delegation")
    assert english.body.startswith("Hello,")
    assert '<html lang="en"' in english.alternatives[0][0]
    assert translation.get_language() == "en"


def test_payment_alerts_go_out_once_per_language(personas):
    User.objects.filter(pk=personas.bam_a.pk).update(language="fr")
    account = personas.importer_a.program_accounts.get()
    make_statement(account, dt.date(2026, 11, 25), "812.40", due_date=dt.date(2026, 12, 1))
    run_payment_checks(today=dt.date(2026, 12, 3))

    assert notify_all() == 1

    by_language_sent = {tuple(message.to): message for message in mail.outbox}
    english_readers = ("agent@broker.example.com", "finance@alpha.example.com")
    assert set(by_language_sent) == {("bam@alpha.example.com",), english_readers}
    french = by_language_sent[("bam@alpha.example.com",)]
    english = by_language_sent[english_readers]
    assert french.subject.startswith("Action requise")
    assert "812,40" in french.body  # money follows the recipient's language too
    assert english.subject.startswith("Action needed")
    assert "$812.40 was due on 2026-12-01" in english.body


def test_the_wizard_finished_email_to_a_french_agent_is_french(
    personas, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=personas.broker_agent.pk).update(language="fr")
    wizard = OnboardingWizard.objects.create(importer=personas.importer_a)
    translation.activate("en")  # the BAM finishes in English

    with django_capture_on_commit_callbacks(execute=True):
        assert wizard_steps.finish(wizard=wizard, by=personas.bam_a) is True

    [message] = mail.outbox
    assert message.to == [personas.broker_agent.email]
    assert message.subject == "Alpha Imports Inc. a terminé l'assistant d'intégration"
    assert message.body.startswith("Bonjour,")
    assert '<html lang="fr"' in message.alternatives[0][0]


def test_an_invitation_sent_from_a_french_page_is_french_and_so_is_its_resend(
    personas, client_for, django_capture_on_commit_callbacks
):
    client = client_for(personas.broker_agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"  # the page is French; nothing saved
    url = reverse("invitations:importer", args=[personas.importer_a.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "nouvelle@alpha.example.com", "role": "employee"})
    assert response.status_code == 302

    [message] = mail.outbox
    assert "vous invite au Portail GCRA pour Alpha Imports Inc." in message.subject
    assert message.body.startswith("Bonjour")
    assert '<html lang="fr"' in message.alternatives[0][0]

    invitation = personas.importer_a.invitations.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("invitations:resend", args=[invitation.pk]))
    assert "vous invite au Portail GCRA" in mail.outbox[-1].subject

    translation.activate("en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("invitations:resend", args=[invitation.pk]))
    assert "invites you to the CARM Portal" in mail.outbox[-1].subject


def test_an_invitation_keeps_the_inviters_language_even_if_sent_later(
    personas, django_capture_on_commit_callbacks
):
    """The email leaves on commit; its language is the one of the page it was sent from."""
    with django_capture_on_commit_callbacks() as callbacks, translation.override("fr"):
        invitations.invite(
            importer=personas.importer_a,
            email="plus.tard@alpha.example.com",
            role=Membership.Role.EMPLOYEE,
            invited_by=personas.broker_agent,
        )
    assert translation.get_language() == "en"
    for callback in callbacks:  # the commit, once the French request is over
        callback()
    assert mail.outbox[0].body.startswith("Bonjour")


def test_a_send_failing_halfway_sends_no_second_copy_on_the_retry(personas, settings):
    """One language's email went out, the other's failed: the alerts count as notified, so the
    next run does not send the first recipients a duplicate (the miss is logged)."""
    User.objects.filter(pk=personas.bam_a.pk).update(language="fr")
    account = personas.importer_a.program_accounts.get()
    make_statement(account, dt.date(2026, 11, 25), "812.40", due_date=dt.date(2026, 12, 1))
    run_payment_checks(today=dt.date(2026, 12, 3))
    settings.EMAIL_BACKEND = "tests.delegation.failing_backend.SecondMessageFails"

    assert notify_all() == 1
    assert len(mail.outbox) == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notify_all() == 0
    assert len(mail.outbox) == 1
