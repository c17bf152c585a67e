"""A statement file, once accepted, has its balances computed at once (no wait for the nightly check)."""

from pathlib import Path

import pytest

from clients.access import BrokerRole
from payments.models import StatementBalance
from statements import importing
from statements.models import Statement
from tests.factories import UserFactory
from tests.statements.conftest import accounts  # noqa: F401  (fixture)

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
pytestmark = pytest.mark.django_db


def test_accepted_statement_file_gets_its_balances_in_the_same_transaction(accounts):  # noqa: F811
    result = importing.import_path(
        kind="statement", path=SAMPLES / "statement.csv", user=UserFactory(roles=[BrokerRole.AGENT])
    )
    assert result.batch.status == "accepted"
    statements = Statement.objects.filter(source_batch=result.batch)
    assert statements.count() >= 1
    assert StatementBalance.objects.filter(statement__in=statements).count() == statements.count()


def test_refused_file_computes_nothing(accounts):  # noqa: F811
    result = importing.import_stream(
        kind="statement", stream=__import__("io").BytesIO(b"nonsense\n1\n"), file_name="bad.csv"
    )
    assert result.batch.status == "refused"
    assert StatementBalance.objects.count() == 0
