"""The corrections tracker: deadlines, the four-year limit, the free window, filing by import."""

import datetime as dt
from decimal import Decimal

import pytest

from services.compliance.corrections import (
    CorrectionError,
    change_status,
    deadline_for,
    free_until,
    limitation_date,
    open_correction,
)
from services.models import Correction
from statements import workflow
from statements.models import BrokerEntry
from tests.factories import (
    BrokerEntryFactory,
    ImporterFactory,
    ProgramAccountFactory,
    ReconciliationItemFactory,
    ReconciliationRunFactory,
    StatementFactory,
    UserFactory,
)
from tests.statements.conftest import ACCOUNT_A, csv_text, entry_row, run_import

pytestmark = pytest.mark.django_db

TXN = "12345000000017"


@pytest.mark.parametrize(
    ("reason_to_believe", "deadline"),
    [
        (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
        (dt.date(2026, 12, 5), dt.date(2027, 3, 5)),  # across the year end
        (dt.date(2027, 12, 1), dt.date(2028, 2, 29)),  # leap year
        (dt.date(2026, 2, 6), dt.date(2026, 5, 7)),  # a Friday: calendar days, not business days
    ],
)
def test_the_deadline_is_90_calendar_days_after_the_reason_to_believe(reason_to_believe, deadline):
    assert deadline_for(reason_to_believe) == deadline


def test_the_four_year_limit_runs_from_accounting():
    assert limitation_date(dt.date(2022, 3, 15)) == dt.date(2026, 3, 15)
    assert limitation_date(dt.date(2024, 2, 29)) == dt.date(2028, 2, 29)
    assert limitation_date(dt.date(2096, 2, 29)) == dt.date(2100, 2, 28)  # 2100 is not leap


def test_correcting_is_free_until_the_due_date_of_the_statement_that_billed_the_cad():
    # accounted 2 October: billed 18 September - 17 October, due 10 weekdays after the 17th.
    assert free_until(dt.date(2026, 10, 2)) == dt.date(2026, 10, 30)
    # accounted on the 18th: the next period
    assert free_until(dt.date(2026, 10, 18)) == dt.date(2026, 12, 1)


@pytest.fixture
def account():
    return ProgramAccountFactory(importer=ImporterFactory())


def _open(account, **kwargs):
    values = {
        "importer": account.importer,
        "program_account": account,
        "transaction_number": TXN,
        "reason": Correction.Reason.CLASSIFICATION,
        "reason_to_believe_on": dt.date(2026, 11, 2),
        "by": None,
        "today": dt.date(2026, 11, 5),
    }
    values.update(kwargs)
    return open_correction(**values)


def test_a_correction_names_the_latest_version_and_the_first_accounting_date(account):
    BrokerEntryFactory(
        program_account=account,
        transaction_number=TXN,
        version=1,
        accounted_on=dt.date(2026, 10, 2),
    )
    BrokerEntryFactory(
        program_account=account,
        transaction_number=TXN,
        version=2,
        accounted_on=dt.date(2026, 10, 20),
    )

    correction = _open(account)

    assert (correction.corrects_version, correction.accounted_on, correction.deadline) == (
        2,
        dt.date(2026, 10, 2),
        dt.date(2027, 1, 31),
    )
    assert correction.history.get().history_change_reason == "Opened"


def test_a_reason_to_believe_past_the_four_year_limit_is_refused(account):
    BrokerEntryFactory(
        program_account=account, transaction_number=TXN, accounted_on=dt.date(2022, 11, 1)
    )

    with pytest.raises(CorrectionError) as refused:
        _open(account, reason_to_believe_on=dt.date(2026, 11, 2))

    assert refused.value.field == "reason_to_believe_on"
    assert "2026-11-01" in str(refused.value)
    assert Correction.objects.count() == 0
    # the last day of the four years is still allowed
    assert _open(account, reason_to_believe_on=dt.date(2026, 11, 1)).deadline == dt.date(
        2027, 1, 30
    )


def test_without_an_entry_on_file_the_accounting_date_is_required(account):
    with pytest.raises(CorrectionError) as refused:
        _open(account)
    assert refused.value.field == "accounted_on"

    assert _open(account, accounted_on=dt.date(2026, 10, 1)).accounted_on == dt.date(2026, 10, 1)


def test_another_importers_account_and_a_future_reason_are_refused(account):
    other = ProgramAccountFactory(importer=ImporterFactory())
    BrokerEntryFactory(program_account=account, transaction_number=TXN)

    with pytest.raises(CorrectionError):
        _open(account, program_account=other)
    with pytest.raises(CorrectionError):
        _open(account, reason_to_believe_on=dt.date(2026, 11, 6))
    with pytest.raises(CorrectionError):
        _open(account, transaction_number="1234")


def test_a_cad_has_one_open_correction(account):
    BrokerEntryFactory(program_account=account, transaction_number=TXN)

    first = _open(account)
    second = _open(account, reason=Correction.Reason.VALUE)

    assert second.pk == first.pk
    assert Correction.objects.count() == 1


def test_correction_requested_on_a_finding_opens_one_linked_both_ways(client):
    statement = StatementFactory(statement_date=dt.date(2026, 10, 25))
    entry = BrokerEntryFactory(
        program_account=statement.program_account,
        transaction_number=TXN,
        accounted_on=dt.date(2026, 10, 2),
        amount=Decimal("100.00"),
    )
    item = ReconciliationItemFactory(
        run=ReconciliationRunFactory(statement=statement), transaction_number=TXN, entry=entry
    )
    agent = UserFactory(roles=["broker agent"])

    workflow.resolve(item, user=agent, resolution="correction_requested", note="HS code wrong")

    correction = Correction.objects.get()
    assert (correction.transaction_number, correction.statement, correction.reconciliation_key) == (
        TXN,
        statement,
        item.key,
    )
    assert list(item.corrections.all()) == [correction]
    assert (correction.amount_before, correction.amount_after) == (
        Decimal("100.00"),
        Decimal("101.00"),
    )
    assert correction.created_by == agent
    client.force_login(agent)
    page = client.get(f"/statements/{statement.pk}/reconciliation/items/{item.pk}/")
    assert page.status_code == 200
    assert correction.get_absolute_url().encode() in page.content


def test_other_resolutions_open_nothing():
    item = ReconciliationItemFactory()
    workflow.resolve(item, user=UserFactory(roles=["broker agent"]), resolution="followed_up")
    assert Correction.objects.count() == 0


@pytest.fixture
def imported_account(accounts):
    return accounts[ACCOUNT_A]


def test_a_new_version_in_an_entries_import_files_the_matching_correction_only(imported_account):
    run_import(
        "entries",
        csv_text(
            "entries",
            [
                entry_row(),
                entry_row(transaction_number="12345000000018"),
            ],
        ),
    )
    mine = _open(
        imported_account, reason_to_believe_on=dt.date(2025, 6, 2), today=dt.date(2025, 6, 2)
    )
    other = _open(
        imported_account,
        transaction_number="12345000000018",
        reason_to_believe_on=dt.date(2025, 6, 2),
        today=dt.date(2025, 6, 2),
    )

    run_import(
        "entries",
        csv_text(
            "entries",
            [
                entry_row(version="2", gst="1089.50", amount="1500.00", accounted_on="2025-06-10"),
            ],
        ),
    )

    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, mine.filed_version, mine.amount_after) == ("filed", 2, Decimal("1500.00"))
    assert mine.filed_at is not None
    assert (other.status, other.filed_version) == ("open", None)


def test_the_same_version_again_files_nothing(imported_account):
    run_import("entries", csv_text("entries", [entry_row()]))
    correction = _open(
        imported_account, reason_to_believe_on=dt.date(2025, 6, 2), today=dt.date(2025, 6, 2)
    )
    BrokerEntry.objects.all().delete()  # the same version 1 sent again (a new batch)

    run_import("entries", csv_text("entries", [entry_row()]), name="again.csv")

    correction.refresh_from_db()
    assert correction.status == "open"


def test_status_moves_open_filed_accepted_and_not_needed_needs_a_note(account):
    BrokerEntryFactory(program_account=account, transaction_number=TXN)
    agent = UserFactory(roles=["broker agent"])
    correction = _open(account)

    with pytest.raises(CorrectionError):
        change_status(correction, status="not_needed", by=agent)
    with pytest.raises(CorrectionError):
        change_status(correction, status="filed", by=agent, filed_version=1)
    with pytest.raises(CorrectionError):
        change_status(correction, status="accepted", by=agent)

    filed = change_status(correction, status="filed", by=agent, filed_version=2)
    accepted = change_status(filed, status="accepted", by=agent)

    assert (accepted.status, accepted.filed_version) == ("accepted", 2)
    assert accepted.closed_at is not None
    assert [h.history_user for h in accepted.history.all()][:2] == [agent, agent]
