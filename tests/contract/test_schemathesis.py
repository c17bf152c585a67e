"""The API answers as its OpenAPI schema says: schemathesis against a live server.

The app runs on a loopback port (pytest-django's ``live_server``) over seeded data: the kit's
personas, a reconciled statement, a payment and a security. schemathesis (its ``st run`` command)
reads the schema and sends generated requests to every operation, as a broker agent and as an
importer's BAM, each with a personal API token. Any server error or departure from the schema
(status code, content type, body) fails the test, with schemathesis' report in the message.

Bounded for CI: a few examples per operation, one worker, ``SCHEMATHESIS_BUDGET`` seconds at
most per persona (150 by default), the "examples" and "fuzzing" phases. ``make fuzz`` adds the
"coverage" phase (every boundary value of every parameter), which takes half an hour or more.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from carm_portal import api_tokens
from carm_portal.calendar import cbsa_today
from payments.records import record_payment
from tests.factories import FinancialSecurityFactory
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    ]
)
BUDGET = int(os.environ.get("SCHEMATHESIS_BUDGET", "150"))
PHASES = os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing")
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "3"))
ST = Path(sys.executable).with_name("st")


@pytest.fixture
def seeded(personas):
    for importer in (personas.importer_a, personas.importer_b):
        account = importer.program_accounts.get()
        reconciled_statement(account)
        record_payment(
            importer=importer,
            program_account=account,
            amount=Decimal("300.00"),
            method="online_banking",
            paid_on=cbsa_today() - dt.timedelta(days=3),
            by=None,
        )
        FinancialSecurityFactory(program_account=account)
    return personas


def run_schemathesis(base_url: str, token: str, report: Path) -> tuple[int | None, str]:
    """schemathesis' exit status (None when it ran out of time) and its report."""
    try:
        done = subprocess.run(  # noqa: S603
            [
                str(ST),
                "--no-color",
                "run",
                f"{base_url}/api/schema/?format=json",
                "--url",
                base_url,
                "--checks",
                CHECKS,
                "--phases",
                PHASES,
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                "1",
                "--generation-deterministic",
                "--request-timeout",
                "20",
                "--header",
                f"Authorization: Bearer {token}",
                "--report",
                "junit",
                "--report-junit-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=BUDGET,
            cwd=report.parent,  # its run cache (.schemathesis/) stays out of the repository
        )
    except subprocess.TimeoutExpired as late:
        output = late.output.decode() if isinstance(late.output, bytes) else (late.output or "")
        return None, output
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("persona", ["broker_agent", "bam_a"])
def test_the_api_keeps_its_schema(live_server, seeded, persona, tmp_path, settings):
    settings.API_THROTTLE_RATES = {}  # schemathesis sends thousands of requests
    _token, raw = api_tokens.issue(user=getattr(seeded, persona), name="schemathesis")

    status, report = run_schemathesis(live_server.url, raw, tmp_path / "junit.xml")

    assert status == 0, report[-15_000:]
