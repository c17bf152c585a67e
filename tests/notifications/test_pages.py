"""The inbox and the preferences page: everyone has their own; nobody reaches another's rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carm_portal import stored_text as later
from carm_portal.notification_models import Delivery, Kind, Notification, NotificationPreference
from tests.kit import persona_cases

pytestmark = pytest.mark.django_db


def note(user, key="k1", url="/statements/", read=False):
    from django.utils import timezone

    return Notification.objects.create(
        recipient=user,
        kind=Kind.IMPORT_REFUSED,
        key=key,
        text=later.gettext("Your file %(name)s was refused.", {"name": "october.csv"}),
        url=url,
        delivery=Delivery.IMMEDIATELY,
        read_at=timezone.now() if read else None,
    )


# Every signed-in person has an inbox, a preferences page and may mark their own rows read; a
# row of bam_a's is a 404 to everyone else, whatever their role (it is nobody else's business).
TABLE = [
    ("notifications:inbox", "get", False, (200,) * 7),
    ("notifications:preferences", "get", False, (200,) * 7),
    ("notifications:mark_all_read", "post", False, (302,) * 7),
    ("notifications:unread_count", "get", False, (200,) * 7),
    ("notifications:open", "get", True, (404, 404, 404, 302, 404, 404, 404)),
    ("notifications:mark_read", "post", True, (404, 404, 404, 302, 404, 404, 404)),
]


@pytest.mark.parametrize(
    ("name", "method", "of_bam_a", "persona", "expected"), persona_cases(TABLE)
)
def test_access(personas, client_for, name, method, of_bam_a, persona, expected):
    row = note(personas.bam_a)
    url = reverse(name, args=[row.pk]) if of_bam_a else reverse(name)
    response = getattr(client_for(personas.all()[persona]), method)(url)
    assert response.status_code == expected


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get(reverse("notifications:inbox")).status_code == 302


def test_the_inbox_lists_only_ones_own_notifications_in_ones_language(personas, client_for):
    note(personas.bam_a)
    note(personas.bam_b, key="other")
    page = client_for(personas.bam_a).get(reverse("notifications:inbox"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["page"].paginator.count == 1
    assert "Your file october.csv was refused." in page.content.decode()


def test_the_header_badge_counts_unread(personas, client_for):
    note(personas.bam_a, key="a")
    note(personas.bam_a, key="b")
    note(personas.bam_a, key="c", read=True)
    note(personas.bam_b, key="d")
    client = client_for(personas.bam_a)
    html = client.get(reverse("home")).content.decode()
    assert f'data-unread-url="{reverse("notifications:unread_count")}"' in html
    assert "js/header_tools.js" in html

    response = client.get(reverse("notifications:unread_count"))
    assert response.json() == {"unread": 2, "label": "unread"}
    assert response["Cache-Control"] == "no-store"
    french = client.get(reverse("notifications:unread_count"), HTTP_ACCEPT_LANGUAGE="fr")
    assert french.json()["label"] == "non lues"


def test_the_badge_costs_a_page_no_query(personas, client_for):
    client = client_for(personas.bam_a)
    url = reverse("notifications:preferences")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    note(personas.bam_a)
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert not any('"carm_portal_notification"' in q["sql"] for q in after.captured_queries)
    assert len(after) == len(before)


def test_opening_marks_read_and_follows_the_link(personas, client_for):
    row = note(personas.bam_a)
    response = client_for(personas.bam_a).get(reverse("notifications:open", args=[row.pk]))
    assert response["Location"] == "/statements/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_an_offsite_link_is_never_followed(personas, client_for):
    row = note(personas.bam_a, url="https://evil.example.com/")
    response = client_for(personas.bam_a).get(reverse("notifications:open", args=[row.pk]))
    assert response["Location"] == reverse("notifications:inbox")


def test_mark_all_read_touches_only_ones_own(personas, client_for):
    mine, theirs = note(personas.bam_a), note(personas.bam_b, key="x")
    client_for(personas.bam_a).post(reverse("notifications:mark_all_read"))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_unread_filter(personas, client_for):
    note(personas.bam_a, key="a")
    note(personas.bam_a, key="b", read=True)
    page = client_for(personas.bam_a).get(reverse("notifications:inbox"), {"unread": "1"})
    assert page.context["page"].paginator.count == 1


def test_preferences_are_saved_per_kind(personas, client_for):
    data = dict.fromkeys(Kind.values, "immediately")
    data[Kind.RENEWAL_REQUEST] = "off"
    data[Kind.DELEGATION_ALERTS] = "daily"
    data[Kind.PAYMENT_ALERTS] = "off"
    response = client_for(personas.bam_a).post(reverse("notifications:preferences"), data)
    assert response.status_code == 302
    saved = dict(
        NotificationPreference.objects.filter(user=personas.bam_a).values_list("kind", "delivery")
    )
    assert saved[Kind.RENEWAL_REQUEST] == "off"
    assert saved[Kind.PAYMENT_ALERTS] == "off"
    assert saved[Kind.EXCEPTION_ASSIGNED] == "immediately"


def test_immediately_is_refused_for_the_daily_digests(personas, client_for):
    data = dict.fromkeys(Kind.values, "immediately")
    response = client_for(personas.bam_a).post(reverse("notifications:preferences"), data)
    assert response.status_code == 200
    assert Kind.DELEGATION_ALERTS in response.context["form"].errors
    assert not NotificationPreference.objects.exists()


def test_inbox_query_count_is_the_same_for_1_and_60(personas, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.bam_a)
    counts = []
    for total in (1, 60):
        Notification.objects.all().delete()
        for n in range(total):
            note(personas.bam_a, key=f"k{n}")
        client.get(reverse("notifications:inbox"))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("notifications:inbox"))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_admin_lists_notifications_read_only(personas, admin_client):
    row = note(personas.bam_a)
    listing = admin_client.get(reverse("admin:carm_portal_notification_changelist"))
    assert listing.status_code == 200
    assert str(personas.bam_a) in listing.content.decode()
    assert admin_client.get(reverse("admin:carm_portal_notification_add")).status_code == 403
    detail = admin_client.post(
        reverse("admin:carm_portal_notification_change", args=[row.pk]), {"key": "changed"}
    )
    assert detail.status_code == 403
    row.refresh_from_db()
    assert row.key == "k1"
