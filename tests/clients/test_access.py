import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clients import access
from clients.access import GlobalPerm, Perm
from clients.models import PortalUser

pytestmark = pytest.mark.django_db

# What each persona may do on importer A (the one the importer personas belong to).
EXPECTED_ON_A = {
    # The importer's own readiness answers come from its people: staff answer through a check.
    "broker_admin": set(Perm) - {Perm.VIEW_BANK_ACCOUNT, Perm.ANSWER_READINESS},
    "broker_agent": {
        Perm.VIEW,
        Perm.MANAGE_CLIENT,
        Perm.MANAGE_PEOPLE,
        Perm.INVITE,
        Perm.MANAGE_DELEGATION,
        Perm.CONFIRM_DELEGATION,
        Perm.VIEW_FINANCE,
        Perm.MANAGE_STATEMENTS,
        Perm.ONBOARD,
        Perm.REQUEST_SERVICES,
        Perm.VIEW_CHARGES,
        Perm.FILE_DOCUMENTS,
        Perm.VIEW_TRAINING,
        Perm.RECORD_TRAINING,
        Perm.VIEW_READINESS,
        Perm.TAKE_READINESS,
    },
    "broker_finance": {
        Perm.VIEW,
        Perm.VIEW_FINANCE,
        Perm.MANAGE_STATEMENTS,
        Perm.MANAGE_PAYMENTS,
        Perm.DOWNLOAD_RECONCILIATION,
        Perm.VIEW_CHARGES,
        Perm.FILE_DOCUMENTS,
        Perm.VIEW_TRAINING,
        Perm.VIEW_READINESS,
    },
    "bam_a": {
        Perm.VIEW,
        Perm.MANAGE_PEOPLE,
        Perm.INVITE,
        Perm.CONFIRM_DELEGATION,
        Perm.VIEW_FINANCE,
        Perm.MANAGE_PAYMENTS,
        Perm.VIEW_BANK_ACCOUNT,
        Perm.DOWNLOAD_RECONCILIATION,
        Perm.ONBOARD,
        Perm.REQUEST_SERVICES,
        Perm.VIEW_CHARGES,
        Perm.FILE_DOCUMENTS,
        Perm.VIEW_TRAINING,
        Perm.VIEW_READINESS,
        Perm.ANSWER_READINESS,
    },
    "finance_a": {
        Perm.VIEW,
        Perm.VIEW_FINANCE,
        Perm.MANAGE_PAYMENTS,
        Perm.DOWNLOAD_RECONCILIATION,
        Perm.VIEW_CHARGES,
        Perm.FILE_DOCUMENTS,
    },
    "employee_a": {Perm.VIEW},
    "bam_b": set(),
}


@pytest.mark.parametrize("persona", EXPECTED_ON_A)
def test_permissions_on_importer_a(personas, persona):
    user = personas.all()[persona]
    assert set(access.permissions_for(user, personas.importer_a)) == EXPECTED_ON_A[persona]


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("broker_admin", {"Alpha Imports Inc.", "Bravo Trading Ltd."}),
        ("broker_agent", {"Alpha Imports Inc.", "Bravo Trading Ltd."}),
        ("broker_finance", {"Alpha Imports Inc.", "Bravo Trading Ltd."}),
        ("bam_a", {"Alpha Imports Inc."}),
        ("finance_a", {"Alpha Imports Inc."}),
        ("employee_a", {"Alpha Imports Inc."}),
        ("bam_b", {"Bravo Trading Ltd."}),
    ],
)
def test_visible_importers(personas, persona, visible):
    user = personas.all()[persona]
    assert {i.legal_name for i in access.visible_importers(user)} == visible


def test_broker_staff_never_see_bank_accounts(personas):
    for user in (personas.broker_admin, personas.broker_agent, personas.broker_finance):
        assert not access.can(user, Perm.VIEW_BANK_ACCOUNT, personas.importer_a)
    assert access.can(personas.bam_a, Perm.VIEW_BANK_ACCOUNT, personas.importer_a)


def test_get_importer_is_404_for_outsiders_and_403_without_the_permission(personas):
    a = personas.importer_a
    assert access.get_importer(personas.bam_a, a.pk) == a
    with pytest.raises(Http404):
        access.get_importer(personas.bam_b, a.pk)
    with pytest.raises(PermissionDenied):
        access.get_importer(personas.employee_a, a.pk, Perm.MANAGE_PEOPLE)
    with pytest.raises(Http404):
        access.get_importer(personas.broker_admin, "not-a-number")


def test_scope_limits_any_importer_owned_queryset(personas):
    from tests.factories import PortalUserFactory

    PortalUserFactory(importer=personas.importer_a, full_name="Ann Alpha")
    PortalUserFactory(importer=personas.importer_b, full_name="Bob Bravo")
    people = PortalUser.objects.order_by("full_name")
    assert [p.full_name for p in access.scope(people, personas.bam_a)] == ["Ann Alpha"]
    assert [p.full_name for p in access.scope(people, personas.broker_finance)] == [
        "Ann Alpha",
        "Bob Bravo",
    ]
    assert list(access.scope(people, AnonymousUser())) == []


def test_scope_for_keeps_only_importers_where_the_role_holds_the_permission(personas):
    from clients.models import Importer

    def finance_importers(user, perm):
        return list(access.scope_for(Importer.objects.all(), user, perm, importer_field="pk"))

    assert finance_importers(personas.employee_a, Perm.VIEW_FINANCE) == []
    assert finance_importers(personas.bam_a, Perm.VIEW_FINANCE) == [personas.importer_a]
    assert finance_importers(personas.finance_a, Perm.VIEW_FINANCE) == [personas.importer_a]
    assert finance_importers(personas.finance_a, Perm.MANAGE_STATEMENTS) == []
    assert finance_importers(personas.broker_agent, Perm.MANAGE_PAYMENTS) == []


def test_get_scoped_follows_the_importer_path(personas):
    from tests.factories import PortalUserFactory

    person = PortalUserFactory(importer=personas.importer_a)
    assert access.get_scoped(PortalUser.objects, personas.bam_a, person.pk) == person
    with pytest.raises(Http404):
        access.get_scoped(PortalUser.objects, personas.bam_b, person.pk)
    with pytest.raises(PermissionDenied):
        access.get_scoped(PortalUser.objects, personas.employee_a, person.pk, Perm.MANAGE_PEOPLE)


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("broker_admin", set(GlobalPerm)),
        (
            "broker_agent",
            {
                GlobalPerm.VIEW_PORTFOLIO,
                GlobalPerm.CREATE_IMPORTER,
                GlobalPerm.MANAGE_PROSPECTS,
                GlobalPerm.MANAGE_WEBINARS,
                GlobalPerm.DELIVER_SERVICES,
                GlobalPerm.MANAGE_TRAINING,
            },
        ),
        ("broker_finance", {GlobalPerm.VIEW_PORTFOLIO, GlobalPerm.BILL_CHARGES}),
        ("bam_a", set()),
        ("finance_a", set()),
        ("employee_a", set()),
        ("bam_b", set()),
    ],
)
def test_global_permissions(personas, persona, allowed):
    user = personas.all()[persona]
    assert {p for p in GlobalPerm if access.can_global(user, p)} == allowed


def test_superuser_counts_as_broker_admin(db):
    from tests.factories import UserFactory

    root = UserFactory(is_superuser=True)
    assert access.broker_roles(root) == {access.BrokerRole.ADMIN}


def test_inactive_and_anonymous_users_get_nothing(personas):
    personas.bam_a.is_active = False
    access.forget(personas.bam_a)
    assert access.permissions_for(personas.bam_a, personas.importer_a) == frozenset()
    assert access.permissions_for(AnonymousUser(), personas.importer_a) == frozenset()
    assert not access.visible_importers(AnonymousUser()).exists()


def test_roles_are_read_once_per_user_object(personas, django_assert_num_queries):
    user = personas.bam_a
    access.forget(user)
    with django_assert_num_queries(2):  # groups, memberships
        answers = [access.can(user, Perm.VIEW, personas.importer_a) for _ in range(5)]
    assert answers == [True] * 5
