"""The staff pipeline: access per persona, filters, constant queries, and conversion to a client."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import access, invitations
from clients.models import Importer, Invitation
from services.models import Prospect, Stage
from services.pipeline import ConversionError, Filters, convert_to_importer, pipeline
from tests.factories import bn9_for
from tests.kit import persona_cases
from tests.services.factories import ProspectFactory

pytestmark = pytest.mark.django_db

TABLE = [
    ("services:prospect_list", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("services:prospect_detail", "get", (200, 200, 403, 403, 403, 403, 403)),
    ("services:prospect_detail", "post", (200, 200, 403, 403, 403, 403, 403)),
    ("services:prospect_convert", "post", (302, 302, 403, 403, 403, 403, 403)),
]


@pytest.mark.parametrize(("name", "method", "persona", "expected"), persona_cases(TABLE))
def test_each_persona_gets_the_expected_status(
    personas, client_for, name, method, persona, expected
):
    prospect = ProspectFactory()
    args = [] if name == "services:prospect_list" else [prospect.pk]
    client = client_for(personas.all()[persona])

    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == expected


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("services:prospect_list"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_list_hides_unconfirmed_unless_asked(personas, client_for):
    ProspectFactory(company="Confirmed Co")
    ProspectFactory(company="Claimed Co", confirmed_at=None)
    client = client_for(personas.broker_agent)

    page = client.get(reverse("services:prospect_list")).content.decode()
    everything = client.get(reverse("services:prospect_list") + "?unconfirmed=on").content.decode()

    assert "Confirmed Co" in page and "Claimed Co" not in page
    assert "Claimed Co" in everything


def test_filters(personas):
    mine = ProspectFactory(owner=personas.broker_agent, stage=Stage.CONTACTED)
    ProspectFactory(stage=Stage.LOST, lost_reason="went elsewhere")
    due = ProspectFactory(next_action_on=dt.date(2026, 1, 5), company="Due Soon Ltd")

    assert list(pipeline(Filters(owner_id=personas.broker_agent.pk))) == [mine]
    assert set(pipeline(Filters(stage="open"))) == {mine, due}
    assert list(pipeline(Filters(due_by=dt.date(2026, 1, 6)))) == [due]
    assert list(pipeline(Filters(q="due soon"))) == [due]


def test_list_is_constant_query(personas, client_for):
    client = client_for(personas.broker_agent)
    ProspectFactory(owner=personas.broker_agent)
    client.get(reverse("services:prospect_list"))  # warm the per-user caches
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("services:prospect_list"))
    for _ in range(4):
        ProspectFactory(owner=personas.broker_admin)
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("services:prospect_list"))

    assert len(five) == len(one)


def test_lost_needs_a_reason(personas, client_for):
    prospect = ProspectFactory()
    client = client_for(personas.broker_agent)

    response = client.post(
        reverse("services:prospect_detail", args=[prospect.pk]), {"stage": "lost"}
    )

    assert response.status_code == 200
    prospect.refresh_from_db()
    assert prospect.stage == Stage.NEW


def test_staff_update_stage_owner_and_next_action(personas, client_for):
    prospect = ProspectFactory()
    client = client_for(personas.broker_agent)

    client.post(
        reverse("services:prospect_detail", args=[prospect.pk]),
        {
            "stage": "contacted",
            "owner": personas.broker_agent.pk,
            "next_action_on": "2026-12-10",
            "notes": "Called",
        },
    )

    prospect.refresh_from_db()
    assert (prospect.stage, prospect.owner, prospect.next_action_on, prospect.notes) == (
        Stage.CONTACTED,
        personas.broker_agent,
        dt.date(2026, 12, 10),
        "Called",
    )


def test_conversion_creates_one_importer_and_one_invitation_twice_clicked(
    personas, client_for, django_capture_on_commit_callbacks
):
    prospect = ProspectFactory(
        company="Maple Imports Ltd.", email="paula@maple.example.com", owner=personas.broker_agent
    )
    client = client_for(personas.broker_agent)
    url = reverse("services:prospect_convert", args=[prospect.pk])
    before = Importer.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url)
        second = client.post(url)

    importer = Importer.objects.get(legal_name="Maple Imports Ltd.")
    assert Importer.objects.count() == before + 1
    assert first["Location"] == second["Location"] == importer.get_absolute_url()
    assert importer.bn9 is None
    assert importer.email == "paula@maple.example.com"
    assert importer.assigned_agent == personas.broker_agent
    invitation = Invitation.objects.get(importer=importer)
    assert invitation.email == "paula@maple.example.com"
    assert access.is_bam_role(invitation.role)
    assert invitations.state(invitation) == "pending"
    assert [m.to for m in mail.outbox] == [["paula@maple.example.com"]]
    prospect.refresh_from_db()
    assert (prospect.importer, prospect.stage) == (importer, Stage.INVITED)


def test_conversion_keeps_a_valid_free_bn9(personas):
    prospect = ProspectFactory(bn9=bn9_for(777))

    outcome = convert_to_importer(prospect=prospect, by=personas.broker_agent)

    assert outcome.importer.bn9 == bn9_for(777)


def test_conversion_leaves_a_taken_bn9_for_the_wizard(personas):
    prospect = ProspectFactory(bn9=personas.importer_a.bn9)

    outcome = convert_to_importer(prospect=prospect, by=personas.broker_agent)

    assert outcome.importer.bn9 is None


def test_two_importers_without_bn9_coexist(personas):
    a = convert_to_importer(prospect=ProspectFactory(), by=personas.broker_agent)
    b = convert_to_importer(prospect=ProspectFactory(), by=personas.broker_agent)

    assert a.importer.bn9 is None and b.importer.bn9 is None


def test_an_unconfirmed_prospect_is_not_converted(personas):
    prospect = ProspectFactory(confirmed_at=None)

    with pytest.raises(ConversionError):
        convert_to_importer(prospect=prospect, by=personas.broker_agent)

    assert Prospect.objects.get(pk=prospect.pk).importer is None
    assert not Importer.objects.filter(legal_name=prospect.company).exists()


def test_the_invited_contact_lands_in_the_onboarding_wizard(
    personas, client, django_capture_on_commit_callbacks
):
    from carm_portal.models import User

    prospect = ProspectFactory(email="new.bam@maple.example.com")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = convert_to_importer(prospect=prospect, by=personas.broker_agent)
    user = User.objects.create_user(email="new.bam@maple.example.com", password="x" * 12)
    invitation = Invitation.objects.get(pk=outcome.invitation.pk)
    invitations.accept(invitation, user=user, verify_email=False)
    client.force_login(user)

    resumed = client.get(reverse("onboarding:wizard", args=[outcome.importer.pk]))
    business = client.get(reverse("onboarding:step", args=[outcome.importer.pk, "business"]))

    assert resumed.status_code == 302
    assert business.status_code == 200
    assert 'name="bn9"' in business.content.decode()


def test_a_converted_prospects_page_shows_the_importer_and_its_invitation(personas, client_for):
    prospect = ProspectFactory(company="Shown Co Ltd")
    convert_to_importer(prospect=prospect, by=personas.broker_agent)

    page = client_for(personas.broker_agent).get(prospect.get_absolute_url()).content.decode()

    assert prospect.importer.get_absolute_url() in page
    assert "Pending" in page
    assert reverse("services:prospect_convert", args=[prospect.pk]) not in page
