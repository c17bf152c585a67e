import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from clients.models import Importer
from delegation.models import Delegation, DelegationAlert
from tests.factories import DelegationFactory, ImporterFactory, PortalUserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("check_delegations", *args, stdout=out)
    return out.getvalue()


def test_command_checks_and_sends_digests_as_of_a_date():
    importer = ImporterFactory(status=Importer.Status.ACTIVE)
    PortalUserFactory(importer=importer, email="bam@importer.example.com")
    DelegationFactory(importer=importer, expiry_date=dt.date(2026, 11, 30))
    output = run("--today", "2026-12-01")
    assert output.splitlines()[0] == (
        "2026-12-01: 1 delegations of 1 importers checked; 1 findings, 1 new alerts, "
        "0 reopened, 0 resolved, 1 marked expired."
    )
    assert "expired" in output
    assert "1 email digest(s) sent." in output
    assert [m.to for m in mail.outbox] == [["bam@importer.example.com"]]
    assert Delegation.objects.get().status == "expired"


def test_command_twice_sends_nothing_more():
    importer = ImporterFactory(status=Importer.Status.ACTIVE)
    PortalUserFactory(importer=importer)
    run("--today", "2026-11-23")
    output = run("--today", "2026-11-23")
    assert "0 new alerts" in output
    assert "0 email digest(s) sent." in output
    assert len(mail.outbox) == 1
    assert DelegationAlert.objects.count() == 1


def test_no_email_records_alerts_only():
    ImporterFactory(status=Importer.Status.ACTIVE)
    output = run("--today", "2026-11-23", "--no-email")
    assert "digest" not in output
    assert DelegationAlert.objects.count() == 1
    assert mail.outbox == []


@pytest.mark.parametrize("value", ["2026-02-30", "23/11/2026", "tomorrow"])
def test_bad_date_is_a_clear_error(value):
    with pytest.raises(CommandError, match="--today must be a date as YYYY-MM-DD"):
        run("--today", value)
