"""Who gets what on every reconciliation page and download: the six personas against importer A.

200/302 = allowed, 403 = may see importer A but not do this, 404 = may not see importer A at all.
The downloads are for finance teams: broker admin and finance, the importer's BAM (and finance
members); a broker agent works the exceptions on screen but does not download them. The worklist
is a broker page: importer users get its 403, like every broker-only page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from statements.models import ReconciliationRun
from tests.kit import persona_cases
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db


# url name, method, expected status per persona (in the order of tests.kit.PERSONAS).
TABLE = [
    ("statements:reconciliation", "get", (200, 200, 200, 200, 200, 403, 404)),
    ("statements:reconciliation_current", "get", (302, 302, 302, 302, 302, 403, 404)),
    ("statements:reconciliation_progress", "get", (302, 302, 302, 302, 302, 403, 404)),
    ("statements:reconciliation_progress", "htmx", (200, 200, 200, 200, 200, 403, 404)),
    ("statements:reconciliation_pdf", "get", (200, 403, 200, 200, 200, 403, 404)),
    ("statements:reconciliation_csv", "get", (200, 403, 200, 200, 200, 403, 404)),
    ("statements:reconciliation_item", "get", (200, 200, 200, 200, 200, 403, 404)),
    ("statements:reconciliation_item", "post", (302, 302, 302, 403, 403, 403, 404)),
    ("statements:reconcile", "post", (302, 302, 302, 403, 403, 403, 404)),
    ("statements:worklist", "get", (200, 200, 200, 403, 403, 403, 403)),
    ("statements:detail", "get", (200, 200, 200, 200, 200, 403, 404)),  # with its panel
]

CASES = persona_cases(TABLE)


@pytest.fixture
def run(personas):
    return reconciled_statement(personas.importer_a.program_accounts.get())


def _url(name: str, run: ReconciliationRun) -> str:
    statement_id = run.statement_id
    if name == "statements:worklist":
        return reverse(name)
    if name in ("statements:reconcile", "statements:reconciliation_current"):
        return reverse(name, args=[statement_id])
    if name == "statements:detail":
        return reverse(name, args=[statement_id])
    if name == "statements:reconciliation_item":
        item = run.items.get(status="amount_mismatch")
        return reverse(name, args=[statement_id, item.pk])
    return reverse(name, args=[statement_id, run.pk])


@pytest.mark.parametrize(("name", "method", "persona", "expected"), CASES)
def test_each_persona_gets_the_expected_status(
    personas, client_for, run, django_capture_on_commit_callbacks, name, method, persona, expected
):
    url = _url(name, run)
    client = client_for(personas.all()[persona])

    with django_capture_on_commit_callbacks(execute=False):
        if method == "get":
            response = client.get(url)
        elif method == "htmx":
            response = client.get(url, headers={"HX-Request": "true"})
        elif name == "statements:reconciliation_item":
            response = client.post(url, {"action": "comment", "comment-text": "Checked the CAD."})
        else:
            response = client.post(url)

    assert response.status_code == expected


@pytest.mark.parametrize(
    ("name", "method"), sorted({(n, "post" if m == "post" else "get") for n, m, _ in TABLE})
)
def test_anonymous_is_sent_to_the_login_page(personas, client, run, name, method):
    url = _url(name, run)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_another_importers_user_cannot_reach_a_run_through_their_own_statement(
    personas, client_for, run
):
    """A run or item id of importer A under a statement of importer B is a 404, not a leak."""
    other = reconciled_statement(personas.importer_b.program_accounts.get())
    client = client_for(personas.bam_b)
    item = run.items.first()

    assert client.get(reverse("statements:reconciliation", args=[other.statement_id, run.pk])).status_code == 404  # fmt: skip
    assert client.get(reverse("statements:reconciliation_item", args=[other.statement_id, item.pk])).status_code == 404  # fmt: skip
    assert client.get(reverse("statements:reconciliation_csv", args=[other.statement_id, run.pk])).status_code == 404  # fmt: skip


def test_the_worklist_shows_only_the_exceptions_of_current_runs(personas, client_for, run):
    old = reconciled_statement(
        personas.importer_a.program_accounts.get(), statement=run.statement, is_current=False
    )
    client = client_for(personas.broker_agent)

    response = client.get(reverse("statements:worklist"))

    shown = {item.pk for item in response.context["items"]}
    assert shown == set(run.items.filter(is_exception=True).values_list("pk", flat=True))
    assert not shown & set(old.items.values_list("pk", flat=True))


def test_the_panel_and_buttons_follow_the_persona(personas, client_for, run):
    statement_url = reverse("statements:detail", args=[run.statement_id])
    pdf_url = reverse("statements:reconciliation_pdf", args=[run.statement_id, run.pk])
    reconcile_url = reverse("statements:reconcile", args=[run.statement_id])

    agent_page = client_for(personas.broker_agent).get(statement_url).content.decode()
    bam_page = client_for(personas.bam_a).get(statement_url).content.decode()
    finance_page = client_for(personas.broker_finance).get(statement_url).content.decode()
    finance_a_page = client_for(personas.finance_a).get(statement_url).content.decode()

    assert "Amounts by status" in agent_page
    assert (reconcile_url in agent_page, pdf_url in agent_page) == (True, False)
    assert (reconcile_url in bam_page, pdf_url in bam_page) == (False, True)
    assert (reconcile_url in finance_page, pdf_url in finance_page) == (True, True)
    assert (reconcile_url in finance_a_page, pdf_url in finance_a_page) == (False, True)
