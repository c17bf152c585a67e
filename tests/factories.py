"""factory-boy factories for every model the tests need; valid identifiers by construction."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group
from stdnum import luhn

from carm_portal.models import User
from clients.models import ClientGroup, Importer, Membership, PortalUser, ProgramAccount

DEFAULT_PASSWORD = "correct-horse-battery-staple"


def bn9_for(n: int) -> str:
    """A valid 9-digit Business Number built from ``n`` (8 digits + the Luhn check digit)."""
    body = f"{(10_000_000 + n * 7919) % 100_000_000:08d}"
    return body + luhn.calc_check_digit(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        """``UserFactory(roles=["broker agent"])`` puts the user in those broker groups."""
        if create and extracted:
            self.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in extracted])
        if create:
            self.save()


class ClientGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientGroup

    name = factory.Sequence(lambda n: f"Client group {n}")


class ImporterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Importer

    legal_name = factory.Sequence(lambda n: f"Importer {n:04d} Ltd.")
    bn9 = factory.Sequence(bn9_for)
    status = Importer.Status.ONBOARDING
    address_line1 = factory.Sequence(lambda n: f"{100 + n} King Street West")
    city = "Toronto"
    province = "ON"
    postal_code = "M5H 1A1"


class ProgramAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramAccount

    importer = factory.SubFactory(ImporterFactory)
    bn15 = factory.LazyAttributeSequence(lambda o, n: f"{o.importer.bn9}RM{(n % 9999) + 1:04d}")
    name = "Head office"


class PortalUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalUser

    importer = factory.SubFactory(ImporterFactory)
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@importer.example.com")
    ccp_role = PortalUser.CcpRole.BAM
    sign_in_method = PortalUser.SignInMethod.GCKEY
    profile_created = True
    access_approved = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    importer = factory.SubFactory(ImporterFactory)
    role = Membership.Role.BAM


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "delegation.Delegation"

    importer = factory.SubFactory(ImporterFactory)
    relationship = "BMR"
    authority = "pBAM"
    status = "active"
    requested_on = factory.LazyFunction(lambda: dt.date(2026, 1, 5))
    approved_on = factory.LazyFunction(lambda: dt.date(2026, 1, 8))
    expiry_date = factory.LazyFunction(lambda: dt.date(2027, 12, 31))
