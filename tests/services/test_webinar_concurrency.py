"""Many people taking the last seats at once (PostgreSQL: SQLite serialises every write anyway).

``register`` locks the session row before counting its seats, so whatever the interleaving the
session never holds more confirmed registrations than its capacity, and nobody is lost.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from services.models import Registration
from services.webinar_seats import register
from tests.services.factories import WebinarSessionFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locking"),
]


def test_concurrent_registrations_never_overbook():
    session = WebinarSessionFactory(capacity=3)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def sign_up(n: int) -> None:
        try:
            start.wait()
            register(session=session, name=f"P{n}", email=f"p{n}@example.com")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    statuses = list(Registration.objects.values_list("status", flat=True))
    assert sorted(statuses) == ["confirmed"] * 3 + ["waitlisted"] * 5


def test_concurrent_confirmations_never_overbook():
    """Visitors following their links at once: the same lock, the same capacity."""
    from services.webinar_seats import confirm_registration

    session = WebinarSessionFactory(capacity=3)
    pending = [
        register(session=session, name=f"V{n}", email=f"v{n}@example.com", opt_in=True)
        for n in range(8)
    ]
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def confirm(registration: Registration) -> None:
        try:
            start.wait()
            confirm_registration(registration)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(r,)) for r in pending]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    statuses = list(Registration.objects.values_list("status", flat=True))
    assert sorted(statuses) == ["confirmed"] * 3 + ["waitlisted"] * 5
