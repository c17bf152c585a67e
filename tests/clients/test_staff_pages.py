"""Staff and client-group pages (broker admins), instead of the Django admin."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients import access
from clients.access import BrokerRole
from clients.groups import move_importers
from clients.models import ClientGroup, Importer, StaffEvent
from clients.staff import deactivate, set_roles
from tests.factories import ClientGroupFactory, ImporterFactory, UserFactory
from tests.kit import persona_cases

ADMIN_ONLY = (200, 403, 403, 403, 403, 403, 403)


@pytest.mark.parametrize(
    "name, persona, expected",
    persona_cases(
        [
            ("staff:list", ADMIN_ONLY),
            ("clients:group_list", ADMIN_ONLY),
            ("clients:move", ADMIN_ONLY),
        ]
    ),
)
def test_each_page_for_each_persona(personas, client_for, name, persona, expected):
    assert client_for(personas.all()[persona]).get(reverse(name)).status_code == expected


@pytest.mark.parametrize(
    "persona, expected",
    [
        (p, s)
        for p, s in zip(("broker_admin", "broker_agent", "bam_a"), (200, 403, 403), strict=True)
    ],
)
def test_one_staff_member_and_one_group_pages(personas, client_for, persona, expected):
    group = ClientGroupFactory(name="East")
    client = client_for(personas.all()[persona])

    assert (
        client.get(reverse("staff:detail", args=[personas.broker_agent.pk])).status_code == expected
    )
    assert client.get(reverse("clients:group_edit", args=[group.pk])).status_code == expected


@pytest.mark.django_db
def test_an_importer_person_is_not_a_staff_page(personas, client_for):
    client = client_for(personas.broker_admin)

    assert client.get(reverse("staff:detail", args=[personas.bam_a.pk])).status_code == 404
    assert client.get(reverse("clients:group_edit", args=[999])).status_code == 404


@pytest.mark.django_db
def test_an_admin_invites_staff_who_get_a_link_and_a_role(personas, client_for):
    response = client_for(personas.broker_admin).post(
        reverse("staff:list"),
        {
            "email": "New.Agent@Broker.example.com",
            "full_name": "Nina New",
            "roles": ["broker agent"],
        },
    )

    user = access.broker_staff().get(email="new.agent@broker.example.com")
    assert response.status_code == 302
    assert access.staff_roles_of(user) == {BrokerRole.AGENT}
    assert not user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["new.agent@broker.example.com"]]
    assert StaffEvent.objects.get(subject=user).action == StaffEvent.Action.INVITED


@pytest.mark.django_db
def test_an_importer_person_cannot_be_invited_or_made_staff(personas, client_for):
    response = client_for(personas.broker_admin).post(
        reverse("staff:list"),
        {"email": personas.bam_a.email, "full_name": "Bam", "roles": ["broker finance"]},
    )

    assert response.status_code == 200
    assert "belongs to an importer" in response.content.decode()
    with pytest.raises(ValidationError):
        set_roles(user=personas.bam_a, roles=[BrokerRole.FINANCE], by=personas.broker_admin)
    assert not access.is_broker_account(personas.bam_a)


@pytest.mark.django_db
def test_roles_are_granted_and_removed_with_a_record(personas, client_for):
    finance = personas.broker_finance

    response = client_for(personas.broker_admin).post(
        reverse("staff:detail", args=[finance.pk]),
        {"action": "roles", "roles": ["broker agent"]},
    )

    assert response.status_code == 302
    assert access.staff_roles_of(finance) == {BrokerRole.AGENT}
    assert sorted(StaffEvent.objects.filter(subject=finance).values_list("action", flat=True)) == [
        "role_granted",
        "role_removed",
    ]


@pytest.mark.django_db
def test_deactivating_hands_the_portfolio_over_in_one_step(personas, client_for):
    leaving = personas.broker_agent
    successor = UserFactory(roles=[BrokerRole.AGENT])
    group = ClientGroupFactory(name="Prairies")
    group.agents.add(leaving)
    ImporterFactory(assigned_agent=leaving)

    response = client_for(personas.broker_admin).post(
        reverse("staff:detail", args=[leaving.pk]),
        {"action": "deactivate", "successor": successor.pk},
    )

    leaving.refresh_from_db()
    assert response.status_code == 302
    assert not leaving.is_active
    assert Importer.objects.filter(assigned_agent=successor).count() == 2
    assert Importer.objects.filter(assigned_agent=leaving).count() == 0
    assert list(group.agents.all()) == [successor]
    record = personas.importer_a.history.first()
    assert (record.assigned_agent_id, record.history_user_id) == (
        successor.pk,
        personas.broker_admin.pk,
    )


@pytest.mark.django_db
def test_deactivating_someone_with_clients_needs_a_successor_and_changes_nothing(personas):
    with pytest.raises(ValidationError):
        deactivate(user=personas.broker_agent, successor=None, by=personas.broker_admin)

    personas.broker_agent.refresh_from_db()
    assert personas.broker_agent.is_active
    personas.importer_a.refresh_from_db()
    assert personas.importer_a.assigned_agent == personas.broker_agent
    assert not StaffEvent.objects.exists()


@pytest.mark.django_db
def test_an_admin_cannot_deactivate_themselves(personas):
    with pytest.raises(ValidationError):
        deactivate(user=personas.broker_admin, successor=None, by=personas.broker_admin)


@pytest.mark.django_db
def test_groups_are_created_renamed_and_given_agents(personas, client_for):
    client = client_for(personas.broker_admin)

    client.post(
        reverse("clients:group_list"), {"name": "Atlantic", "agents": [personas.broker_agent.pk]}
    )
    group = ClientGroup.objects.get(name="Atlantic")
    client.post(reverse("clients:group_edit", args=[group.pk]), {"name": "Maritimes", "agents": []})

    group.refresh_from_db()
    assert (group.name, list(group.agents.all())) == ("Maritimes", [])
    assert [e.action for e in group.events.order_by("at", "id")] == [
        "group_created",
        "group_changed",
    ]


@pytest.mark.django_db
def test_importers_move_in_bulk_between_groups_and_agents(personas, client_for):
    west, east = ClientGroupFactory(name="West"), ClientGroupFactory(name="East")
    movers = [ImporterFactory(client_group=west) for _ in range(3)]
    stays = ImporterFactory(client_group=east)

    response = client_for(personas.broker_admin).post(
        reverse("clients:move"),
        {"from_group": west.pk, "to_group": east.pk, "to_agent": personas.broker_agent.pk},
    )

    assert response.status_code == 302
    assert set(Importer.objects.filter(client_group=east)) == {*movers, stays}
    assert set(Importer.objects.filter(assigned_agent=personas.broker_agent)) >= set(movers)
    assert stays.assigned_agent is None
    assert movers[0].history.first().history_change_reason == "Moved in bulk"


@pytest.mark.django_db
def test_move_by_business_numbers_and_clear_the_group(personas):
    group = ClientGroupFactory(name="North")
    one, two = ImporterFactory(client_group=group), ImporterFactory(client_group=group)

    moved = move_importers(
        Importer.objects.filter(bn9__in=[one.bn9]), group=None, by=personas.broker_admin
    )

    one.refresh_from_db()
    two.refresh_from_db()
    assert (moved, one.client_group, two.client_group) == (1, None, group)
