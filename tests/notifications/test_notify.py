"""carm_portal.notifications: one row per event and recipient, e-mails by preference, once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from carm_portal import notifications
from carm_portal import stored_text as later
from carm_portal.celery import app
from carm_portal.notification_models import Delivery, Kind, Notification, NotificationPreference
from tests.factories import UserFactory

TEXT = later.gettext(
    "Reconciliation of %(bn15)s finished with %(n)s exceptions.",
    {"bn15": "123456789RM0001", "n": 3},
)


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def people(db):
    return UserFactory(email="ann@example.com"), UserFactory(email="bob@example.com", language="fr")


def tell(recipients, *, key="run:1", kind=Kind.RECONCILIATION_EXCEPTIONS, url="/statements/1/"):
    notifications.notify(kind=kind, recipients=recipients, key=key, text=TEXT, url=url)


def test_nothing_is_recorded_before_the_transaction_commits(
    people, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tell(people)
    assert Notification.objects.count() == 0
    for callback in callbacks:
        callback()
    assert Notification.objects.count() == 2


def test_each_recipient_gets_one_row_and_one_email_in_their_language(
    people, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tell(people)

    assert sorted(Notification.objects.values_list("recipient__email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
    ]
    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == ["ann@example.com", "bob@example.com"]
    assert "A reconciliation finished with exceptions" in by_address["ann@example.com"].subject
    assert "http://127.0.0.1:8000/statements/1/" in by_address["ann@example.com"].body
    assert "Bonjour" in by_address["bob@example.com"].body
    assert Notification.objects.filter(emailed_at=None).count() == 0


def test_telling_the_same_event_again_adds_nothing_and_sends_nothing(
    people, eager, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            tell(people)

    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2


def test_a_retried_or_duplicated_task_sends_one_email(
    people, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(notifications, "dispatch", lambda ids: None)  # the worker runs it below
    with django_capture_on_commit_callbacks(execute=True):
        tell(people[:1])
    pk = Notification.objects.get().pk

    assert notifications.send_email(pk) is True
    assert notifications.send_email(pk) is False  # a second delivery of the same task
    assert len(mail.outbox) == 1


def test_a_failed_send_releases_the_claim_so_the_retry_sends(
    people, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(notifications, "dispatch", lambda ids: None)
    with django_capture_on_commit_callbacks(execute=True):
        tell(people[:1])
    pk = Notification.objects.get().pk

    def broken(self, fail_silently=False):
        raise OSError("SMTP relay down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
        with pytest.raises(OSError):
            notifications.send_email(pk)
    assert Notification.objects.get().claimed_at is None

    assert notifications.send_email(pk) is True
    assert len(mail.outbox) == 1


def test_a_crashed_worker_claim_is_taken_again_after_the_timeout(
    people, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(notifications, "dispatch", lambda ids: None)
    with django_capture_on_commit_callbacks(execute=True):
        tell(people[:1])
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)):
        Notification.objects.update(claimed_at=dt.datetime(2026, 12, 1, 11, 55, tzinfo=dt.UTC))
        assert notifications.send_email(Notification.objects.get().pk) is False
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 10, tzinfo=dt.UTC)):
        assert notifications.send_email(Notification.objects.get().pk) is True


def test_off_keeps_the_inbox_row_and_sends_nothing(
    people, eager, django_capture_on_commit_callbacks
):
    ann, _ = people
    NotificationPreference.objects.create(
        user=ann, kind=Kind.RECONCILIATION_EXCEPTIONS, delivery=Delivery.OFF
    )
    with django_capture_on_commit_callbacks(execute=True):
        tell([ann])

    assert Notification.objects.get().delivery == Delivery.OFF
    assert mail.outbox == []
    assert notifications.send_daily_digests() == 0


def test_daily_digest_sends_once_a_day_whatever_the_reruns(
    people, eager, django_capture_on_commit_callbacks
):
    ann, _ = people
    NotificationPreference.objects.create(
        user=ann, kind=Kind.RECONCILIATION_EXCEPTIONS, delivery=Delivery.DAILY
    )
    with django_capture_on_commit_callbacks(execute=True):
        tell([ann], key="run:1")
        tell([ann], key="run:2")
    assert mail.outbox == []

    assert notifications.send_daily_digests() == 1
    assert notifications.send_daily_digests() == 0  # a rerun of the beat task

    assert len(mail.outbox) == 1
    assert "2 notifications" in mail.outbox[0].subject


def test_a_queue_that_is_down_loses_no_email(
    people, django_capture_on_commit_callbacks, monkeypatch
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(app.tasks[notifications.SEND_TASK], "delay", down)
    with (
        time_machine.travel(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tell(people[:1])  # the event itself commits
    assert mail.outbox == []

    with time_machine.travel(dt.datetime(2026, 12, 2, 7, tzinfo=dt.UTC)):
        assert notifications.send_daily_digests() == 1
    assert len(mail.outbox) == 1


def test_inactive_people_are_not_emailed(db, eager, django_capture_on_commit_callbacks):
    gone = UserFactory(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        tell([gone])
    assert mail.outbox == []


def test_muted_addresses_are_the_accounts_that_turned_a_digest_off(people):
    ann, bob = people
    NotificationPreference.objects.create(
        user=ann, kind=Kind.DELEGATION_ALERTS, delivery=Delivery.OFF
    )
    NotificationPreference.objects.create(user=bob, kind=Kind.PAYMENT_ALERTS, delivery=Delivery.OFF)

    assert notifications.muted_addresses(
        kind=Kind.DELEGATION_ALERTS, emails=["ANN@example.com", "bob@example.com", "x@y.z"]
    ) == {"ann@example.com"}


def test_immediately_is_not_offered_for_the_daily_checks_digests(people):
    ann, _ = people
    notifications.save_preferences(user=ann, choices={Kind.DELEGATION_ALERTS: Delivery.IMMEDIATELY})
    assert notifications.preferences(ann)[Kind.DELEGATION_ALERTS] == Delivery.DAILY
