"""``validate_delegation``: each business rule of a delegation record, as a table of cases.

Plain objects, no database: the function needs only ids, a BN15 and the proposed values.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clients.models import Importer, ProgramAccount
from delegation.validation import DelegationValues, validate_delegation

TODAY = dt.date(2026, 11, 23)
YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)

IMPORTER = Importer(pk=1, bn9="123456782")
OWN = ProgramAccount(pk=11, importer_id=1, bn15="123456782RM0001")
OWN_2 = ProgramAccount(pk=12, importer_id=1, bn15="123456782RM0002")
FOREIGN = ProgramAccount(pk=21, importer_id=2, bn15="987654324RM0001")

PMR_NEEDS_ACCOUNT = "A PMR covers only the accounts selected: choose at least one program account."
NOT_OURS = "987654324RM0001 is not a program account of this importer."
REQUEST_IN_FUTURE = "The request date cannot be in the future."
APPROVAL_IN_FUTURE = "The approval date cannot be in the future."
APPROVAL_BEFORE_REQUEST = "The approval cannot come before the request."
NEEDS_APPROVAL = "Enter the date the importer approved the request."
PAST_EXPIRY = (
    "This date is in the past, so the delegation is not active. Record it as expired, or enter "
    "the new expiry date the importer set."
)
BLANK_EXPIRY = (
    "Enter the expiry date the importer set in the CCP. If it really was left blank, tick the "
    "confirmation below; the delegation will be flagged."
)
NEEDS_REVOKED_ON = "Enter the date the access was revoked."


def proposed(**overrides: object) -> dict[str, object]:
    """A new, valid, active BMR with pBAM, approved a week ago and running another year."""
    return {
        "importer": IMPORTER,
        "relationship": "BMR",
        "status": "active",
        "program_accounts": (),
        "requested_on": TODAY - dt.timedelta(days=10),
        "approved_on": TODAY - dt.timedelta(days=7),
        "expiry_date": TODAY + dt.timedelta(days=365),
        "blank_expiry_confirmed": False,
        "revoked_on": None,
        "is_new": True,
        "changed": (),
        "today": TODAY,
        **overrides,
    }


# --- Refused: every rule, with the exact field errors ---------------------------------------

REFUSED = [
    pytest.param(
        {"relationship": "PMR"}, {"program_accounts": [PMR_NEEDS_ACCOUNT]}, id="pmr-no-account"
    ),
    pytest.param(
        {"relationship": "PMR", "program_accounts": (OWN, FOREIGN)},
        {"program_accounts": [NOT_OURS]},
        id="pmr-account-of-another-importer",
    ),
    pytest.param(
        {"relationship": "PMR", "program_accounts": (FOREIGN,)},
        {"program_accounts": [NOT_OURS]},
        id="pmr-only-foreign-account",
    ),
    pytest.param(
        {"program_accounts": (FOREIGN,)},
        {"program_accounts": [NOT_OURS]},
        id="bmr-account-of-another-importer",
    ),
    pytest.param(
        {"requested_on": TOMORROW, "approved_on": TOMORROW},
        {"requested_on": [REQUEST_IN_FUTURE], "approved_on": [APPROVAL_IN_FUTURE]},
        id="dates-in-the-future",
    ),
    pytest.param(
        {"status": "requested", "requested_on": TOMORROW, "approved_on": None},
        {"requested_on": [REQUEST_IN_FUTURE]},
        id="request-in-the-future",
    ),
    pytest.param(
        {"approved_on": TOMORROW}, {"approved_on": [APPROVAL_IN_FUTURE]}, id="approval-tomorrow"
    ),
    pytest.param(
        {"requested_on": YESTERDAY, "approved_on": YESTERDAY - dt.timedelta(days=1)},
        {"approved_on": [APPROVAL_BEFORE_REQUEST]},
        id="approval-before-request",
    ),
    pytest.param(
        {"approved_on": None}, {"approved_on": [NEEDS_APPROVAL]}, id="active-without-approval"
    ),
    pytest.param(
        {"expiry_date": YESTERDAY}, {"expiry_date": [PAST_EXPIRY]}, id="new-active-past-expiry"
    ),
    pytest.param(
        {"expiry_date": YESTERDAY, "is_new": False, "changed": ("expiry_date",)},
        {"expiry_date": [PAST_EXPIRY]},
        id="edited-active-expiry-changed-to-the-past",
    ),
    pytest.param(
        {"expiry_date": None}, {"expiry_date": [BLANK_EXPIRY]}, id="active-blank-unconfirmed"
    ),
    pytest.param(
        {"expiry_date": None, "is_new": False, "changed": ("notes",)},
        {"expiry_date": [BLANK_EXPIRY]},
        id="edited-active-blank-unconfirmed",
    ),
    pytest.param(
        {"status": "revoked"}, {"revoked_on": [NEEDS_REVOKED_ON]}, id="revoked-without-date"
    ),
    pytest.param(
        {
            "relationship": "PMR",
            "requested_on": TOMORROW,
            "approved_on": None,
            "expiry_date": None,
        },
        {
            "program_accounts": [PMR_NEEDS_ACCOUNT],
            "requested_on": [REQUEST_IN_FUTURE],
            "approved_on": [NEEDS_APPROVAL],
            "expiry_date": [BLANK_EXPIRY],
        },
        id="every-error-at-once",
    ),
    pytest.param(
        {
            "requested_on": TODAY,
            "approved_on": YESTERDAY,
            "expiry_date": YESTERDAY,
            "status": "active",
        },
        {"approved_on": [APPROVAL_BEFORE_REQUEST], "expiry_date": [PAST_EXPIRY]},
        id="two-errors-on-two-fields",
    ),
]


@pytest.mark.parametrize(("overrides", "errors"), REFUSED)
def test_bad_values_are_refused_with_field_errors(overrides, errors):
    with pytest.raises(ValidationError) as caught:
        validate_delegation(**proposed(**overrides))

    assert caught.value.message_dict == errors


# --- Accepted: the boundaries of each rule --------------------------------------------------

ACCEPTED = [
    pytest.param({}, id="active-bmr"),
    pytest.param({"requested_on": TODAY, "approved_on": TODAY}, id="requested-and-approved-today"),
    pytest.param({"expiry_date": TODAY}, id="new-active-expiring-today-still-works"),
    pytest.param(
        {"expiry_date": YESTERDAY, "is_new": False, "changed": ("notes",)},
        id="edited-active-keeps-its-past-expiry",
    ),
    pytest.param(
        {"status": "expired", "expiry_date": YESTERDAY}, id="new-expired-record-with-past-expiry"
    ),
    pytest.param(
        {"expiry_date": None, "blank_expiry_confirmed": True}, id="active-blank-confirmed"
    ),
    pytest.param(
        {"status": "pending", "approved_on": None, "expiry_date": None},
        id="pending-without-approval-or-expiry",
    ),
    pytest.param(
        {"status": "requested", "requested_on": None, "approved_on": None, "expiry_date": None},
        id="requested-without-dates",
    ),
    pytest.param({"status": "revoked", "revoked_on": YESTERDAY}, id="revoked-with-date"),
    pytest.param(
        {"relationship": None, "status": None, "expiry_date": None},
        id="unparsed-choices-skip-their-rules",
    ),
]


@pytest.mark.parametrize("overrides", ACCEPTED)
def test_good_values_pass_unchanged(overrides):
    values = proposed(**overrides)

    cleaned = validate_delegation(**values)

    assert cleaned == DelegationValues(
        relationship=values["relationship"],
        status=values["status"],
        program_accounts=tuple(values["program_accounts"]),
        requested_on=values["requested_on"],
        approved_on=values["approved_on"],
        expiry_date=values["expiry_date"],
        blank_expiry_confirmed=values["blank_expiry_confirmed"],
        revoked_on=values["revoked_on"],
    )


# --- Cleaned: what the function changes ------------------------------------------------------


def test_a_pmr_keeps_the_accounts_selected():
    cleaned = validate_delegation(**proposed(relationship="PMR", program_accounts=[OWN, OWN_2]))

    assert cleaned.program_accounts == (OWN, OWN_2)


@pytest.mark.parametrize(
    ("relationship", "message"),
    [
        ("BMR", "A pPAM manages only the program accounts it names: choose at least one."),
        ("PMR", PMR_NEEDS_ACCOUNT),  # one message for the one mistake
    ],
)
def test_a_ppam_naming_no_program_account_is_refused(relationship, message):
    with pytest.raises(ValidationError) as refused:
        validate_delegation(**proposed(relationship=relationship, authority="pPAM"))

    assert refused.value.message_dict == {"program_accounts": [message]}


def test_a_bmr_with_ppam_keeps_the_accounts_the_ppam_names():
    cleaned = validate_delegation(
        **proposed(relationship="BMR", authority="pPAM", program_accounts=[OWN])
    )

    assert cleaned.program_accounts == (OWN,)


def test_a_bmr_drops_the_accounts_selected():
    cleaned = validate_delegation(**proposed(relationship="BMR", program_accounts=[OWN, OWN_2]))

    assert cleaned.program_accounts == ()


@pytest.mark.parametrize(
    ("expiry_date", "confirmed", "stored"),
    [
        (TODAY + dt.timedelta(days=30), True, False),  # a date was entered: nothing is blank
        (TODAY + dt.timedelta(days=30), False, False),
        (None, True, True),
    ],
)
def test_a_set_expiry_date_clears_the_blank_confirmation(expiry_date, confirmed, stored):
    cleaned = validate_delegation(
        **proposed(expiry_date=expiry_date, blank_expiry_confirmed=confirmed)
    )

    assert cleaned.blank_expiry_confirmed is stored


def test_a_generator_of_accounts_is_read_once():
    cleaned = validate_delegation(
        **proposed(relationship="PMR", program_accounts=(a for a in [OWN]))
    )

    assert cleaned.program_accounts == (OWN,)
