"""The worklist's two forms list the broker's staff from one list read by the view: the same
options, the same HTML, as each reading ``broker_staff()`` itself, and no query of their own."""

from __future__ import annotations

import pytest

from clients.access import broker_staff
from statements.reconciliation_forms import BulkForm, WorklistForm


@pytest.mark.parametrize("chosen", [None, 0, -1])
def test_the_bulk_forms_people_from_the_list_are_its_own(
    personas, chosen, django_assert_num_queries
):
    staff = list(broker_staff())
    assert len(staff) > 2
    data = None if chosen is None else {"bulk-assignee": str(staff[chosen].pk)}
    # A bound form still checks the choice against broker_staff() (one query); the list, none.
    with django_assert_num_queries(0 if data is None else 1):
        drawn = str(BulkForm(data, prefix="bulk", ids=[4, 5], staff=staff)["assignee"])
    assert drawn == str(BulkForm(data, prefix="bulk", ids=[4, 5])["assignee"])
    assert all(person.email in drawn for person in staff)


def test_the_bulk_form_still_checks_the_assignee_against_the_staff(personas):
    staff = list(broker_staff())
    form = BulkForm(
        {"bulk-items": ["4"], "bulk-action": "assign", "bulk-assignee": str(staff[0].pk)},
        prefix="bulk",
        ids=[4],
        staff=staff,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["assignee"] == staff[0]
    refused = BulkForm(
        {"bulk-items": ["4"], "bulk-action": "assign", "bulk-assignee": str(personas.bam_a.pk)},
        prefix="bulk",
        ids=[4],
        staff=staff,
    )
    assert not refused.is_valid()
    assert "assignee" in refused.errors


@pytest.mark.parametrize("params", [None, {"assignee": "mine"}, {"assignee": "other"}])
def test_the_filters_people_from_the_list_are_their_own(
    personas, params, django_assert_num_queries
):
    staff = list(broker_staff())
    if params == {"assignee": "other"}:
        params = {"assignee": str(staff[1].pk)}
    with django_assert_num_queries(0):
        drawn = str(WorklistForm(params, staff=staff)["assignee"])
    assert drawn == str(WorklistForm(params)["assignee"])
    assert all(str(person) in drawn for person in staff)
