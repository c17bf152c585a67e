"""The security CBSA requires per RM account, coverage, and the security findings."""

import datetime as dt

import pytest

from carm_portal.severity import Severity
from payments.rules import (
    AccountFacts,
    Kind,
    ReviewFacts,
    SecurityFacts,
    Thresholds,
    annual_review,
    coverage,
    next_review_on,
    security_findings,
    sufficiency,
)
from payments.security import (
    MAXIMUM,
    MINIMUM,
    monthly_totals,
    peaks_for_accounts,
    peaks_of,
    required_security,
    requirement_from_peak,
    window_start,
)
from payments.selectors import account_securities
from tests.factories import ProgramAccountFactory
from tests.payments.conftest import D, make_statement

ON = dt.date(2026, 11, 23)
BOND, CASH = "surety_bond", "cash_deposit"


@pytest.fixture
def account(db):
    return ProgramAccountFactory()


def required(account, kind=BOND, on=ON):
    return required_security(program_account=account, kind=kind, on_date=on)


# --- required_security (the contract) -----------------------------------------------------------


@pytest.mark.django_db
def test_no_history_needs_the_minimum(account):
    assert (required(account, BOND), required(account, CASH)) == (D("5000.00"), D("5000.00"))


@pytest.mark.django_db
def test_bond_is_half_and_cash_all_of_the_highest_month(account):
    make_statement(account, dt.date(2026, 9, 25), "14000.00", ("ADJUSTMENT", "1000.00"))

    assert (required(account, BOND), required(account, CASH)) == (D("7500.00"), D("15000.00"))


@pytest.mark.django_db
def test_exactly_at_the_minimum(account):
    make_statement(account, dt.date(2026, 9, 25), "10000.00")

    assert required(account, BOND) == D("5000.00")  # 50 % of 10,000.00 is the minimum itself
    assert required(account, CASH) == D("10000.00")


@pytest.mark.django_db
def test_one_cent_above_the_minimum_rounds_up_to_the_cent(account):
    make_statement(account, dt.date(2026, 9, 25), "10000.01")

    assert required(account, BOND) == D("5000.01")  # 5,000.005 rounded up, never a cent short


@pytest.mark.django_db
def test_exactly_at_and_over_the_maximum(account):
    other = ProgramAccountFactory(importer=account.importer)
    make_statement(account, dt.date(2026, 9, 25), "20000000.00")
    make_statement(other, dt.date(2026, 9, 25), "20000000.02")

    assert required(account, BOND) == D("10000000.00")
    assert required(other, BOND) == MAXIMUM  # 10,000,000.01 capped
    assert required(other, CASH) == MAXIMUM


@pytest.mark.django_db
def test_a_spike_month_sets_the_requirement(account):
    for month in (5, 6, 7, 8, 10):
        make_statement(account, dt.date(2026, month, 25), "3000.00", "1000.00")
    make_statement(account, dt.date(2026, 9, 25), "30000.00", ("PENALTY", "200.00"))

    assert required(account, BOND) == D("15100.00")
    assert required(account, CASH) == D("30200.00")


@pytest.mark.django_db
def test_payments_credits_and_opening_balances_are_not_charges(account):
    make_statement(
        account,
        dt.date(2026, 9, 25),
        "12000.00",
        ("INTEREST", "10.00"),
        ("MISC", "2.00"),
        ("PAYMENT", "-50000.00"),
        ("CREDIT", "-4000.00"),
        ("OPENING_BALANCE", "90000.00"),
    )

    assert required(account, CASH) == D("12012.00")


@pytest.mark.django_db
def test_the_window_is_the_12_months_before_the_date(account):
    make_statement(account, dt.date(2025, 11, 23), "20000.00")  # exactly a year before: counts
    make_statement(account, dt.date(2025, 11, 22), "90000.00")  # a day older: does not
    make_statement(account, dt.date(2026, 11, 23), "80000.00")  # on the date itself: does not

    assert required(account, CASH) == D("20000.00")


@pytest.mark.django_db
def test_the_bulk_peaks_agree_with_the_contract(account):
    other = ProgramAccountFactory()
    make_statement(account, dt.date(2026, 3, 25), "1234.57")
    make_statement(account, dt.date(2026, 4, 25), "12345.67")
    make_statement(other, dt.date(2026, 4, 25), "99.99")

    peaks = peaks_for_accounts([account.pk, other.pk], on_date=ON)

    assert peaks == {account.pk: D("12345.67"), other.pk: D("99.99")}
    assert requirement_from_peak(peaks[account.pk], BOND) == required(account, BOND) == D("6172.84")
    assert requirement_from_peak(peaks[other.pk], CASH) == required(other, CASH) == MINIMUM


@pytest.mark.django_db
def test_the_peaks_of_the_charts_months_are_the_bulk_peaks(account):
    other, idle = ProgramAccountFactory(), ProgramAccountFactory()
    make_statement(account, dt.date(2025, 11, 23), "20000.00")  # first day of the window
    make_statement(account, dt.date(2025, 11, 22), "90000.00")  # a day before it
    make_statement(account, dt.date(2026, 4, 25), "12345.67", ("PAYMENT", "-50000.00"))
    make_statement(other, dt.date(2026, 4, 25), ("ADJUSTMENT", "-99.99"))  # a month below zero
    ids = [account.pk, other.pk, idle.pk]

    peaks = peaks_of(monthly_totals(ids, on_date=ON))

    assert peaks == peaks_for_accounts(ids, on_date=ON)
    assert peaks == {account.pk: D("20000.00"), other.pk: D("-99.99")}


@pytest.mark.django_db
def test_the_positions_with_their_charts_take_three_queries(account, django_assert_num_queries):
    make_statement(account, dt.date(2026, 4, 25), "12345.67")

    with django_assert_num_queries(3):  # securities, reviews, months (which give the peak)
        position = account_securities([account], today=ON, with_chart=True)[account.pk]

    assert position.peak == D("12345.67")
    assert [m.total for m in position.months] == [D("12345.67")]
    assert position.required_cash == D("12345.67")


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="surety_bond, cash_deposit"):
        requirement_from_peak(D("100.00"), "letter_of_credit")


def test_window_start_on_a_leap_day():
    assert window_start(dt.date(2028, 2, 29)) == dt.date(2027, 2, 28)
    assert window_start(dt.date(2026, 1, 15)) == dt.date(2025, 1, 15)


# --- Coverage ------------------------------------------------------------------------------------


def security(n, kind=BOND, amount="5000.00", status="active", start=dt.date(2026, 1, 1), end=None):
    return SecurityFacts(
        id=n,
        program_account_id=1,
        kind=kind,
        amount=D(amount),
        status=status,
        effective_date=start,
        expiry_date=end,
        surety_company="Trisura" if kind == BOND else "",
        bond_number=f"B{n}" if kind == BOND else "",
    )


REQUIRED = {BOND: D("8000.00"), CASH: D("16000.00")}


def test_a_bond_and_cash_add_up_in_proportion():
    half_each = coverage([security(1, BOND, "4000.00"), security(2, CASH, "8000.00")], REQUIRED, ON)
    short = coverage([security(1, BOND, "4000.00"), security(2, CASH, "7999.99")], REQUIRED, ON)

    assert half_each.ok
    assert not short.ok
    assert short.shortfall(CASH) == D("0.01")
    assert short.shortfall(BOND) == D("0.01")  # 0.005 rounded up


def test_only_securities_in_force_count():
    securities = [
        security(1, amount="9000.00", status="pending"),
        security(2, amount="9000.00", end=dt.date(2026, 11, 22)),
        security(3, amount="9000.00", start=dt.date(2026, 11, 24)),
    ]

    assert coverage(securities, REQUIRED, ON).posted == {}


# --- Findings ------------------------------------------------------------------------------------

ACCOUNT = AccountFacts(id=1, importer_id=7, bn15="123456782RM0001")
T = Thresholds()


def reviewed(year, required, *, entered=False):
    return ReviewFacts(
        program_account_id=1,
        review_on=dt.date(year, 10, 20),
        top_up_by=dt.date(year + 1, 1, 15),
        required=required,
        entered=entered,
    )


def findings(
    securities, *, today=ON, required=REQUIRED, at_review=None, previous=None, active=True
):
    """``at_review``: the requirement the last 20 October review set (None: never reviewed)."""
    account = (
        ACCOUNT if active else AccountFacts(id=1, importer_id=7, bn15="x", importer_active=False)
    )
    year = today.year if (today.month, today.day) >= (10, 20) else today.year - 1
    review = reviewed(year, at_review) if at_review is not None else None
    standing = sufficiency(
        securities=securities,
        review=review,
        previous=reviewed(year - 1, previous) if previous is not None else None,
        computed=required,
        today=today,
    )
    return security_findings(
        account=account, securities=securities, standing=standing, today=today, thresholds=T
    )


def kinds(found):
    return [f.kind for f in found]


def test_no_security_is_blocking_for_an_active_client_only():
    found = findings([], today=dt.date(2026, 6, 1))

    assert kinds(found) == [Kind.NO_SECURITY]
    assert found[0].message == (
        "123456782RM0001 has no financial security in force, so goods cannot be released before "
        "payment. Post a surety bond of $8,000.00 or a cash deposit of $16,000.00."
    )
    assert findings([], today=dt.date(2026, 6, 1), active=False) == []


def test_insufficient_security_says_how_much_to_add():
    found = findings([security(1, amount="6000.00")], today=dt.date(2026, 6, 1))

    assert kinds(found) == [Kind.INSUFFICIENT]
    assert found[0].amount == D("2000.00")
    assert found[0].key == "account:1:security_insufficient"


@pytest.mark.parametrize(
    ("days_left", "warned"), [(61, False), (60, True), (1, True), (0, True), (-1, False)]
)
def test_a_bond_is_flagged_within_60_days_of_its_expiry(days_left, warned):
    today = dt.date(2026, 6, 1)
    bond = security(1, amount="9000.00", end=today + dt.timedelta(days=days_left))

    found = [f for f in findings([bond], today=today) if f.kind == Kind.BOND_EXPIRING]

    assert bool(found) is warned
    if warned:
        assert found[0].key == f"security:1:bond_expiring:{bond.expiry_date.isoformat()}"


def test_no_expiry_warning_when_a_replacement_bond_is_in_force():
    today = dt.date(2026, 6, 1)
    old = security(1, amount="9000.00", end=dt.date(2026, 6, 30))
    new = security(2, amount="9000.00", start=dt.date(2026, 5, 1), end=dt.date(2028, 6, 30))

    assert kinds(findings([old, new], today=today)) == []


@pytest.mark.parametrize(
    ("today", "review_year"),
    [
        (dt.date(2026, 10, 19), None),
        (dt.date(2026, 10, 20), 2026),
        (dt.date(2026, 12, 31), 2026),
        (dt.date(2027, 1, 15), 2026),
        (dt.date(2027, 1, 16), None),
    ],
)
def test_annual_review_window_runs_from_20_october_to_15_january(today, review_year):
    review = annual_review(today)

    assert (review.year if review else None) == review_year
    if review:
        assert (review.review_on, review.top_up_by) == (
            dt.date(review_year, 10, 20),
            dt.date(review_year + 1, 1, 15),
        )


def test_a_requirement_risen_at_the_review_asks_for_a_top_up_by_15_january():
    bond = security(1, amount="8000.00")
    at_review = {BOND: D("9500.00"), CASH: D("19000.00")}

    found = findings([bond], today=dt.date(2026, 11, 2), at_review=at_review)

    assert kinds(found) == [Kind.ANNUAL_TOP_UP]  # not also "insufficient"
    top_up = found[0]
    assert (top_up.deadline, top_up.amount, top_up.key) == (
        dt.date(2027, 1, 15),
        D("1500.00"),
        "account:1:annual_top_up:2026",
    )
    assert "Top up by $1,500.00 before 2027-01-15" in top_up.message


def test_after_15_january_a_shortfall_is_insufficient():
    found = findings(
        [security(1, amount="8000.00")],
        today=dt.date(2027, 1, 16),
        required={BOND: D("9500.00"), CASH: D("19000.00")},
    )

    assert kinds(found) == [Kind.INSUFFICIENT]


RISEN = {BOND: D("9500.00"), CASH: D("19000.00")}


@pytest.mark.parametrize(
    ("today", "expected", "severity"),
    [
        (dt.date(2026, 10, 20), Kind.ANNUAL_TOP_UP, Severity.WARNING),
        (dt.date(2027, 1, 15), Kind.ANNUAL_TOP_UP, Severity.WARNING),
        (dt.date(2027, 1, 16), Kind.INSUFFICIENT, Severity.BLOCKING),
        (dt.date(2027, 6, 1), Kind.INSUFFICIENT, Severity.BLOCKING),
    ],
)
def test_below_the_review_is_a_top_up_until_15_january_then_a_shortfall(today, expected, severity):
    found = findings([security(1, amount="8000.00")], today=today, at_review=RISEN)

    assert [(f.kind, f.severity) for f in found] == [(expected, severity)]
    assert found[0].amount == D("1500.00")


def test_a_shortfall_before_the_review_stays_blocking_in_the_top_up_window():
    found = findings(
        [security(1, amount="7000.00")],
        today=dt.date(2026, 11, 1),
        at_review=RISEN,
        previous=REQUIRED,  # 8,000 required since the review before: already short
    )

    assert kinds(found) == [Kind.INSUFFICIENT]


def test_a_rising_peak_between_reviews_is_a_forecast_not_a_shortfall():
    today = dt.date(2027, 6, 1)
    found = findings(
        [security(1, amount="8000.00")], today=today, required=RISEN, at_review=REQUIRED
    )

    assert [(f.kind, f.severity) for f in found] == [(Kind.FORECAST, Severity.WARNING)]
    forecast = found[0]
    assert (forecast.deadline, forecast.amount, forecast.key) == (
        dt.date(2027, 10, 20),
        D("1500.00"),
        "account:1:security_forecast:2027",
    )
    assert "$9,500.00" in forecast.message and "2027-10-20" in forecast.message


def test_a_rising_peak_without_any_review_is_a_shortfall_on_the_computed_figure():
    found = findings([security(1, amount="8000.00")], today=dt.date(2027, 6, 1), required=RISEN)

    assert kinds(found) == [Kind.INSUFFICIENT]


def test_covered_by_both_the_review_and_the_projection_raises_nothing():
    assert findings([security(1, amount="9500.00")], today=ON, at_review=REQUIRED) == []


def test_the_next_review_is_the_coming_20_october():
    assert next_review_on(dt.date(2027, 10, 19)) == dt.date(2027, 10, 20)
    assert next_review_on(dt.date(2027, 10, 20)) == dt.date(2028, 10, 20)
