"""The daily checks' digests (delegation and payment alerts) leave out whoever turned them off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from carm_portal.notification_models import Delivery, Kind, NotificationPreference
from delegation.checks import run_delegation_checks
from delegation.notify import send_digests
from payments.checks import run_payment_checks
from payments.notify import notify_all
from tests.factories import DelegationFactory
from tests.payments.conftest import make_statement

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


def turn_off(user, kind):
    NotificationPreference.objects.create(user=user, kind=kind, delivery=Delivery.OFF)


def test_delegation_digest_skips_a_bam_who_turned_it_off(personas):
    DelegationFactory(importer=personas.importer_a, expiry_date=None)
    run_delegation_checks(today=TODAY)
    turn_off(personas.bam_a, Kind.DELEGATION_ALERTS)

    send_digests(today=TODAY)

    assert sorted(m.to[0] for m in mail.outbox) == ["agent@broker.example.com"]


def test_delegation_digest_reaches_everyone_by_default(personas):
    DelegationFactory(importer=personas.importer_a, expiry_date=None)
    run_delegation_checks(today=TODAY)

    send_digests(today=TODAY)

    assert sorted(m.to[0] for m in mail.outbox) == [
        "agent@broker.example.com",
        "bam@alpha.example.com",
    ]


def test_payment_alerts_skip_a_finance_member_who_turned_them_off(personas):
    account = personas.importer_a.program_accounts.get()
    make_statement(account, dt.date(2026, 11, 25), "812.40", due_date=dt.date(2026, 12, 1))
    run_payment_checks(today=dt.date(2026, 12, 3))
    turn_off(personas.finance_a, Kind.PAYMENT_ALERTS)

    assert notify_all() > 0

    recipients = sorted(address for m in mail.outbox for address in m.to)
    assert "finance@alpha.example.com" not in recipients
    assert "bam@alpha.example.com" in recipients
