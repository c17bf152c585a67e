"""Factories for the services app's models."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from services.models import Prospect, Registration, WalkthroughSlot, WebinarSession


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prospect

    name = factory.Faker("name")
    company = factory.Sequence(lambda n: f"Prospect Trading {n} Inc.")
    email = factory.Sequence(lambda n: f"contact{n}@prospect.example.com")
    services = factory.LazyFunction(lambda: ["management"])
    consent_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)


class WebinarSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebinarSession

    title = "How to Prepare for CARM"
    description = "CARM overview, CCP set-up, access roles and delegation, Q&A"
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=7))
    duration_minutes = 60
    capacity = 20
    join_url = "https://meet.example.com/carm"


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    session = factory.SubFactory(WebinarSessionFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"attendee{n}@example.com")
    status = Registration.Status.CONFIRMED


class WalkthroughSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WalkthroughSlot

    agent = factory.SubFactory("tests.factories.UserFactory", roles=["broker agent"])
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    join_url = "https://meet.example.com/walkthrough"
