"""The reconciliation API: runs and their items for the six personas, starting a run, bad input."""

from __future__ import annotations

import pytest

from statements.models import ReconciliationItem, ReconciliationRun
from tests.factories import ReconciliationRunFactory, StatementFactory
from tests.statements.reconciliation_fixtures import reconciled_statement

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/reconciliation-runs/"


@pytest.fixture
def run(personas):
    return reconciled_statement(personas.importer_a.program_accounts.get())


@pytest.mark.parametrize(
    ("persona", "listed", "detail", "items"),
    [
        ("broker_admin", 1, 200, 200),
        ("broker_agent", 1, 200, 200),
        ("broker_finance", 1, 200, 200),
        ("bam_a", 1, 200, 200),
        ("finance_a", 1, 200, 200),
        ("employee_a", 0, 403, 403),
        ("bam_b", 0, 404, 404),
    ],
)
def test_each_persona_sees_the_runs_it_may(
    personas, client_for, run, persona, listed, detail, items
):
    client = client_for(personas.all()[persona])

    assert client.get(RUNS).json()["count"] == listed
    assert client.get(f"{RUNS}{run.pk}/").status_code == detail
    assert client.get(f"{RUNS}{run.pk}/items/").status_code == items


def test_anonymous_gets_nothing(client, run):
    assert client.get(RUNS).status_code in (401, 403)
    assert client.post(RUNS, {"statement": run.statement_id}).status_code in (401, 403)


def test_a_run_and_its_items_as_json(personas, client_for, run):
    client = client_for(personas.bam_a)

    body = client.get(f"{RUNS}{run.pk}/").json()
    items = client.get(f"{RUNS}{run.pk}/items/", {"status": "amount_mismatch"}).json()
    open_items = client.get(f"{RUNS}{run.pk}/items/", {"open": "true"}).json()

    assert (body["statement"], body["status"], body["is_current"], body["item_count"]) == (
        run.statement_id,
        "succeeded",
        True,
        11,
    )
    assert [(i["transaction_number"], i["difference"]) for i in items["results"]] == [
        ("12345000000033", "0.27")
    ]
    assert items["results"][0]["components_differing"]["gst"]["difference"] == "0.27"
    assert open_items["count"] == 8


def test_the_items_status_filter_refuses_an_unknown_code(personas, client_for, run):
    response = client_for(personas.broker_agent).get(f"{RUNS}{run.pk}/items/", {"status": "x"})

    assert response.status_code == 400
    assert response.json() == {"status": ["Not a status code."]}


def test_the_list_filters_by_statement_and_current(personas, client_for, run):
    ReconciliationRunFactory(statement=run.statement, status="failed", is_current=False)
    client = client_for(personas.broker_finance)

    current = client.get(RUNS, {"statement": run.statement_id, "is_current": "true"}).json()
    everything = client.get(RUNS, {"statement": run.statement_id}).json()

    assert [r["id"] for r in current["results"]] == [run.pk]
    assert everything["count"] == 2


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("broker_admin", 202),
        ("broker_agent", 202),
        ("broker_finance", 202),
        ("bam_a", 403),
        ("finance_a", 403),
        ("employee_a", 403),
        ("bam_b", 400),
    ],
)
def test_starting_a_run(
    personas, client_for, django_capture_on_commit_callbacks, persona, expected
):
    statement = StatementFactory(program_account=personas.importer_a.program_accounts.get())
    client = client_for(personas.all()[persona])

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(RUNS, {"statement": statement.pk}, content_type="application/json")

    assert response.status_code == expected
    if expected == 202:
        run = ReconciliationRun.objects.get(statement=statement)
        assert response.json()["id"] == run.pk
        assert (run.status, run.trigger) == ("queued", "api")
    elif expected == 400:
        assert response.json() == {"statement": ["No such statement."]}
        assert not ReconciliationRun.objects.exists()


def test_starting_twice_answers_the_run_under_way(
    personas, client_for, django_capture_on_commit_callbacks
):
    statement = StatementFactory(program_account=personas.importer_a.program_accounts.get())
    client = client_for(personas.broker_agent)

    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(RUNS, {"statement": statement.pk}, content_type="application/json")
        second = client.post(RUNS, {"statement": statement.pk}, content_type="application/json")

    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.parametrize(
    "body", [{}, {"statement": "abc"}, {"statement": 10**30}, {"statement": 0}]
)
def test_bad_input_is_a_400(personas, client_for, body):
    response = client_for(personas.broker_agent).post(RUNS, body, content_type="application/json")

    assert response.status_code == 400
    assert "statement" in response.json()


def test_is_current_must_be_true_or_false(personas, client_for, run):
    response = client_for(personas.broker_finance).get(RUNS, {"is_current": "maybe"})

    assert response.status_code == 400
    assert response.json() == {"is_current": ["Enter true or false."]}


def test_the_items_narrow_by_exceptions_and_open(personas, client_for, run):
    client = client_for(personas.broker_agent)
    exceptions = ReconciliationItem.objects.filter(run=run, is_exception=True).order_by("pk")
    exceptions.filter(pk=exceptions[0].pk).update(resolution="explained")

    def count(**query: str) -> int:
        return client.get(f"{RUNS}{run.pk}/items/", query).json()["count"]

    assert count(exceptions="true") + count(exceptions="false") == count() == 11
    assert count(exceptions="false", status="matched") == count(status="matched")
    assert (count(open="true"), count(open="false")) == (7, 1)


@pytest.mark.parametrize("query", [{"open": "maybe"}, {"exceptions": "2"}, {"status": ""}])
def test_the_items_refuse_a_query_they_cannot_read(personas, client_for, run, query):
    response = client_for(personas.broker_agent).get(f"{RUNS}{run.pk}/items/", query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)
