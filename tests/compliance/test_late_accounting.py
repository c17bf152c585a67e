"""Late accounting: 5 business days after release (federal holidays excluded, Eastern dates)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from carm_portal.calendar import cbsa_today
from services.compliance.late_accounting import (
    decorate,
    first_versions,
    late_entries,
    monthly_rates,
)
from statements.billing import cad_due_date
from statements.timeliness import is_accounted_late
from tests.factories import BrokerEntryFactory, ImporterFactory, ProgramAccountFactory, UserFactory


@pytest.mark.parametrize(
    ("release", "due"),
    [
        (dt.date(2026, 11, 2), dt.date(2026, 11, 9)),  # Monday -> next Monday
        (dt.date(2026, 11, 20), dt.date(2026, 11, 27)),  # Friday: the weekend does not count
        (dt.date(2026, 11, 21), dt.date(2026, 11, 27)),  # Saturday release
        # Friday 6 Nov: a weekend and Remembrance Day (Wednesday 11 Nov) inside the five days
        (dt.date(2026, 11, 6), dt.date(2026, 11, 16)),
        # Remembrance Day (Wed 11 Nov 2026) is a federal holiday: one day later
        (dt.date(2026, 11, 9), dt.date(2026, 11, 17)),
        # Christmas and Boxing Day (observed Monday 28 Dec 2026) inside the five days
        (dt.date(2026, 12, 22), dt.date(2026, 12, 31)),
        # Thanksgiving (Mon 12 Oct 2026)
        (dt.date(2026, 10, 9), dt.date(2026, 10, 19)),
        # the week the clocks go back (Sunday 1 Nov 2026): dates do not move
        (dt.date(2026, 10, 30), dt.date(2026, 11, 6)),
    ],
)
def test_a_cad_is_due_5_business_days_after_release(release, due):
    assert cad_due_date(release) == due
    assert not is_accounted_late(release_date=release, accounted_on=due)
    assert is_accounted_late(release_date=release, accounted_on=due + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("utc", "eastern"),
    [
        # 1 Nov 2026, 04:30 UTC is 31 Oct 00:30 EDT (UTC-4) ...
        (dt.datetime(2026, 11, 1, 4, 30, tzinfo=dt.UTC), dt.date(2026, 11, 1)),
        (dt.datetime(2026, 11, 1, 3, 30, tzinfo=dt.UTC), dt.date(2026, 10, 31)),
        # ... and after the change 2 Nov 04:30 UTC is 1 Nov 23:30 EST (UTC-5)
        (dt.datetime(2026, 11, 2, 4, 30, tzinfo=dt.UTC), dt.date(2026, 11, 1)),
        (dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC), dt.date(2026, 11, 2)),
    ],
)
def test_the_day_is_the_eastern_day_across_the_dst_change(utc, eastern):
    assert cbsa_today(utc) == eastern
    assert utc.astimezone(ZoneInfo("America/Toronto")).date() == eastern


@pytest.mark.django_db
def test_late_entries_in_sql_match_the_rule_entry_by_entry():
    account = ProgramAccountFactory(importer=ImporterFactory())
    cases = []
    for release in (dt.date(2026, 11, 6), dt.date(2026, 11, 9), dt.date(2026, 12, 22)):
        due = cad_due_date(release)
        for accounted in (due - dt.timedelta(days=1), due, due + dt.timedelta(days=1)):
            cases.append(
                BrokerEntryFactory(
                    program_account=account, release_date=release, accounted_on=accounted
                )
            )
    # a later version accounted late is a correction, not late accounting
    BrokerEntryFactory(
        program_account=account,
        transaction_number=cases[0].transaction_number,
        version=2,
        release_date=dt.date(2026, 11, 6),
        accounted_on=dt.date(2026, 12, 1),
    )

    late = set(late_entries(first_versions()).values_list("pk", flat=True))

    expected = {
        e.pk
        for e in cases
        if is_accounted_late(release_date=e.release_date, accounted_on=e.accounted_on)
    }
    assert late == expected
    assert len(expected) == 3
    shown = decorate(list(late_entries(first_versions()).order_by("release_date")))
    assert [e.days_late for e in shown] == [1, 1, 1]


@pytest.mark.django_db
def test_monthly_rates_per_importer_and_agent_in_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    agent = UserFactory(roles=["broker agent"])
    one = ProgramAccountFactory(importer=ImporterFactory(assigned_agent=agent))
    two = ProgramAccountFactory(importer=ImporterFactory())
    release = dt.date(2026, 11, 2)  # due 9 November
    for account, accounted in (
        (one, dt.date(2026, 11, 3)),
        (one, dt.date(2026, 11, 10)),
        (one, dt.date(2026, 11, 12)),
        (one, dt.date(2026, 11, 4)),
        (two, dt.date(2026, 11, 20)),
    ):
        BrokerEntryFactory(program_account=account, release_date=release, accounted_on=accounted)

    with django_assert_num_queries(2):
        by_importer = monthly_rates(first_versions(), by="program_account__importer")
    with django_assert_num_queries(2):
        by_agent = monthly_rates(first_versions(), by="program_account__importer__assigned_agent")

    assert [(r.key, r.month, r.total, r.late, r.percent) for r in by_importer] == [
        (one.importer_id, dt.date(2026, 11, 1), 4, 2, 50.0),
        (two.importer_id, dt.date(2026, 11, 1), 1, 1, 100.0),
    ]
    assert {(r.key, r.total, r.late) for r in by_agent} == {(agent.pk, 4, 2), (None, 1, 1)}


@pytest.mark.django_db
def test_the_api_flags_each_entry_accounted_late(personas, api_as):
    account = personas.importer_a.program_accounts.get()
    late = BrokerEntryFactory(
        program_account=account,
        release_date=dt.date(2026, 11, 2),
        accounted_on=dt.date(2026, 11, 10),
    )
    on_time = BrokerEntryFactory(
        program_account=account,
        release_date=dt.date(2026, 11, 2),
        accounted_on=dt.date(2026, 11, 9),
    )

    rows = {
        row["id"]: (row["accounting_due_on"], row["accounted_late"])
        for row in api_as("finance_a").get("/api/v1/broker-entries/").json()["results"]
    }

    assert rows == {late.pk: ("2026-11-09", True), on_time.pk: ("2026-11-09", False)}
