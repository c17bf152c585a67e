"""Due dates, reminders and the interest estimate, with exact Decimal expectations."""

import datetime as dt

import pytest

from payments.interest import Rate, estimate, rate_on
from payments.rules import (
    Kind,
    PaymentFacts,
    StatementFacts,
    Thresholds,
    due_notice_day,
    expected_posting,
    payment_findings,
    statement_findings,
)
from tests.payments.conftest import D

T = Thresholds()
RATES = [Rate(dt.date(2026, 1, 1), D("9.000")), Rate(dt.date(2026, 4, 1), D("10.000"))]
NO_RELIEF = dt.date(2020, 1, 1)


def late(amount, due, paid_on=None, *, outstanding="0", today=dt.date(2026, 11, 23), **kw):
    kw.setdefault("charges_from", NO_RELIEF)
    kw.setdefault("penalty", D("200.00"))
    return estimate(
        due_date=due,
        payments=[(D(amount), paid_on)] if paid_on else [],
        outstanding=D(outstanding),
        today=today,
        rates=RATES,
        **kw,
    )


def test_thirty_days_late_at_nine_percent():
    result = late("10000.00", dt.date(2026, 2, 2), dt.date(2026, 3, 4))

    # 10,000.00 x 9 % x 30 / 365 = 73.972602... -> 73.97
    assert (result.days_late, result.interest, result.penalty) == (30, D("73.97"), D("200.00"))
    assert result.total == D("273.97")


def test_a_rate_change_mid_period_is_prorated_by_day():
    result = late("10000.00", dt.date(2026, 3, 16), dt.date(2026, 4, 15))

    # 15 days (17-31 March) at 9 %, then 15 days (1-15 April) at 10 %:
    # 10,000 x (9 x 15 + 10 x 15) / 36,500 = 78.0821... -> 78.08
    assert [(s.days, s.rate) for s in result.segments] == [(15, D("9.000")), (15, D("10.000"))]
    assert result.interest == D("78.08")


def test_paid_on_the_due_date_costs_nothing_and_a_day_late_one_day():
    on_time = late("5000.00", dt.date(2026, 6, 30), dt.date(2026, 6, 30))
    one_day = late("5000.00", dt.date(2026, 6, 30), dt.date(2026, 7, 1))

    assert (on_time.is_late, on_time.interest, on_time.penalty) == (False, D("0.00"), D("0.00"))
    # 5,000 x 10 % / 365 = 1.3698... -> 1.37
    assert (one_day.days_late, one_day.interest, one_day.penalty) == (1, D("1.37"), D("200.00"))


def test_still_unpaid_runs_to_today():
    result = late("0", dt.date(2026, 11, 13), outstanding="3650.00")

    # 10 days at 10 %: 3,650 x 10 x 10 / 36,500 = 10.00 exactly
    assert (result.days_late, result.interest, result.late_amount) == (10, D("10.00"), D("3650.00"))


def test_no_interest_or_penalty_before_the_relief_ended():
    before = late(
        "10000.00", dt.date(2026, 1, 10), dt.date(2026, 1, 30), charges_from=dt.date(2026, 1, 31)
    )
    across = late(
        "10000.00", dt.date(2026, 1, 10), dt.date(2026, 2, 9), charges_from=dt.date(2026, 1, 31)
    )

    assert (before.interest, before.penalty) == (D("0.00"), D("0.00"))
    # Only 31 January to 9 February (10 days) at 9 %: 24.6575... -> 24.66
    assert (across.interest, across.penalty) == (D("24.66"), D("200.00"))


def test_days_without_a_rate_cost_nothing_and_are_counted():
    result = late("10000.00", dt.date(2025, 12, 26), dt.date(2026, 1, 5))

    # 27-31 December: no rate entered; 1-5 January at 9 %: 12.3287... -> 12.33
    assert (result.missing_rate_days, result.interest) == (5, D("12.33"))


def test_rate_on():
    assert rate_on(dt.date(2025, 12, 31), RATES) is None
    assert rate_on(dt.date(2026, 3, 31), RATES) == D("9.000")
    assert rate_on(dt.date(2026, 4, 1), RATES) == D("10.000")


# --- Due dates and reminders ---------------------------------------------------------------------

DUE = dt.date(2026, 12, 1)  # a Tuesday


def facts(due=DUE, outstanding="812.40"):
    return StatementFacts(
        id=5,
        importer_id=1,
        program_account_id=2,
        bn15="123456782RM0001",
        statement_date=dt.date(2026, 11, 25),
        due_date=due,
        outstanding=D(outstanding),
    )


def test_the_due_soon_reminder_starts_five_weekdays_before():
    assert due_notice_day(DUE, T) == dt.date(2026, 11, 24)  # Tue, over the weekend


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 23), []),
        (dt.date(2026, 11, 24), [Kind.DUE_SOON]),
        (dt.date(2026, 11, 30), [Kind.DUE_SOON]),
        (dt.date(2026, 12, 1), [Kind.DUE_TODAY]),
        (dt.date(2026, 12, 2), [Kind.OVERDUE]),
        (dt.date(2026, 12, 30), [Kind.OVERDUE]),
        (dt.date(2026, 12, 31), [Kind.OVERDUE, Kind.ARREARS]),
    ],
)
def test_the_statement_finding_of_each_day(today, expected):
    assert [f.kind for f in statement_findings(facts(), today=today, thresholds=T)] == expected


def test_messages_and_keys_name_the_statement_and_its_due_date():
    soon, today, overdue = (
        statement_findings(facts(), today=day, thresholds=T)[0]
        for day in (dt.date(2026, 11, 26), DUE, dt.date(2026, 12, 4))
    )

    assert soon.message == (
        "Statement of 2026-11-25 (123456782RM0001): $812.40 is due on 2026-12-01, in 3 weekdays."
    )
    assert today.key == "statement:5:due_today:2026-12-01"
    assert overdue.message.startswith(
        "Statement of 2026-11-25 (123456782RM0001): $812.40 was due on 2026-12-01 (3 days overdue)."
    )


def test_a_paid_statement_has_no_finding():
    assert (
        statement_findings(facts(outstanding="0.00"), today=dt.date(2027, 2, 1), thresholds=T) == []
    )


def test_in_transit_becomes_not_posted_after_the_posting_days():
    paid_on = dt.date(2026, 11, 6)  # Friday; 11 November (Remembrance Day) is a federal holiday
    electronic = PaymentFacts(1, 1, 2, D("100.00"), "online_banking", paid_on)
    cheque = PaymentFacts(2, 1, 2, D("100.00"), "cheque", paid_on)

    assert expected_posting("online_banking", paid_on, T) == dt.date(2026, 11, 12)
    assert payment_findings(electronic, today=dt.date(2026, 11, 12), thresholds=T) == []
    assert [
        f.kind for f in payment_findings(electronic, today=dt.date(2026, 11, 13), thresholds=T)
    ] == [Kind.NOT_POSTED]
    assert expected_posting("cheque", paid_on, T) == dt.date(2026, 11, 23)
    assert payment_findings(cheque, today=dt.date(2026, 11, 23), thresholds=T) == []
