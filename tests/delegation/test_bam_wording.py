"""Findings are worded for who reads them: the broker is told to ask the importer's BAM; the BAM,
who changes the delegation in the CCP herself, is told to do it (not to ask herself)."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.urls import reverse

from carm_portal.calendar import cbsa_today
from carm_portal.severity import Severity
from clients.access import acts_in_ccp
from delegation.rules import Finding, Kind, bam_parts, finding_parts
from tests.factories import DelegationFactory

pytestmark = pytest.mark.django_db

BROKER_WORDS = "Ask the importer's BAM to extend it in the CCP before then."
BAM_WORDS = "Extend it in the CCP before then."


def test_only_the_importers_bam_acts_in_the_ccp(personas):
    importer = personas.importer_a
    assert acts_in_ccp(personas.bam_a, importer)
    assert not acts_in_ccp(personas.broker_agent, importer)  # may confirm, but is the broker
    assert not acts_in_ccp(personas.employee_a, importer)
    assert not acts_in_ccp(personas.bam_b, importer)


@pytest.mark.parametrize(
    "kind", [Kind.PENDING_TOO_LONG, Kind.BLANK_EXPIRY, Kind.EXPIRED, Kind.NO_DELEGATION]
)
def test_every_ask_the_bam_sentence_has_a_bam_version(kind):
    details = {Kind.PENDING_TOO_LONG: (9,)}.get(kind, ())
    finding = Finding(kind, Severity.BLOCKING, details=details, expiry_date=dt.date(2026, 1, 5))
    broker, bam = finding.message, finding.message_for_bam
    assert "importer's BAM" in broker or "ask the bam" in broker.lower()
    assert "importer's BAM" not in bam and "Ask the BAM" not in bam
    assert bam_parts(kind, finding_parts(finding)) is not None


def test_the_delegation_page_speaks_to_its_reader(personas, client_for):
    delegation = DelegationFactory(
        importer=personas.importer_a,
        status="active",
        expiry_date=cbsa_today() + dt.timedelta(days=10),
    )
    url = reverse("delegation:detail", args=[delegation.pk])

    bam = unescape(client_for(personas.bam_a).get(url).content.decode())
    agent = unescape(client_for(personas.broker_agent).get(url).content.decode())

    assert BAM_WORDS in bam and BROKER_WORDS not in bam
    assert BROKER_WORDS in agent
