"""The delegation rules as a table of cases: pure functions, no database."""

import datetime as dt

import pytest

from delegation.rules import (
    DelegationFacts,
    ImporterFacts,
    Kind,
    Severity,
    Thresholds,
    evaluate,
    evaluate_importer,
    kind_label,
    notice_day,
)

D = dt.date
TODAY = D(2026, 11, 23)  # a Monday
ACCOUNTS = {1: "123456782RM0001", 2: "123456782RM0002"}
IMPORTER = ImporterFacts(id=10, active=True, accounts=ACCOUNTS)


def delegation(**overrides) -> DelegationFacts:
    values = {
        "id": 100,
        "importer_id": 10,
        "relationship": "BMR",
        "authority": "pBAM",
        "status": "active",
        "expiry_date": D(2027, 6, 30),
        "requested_on": D(2026, 1, 5),
        "account_ids": frozenset(),
    }
    values.update(overrides)
    return DelegationFacts(**values)


def kinds(d: DelegationFacts, today: dt.date = TODAY, **kwargs) -> list[str]:
    return [f.kind for f in evaluate(d, today=today, importer=IMPORTER, **kwargs)]


def test_bmr_pbam_with_a_distant_date_has_no_finding():
    assert kinds(delegation()) == []


def test_blank_expiry_is_blocking():
    (finding,) = evaluate(delegation(expiry_date=None), today=TODAY, importer=IMPORTER)
    assert (finding.kind, finding.severity) == (Kind.BLANK_EXPIRY, Severity.BLOCKING)
    assert "cannot access accounts with a blank expiry date" in finding.message


@pytest.mark.parametrize(
    ("expiry", "expected"),
    [
        (TODAY + dt.timedelta(days=31), []),
        (TODAY + dt.timedelta(days=30), ["expires_within_30"]),
        (TODAY + dt.timedelta(days=15), ["expires_within_30"]),
        (TODAY + dt.timedelta(days=14), ["expires_within_14"]),
        (TODAY + dt.timedelta(days=8), ["expires_within_14"]),
        (TODAY + dt.timedelta(days=7), ["expires_within_7"]),
        (TODAY + dt.timedelta(days=1), ["expires_within_7"]),
        (TODAY, ["expires_within_7"]),  # day D: still works through the end of the day
        (TODAY - dt.timedelta(days=1), [Kind.EXPIRED]),  # D+1: expired
    ],
)
def test_expiry_boundaries(expiry, expected):
    assert kinds(delegation(expiry_date=expiry)) == expected


def test_days_left_is_not_off_by_one():
    (finding,) = evaluate(
        delegation(expiry_date=TODAY + dt.timedelta(days=7)), today=TODAY, importer=IMPORTER
    )
    assert "(7 days left)" in finding.message
    (finding,) = evaluate(delegation(expiry_date=TODAY), today=TODAY, importer=IMPORTER)
    assert "(0 days left)" in finding.message


def test_notice_that_falls_on_a_weekend_moves_to_the_friday_before():
    expiry = D(2026, 12, 6)  # Sunday; the 7-day notice day is Sunday 29 November
    assert notice_day(expiry, 7) == D(2026, 11, 27)  # Friday
    assert kinds(delegation(expiry_date=expiry), today=D(2026, 11, 27)) == ["expires_within_7"]
    assert kinds(delegation(expiry_date=expiry), today=D(2026, 11, 26)) == ["expires_within_14"]


def test_notice_that_falls_on_a_holiday_moves_to_the_business_day_before():
    expiry = D(2027, 1, 1) + dt.timedelta(days=7)  # 7-day notice on New Year's Day
    assert notice_day(expiry, 7) == D(2026, 12, 31)


def test_expired_status_keeps_the_finding_until_covered():
    assert kinds(delegation(status="expired", expiry_date=D(2026, 10, 1))) == [Kind.EXPIRED]


def test_renewed_delegation_beside_the_old_one_silences_the_old_ones_warning():
    old = delegation(id=1, expiry_date=TODAY + dt.timedelta(days=5))
    new = delegation(id=2, expiry_date=D(2028, 1, 1))
    assert kinds(old, others=[old, new]) == []


def test_a_narrower_grant_does_not_cover_a_wider_one():
    old = delegation(id=1, expiry_date=TODAY + dt.timedelta(days=5))
    narrower = delegation(
        id=2, relationship="PMR", account_ids=frozenset({1}), expiry_date=D(2028, 1, 1)
    )
    assert kinds(old, others=[old, narrower]) == ["expires_within_7"]
    weaker = delegation(id=3, authority="pPAM", expiry_date=D(2028, 1, 1))
    assert kinds(old, others=[old, weaker]) == ["expires_within_7"]


def test_pending_request_is_flagged_after_the_threshold():
    requested = TODAY - dt.timedelta(days=7)
    assert kinds(delegation(status="pending", requested_on=requested, expiry_date=None)) == []
    older = TODAY - dt.timedelta(days=8)
    (finding,) = evaluate(
        delegation(status="requested", requested_on=older, expiry_date=None),
        today=TODAY,
        importer=IMPORTER,
    )
    assert (finding.kind, finding.severity) == (Kind.PENDING_TOO_LONG, Severity.WARNING)
    assert finding.message.startswith("Requested 8 days ago and still not approved")


def test_pending_threshold_comes_from_settings_thresholds():
    d = delegation(status="pending", requested_on=TODAY - dt.timedelta(days=3), expiry_date=None)
    assert kinds(d, thresholds=Thresholds(pending_days=2)) == [Kind.PENDING_TOO_LONG]


def test_pmr_missing_an_active_account_is_blocking_and_names_it():
    d = delegation(relationship="PMR", account_ids=frozenset({1}))
    findings = evaluate(d, today=TODAY, importer=IMPORTER)
    assert [(f.kind, f.severity) for f in findings] == [
        (Kind.PMR_MISSING_ACCOUNT, Severity.BLOCKING)
    ]
    assert "123456782RM0002" in findings[0].message


def test_pmr_covering_every_account_is_advice_only():
    d = delegation(relationship="PMR", account_ids=frozenset({1, 2}))
    findings = evaluate(d, today=TODAY, importer=IMPORTER)
    assert [(f.kind, f.severity) for f in findings] == [(Kind.LIMITED, Severity.ADVICE)]


def test_ppam_is_a_warning_when_the_broker_needs_pbam():
    pmr = {"relationship": "PMR", "account_ids": frozenset({1, 2})}
    assert kinds(delegation(authority="pPAM", **pmr)) == [Kind.PPAM_NEEDS_PBAM]
    assert kinds(
        delegation(authority="pPAM", **pmr), thresholds=Thresholds(broker_needs_pbam=False)
    ) == [Kind.LIMITED]


def test_bmr_with_ppam_is_flagged():
    assert kinds(delegation(authority="pPAM", account_ids=frozenset({1}))) == [
        Kind.BMR_WITH_PPAM,
        Kind.PPAM_NEEDS_PBAM,
    ]
    (finding, _) = evaluate(
        delegation(authority="pPAM", account_ids=frozenset({1})), today=TODAY, importer=IMPORTER
    )
    assert (finding.severity, finding.message.startswith("A BMR with pPAM")) == (
        Severity.WARNING,
        True,
    )
    assert kinds(
        delegation(authority="pPAM", account_ids=frozenset({1})),
        thresholds=Thresholds(broker_needs_pbam=False),
    ) == [Kind.BMR_WITH_PPAM, Kind.LIMITED]


@pytest.mark.parametrize("status", ["rejected", "revoked"])
def test_rejected_and_revoked_have_no_findings_of_their_own(status):
    assert kinds(delegation(status=status, expiry_date=None)) == []


def test_active_importer_without_any_delegation_is_blocking():
    (finding,) = evaluate_importer(IMPORTER, [], today=TODAY)
    assert (finding.kind, finding.severity, finding.delegation_id) == (
        Kind.NO_DELEGATION,
        Severity.BLOCKING,
        None,
    )
    revoked = delegation(status="revoked")
    assert [f.kind for f in evaluate_importer(IMPORTER, [revoked], today=TODAY)] == [
        Kind.NO_DELEGATION
    ]


def test_prospect_without_delegation_is_not_flagged():
    prospect = ImporterFacts(id=11, active=False, accounts=ACCOUNTS)
    assert evaluate_importer(prospect, [], today=TODAY) == []


def test_importer_findings_are_sorted_most_severe_first():
    findings = evaluate_importer(
        IMPORTER,
        [
            delegation(id=1, relationship="PMR", account_ids=frozenset({1, 2})),
            delegation(id=2, relationship="PMR", account_ids=frozenset({1})),
        ],
        today=TODAY,
    )
    assert [f.severity for f in findings] == [Severity.BLOCKING, Severity.ADVICE]


def test_finding_keys_separate_expiry_dates():
    a = evaluate(delegation(expiry_date=TODAY), today=TODAY, importer=IMPORTER)[0]
    b = evaluate(
        delegation(expiry_date=TODAY + dt.timedelta(days=1)), today=TODAY, importer=IMPORTER
    )[0]
    assert a.key == "100:expires_within_7:2026-11-23"
    assert a.key != b.key
    assert (
        evaluate(delegation(expiry_date=None), today=TODAY, importer=IMPORTER)[0].key
        == "100:blank_expiry:blank"
    )


def test_kind_labels():
    assert kind_label("expires_within_14") == "Expires within 14 days"
    assert kind_label("blank_expiry") == "Blank expiry date"
