import pytest
from django.core.exceptions import ValidationError

from clients.validators import (
    normalize_bn9,
    normalize_bn15,
    normalize_phone,
    normalize_postal_code,
    validate_bn9,
    validate_bn15,
)

VALID_BN9 = "123456782"  # Luhn-valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123456782", "123456782"),
        (" 123 456 782 ", "123456782"),
        ("123-456-782", "123456782"),
    ],
)
def test_bn9_is_normalised(raw, expected):
    assert normalize_bn9(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("123456789", "checksum"),  # Luhn failure
        ("12345678", "length"),
        ("1234567820", "length"),
        ("12345678A", "format"),
        ("", "required"),
    ],
)
def test_bad_bn9_is_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as exc:
        normalize_bn9(raw)
    assert exc.value.code == code


def test_bn9_message_names_the_value_and_the_problem():
    with pytest.raises(ValidationError) as exc:
        validate_bn9("123456789")
    assert exc.value.messages == [
        "123456789 is not a valid Business Number: its last digit does not match the others. "
        "Check it against the importer's CRA or CBSA documents."
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123456782RM0001", "123456782RM0001"),
        ("123456782rm0001", "123456782RM0001"),  # lower case
        ("123456782 RM 0001", "123456782RM0001"),  # spaces
        ("123456782-RM-0002", "123456782RM0002"),  # dashes
    ],
)
def test_bn15_is_normalised(raw, expected):
    assert normalize_bn15(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("123456789RM0001", "checksum"),  # BN9 part fails Luhn
        ("123456782RT0001", "program"),  # GST account, not import-export
        ("123456782RC0001", "program"),  # corporate income tax
        ("123456782XX0001", "format"),  # not a CRA program id at all
        ("123456782RM001", "length"),
        ("123456782", "length"),  # a bare BN9
        ("123456782RMABCD", "format"),
    ],
)
def test_bad_bn15_is_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as exc:
        validate_bn15(raw)
    assert exc.value.code == code


def test_bn15_of_another_program_says_only_rm_can_import():
    with pytest.raises(ValidationError) as exc:
        normalize_bn15("123456782RT0001")
    assert exc.value.messages == [
        "123456782RT0001 is an RT account; only an import-export (RM) account can be used for imports."
    ]


@pytest.mark.parametrize(
    ("raw", "province", "expected"),
    [
        ("m5h1a1", "ON", "M5H 1A1"),
        ("H3Z 2Y7", "QC", "H3Z 2Y7"),
        ("v6b-4y8", "BC", "V6B 4Y8"),
        ("X0A 0H0", "NU", "X0A 0H0"),
    ],
)
def test_postal_code_is_normalised(raw, province, expected):
    assert normalize_postal_code(raw, province=province) == expected


@pytest.mark.parametrize("raw", ["12345", "M5H 1A", "D5H 1A1", "W1A 1A1", "M5H 1O1"])
def test_bad_postal_code_is_refused(raw):
    with pytest.raises(ValidationError) as exc:
        normalize_postal_code(raw)
    assert exc.value.code == "format"


def test_postal_code_must_match_the_province():
    with pytest.raises(ValidationError) as exc:
        normalize_postal_code("M5H 1A1", province="QC")
    assert exc.value.messages == [
        "Postal code M5H 1A1 is not in QC; check the province or the code."
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("416-555-0123", "+1 416-555-0123"),
        ("(416) 555 0123", "+1 416-555-0123"),
        ("+1 416 555 0123 ext. 42", "+1 416-555-0123 x42"),
    ],
)
def test_phone_is_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["555-0123", "016-555-0123", "416-055-0123", "phone"])
def test_bad_phone_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


@pytest.mark.parametrize("value", ["000000000", "000 000 000", "000-000-000"])
def test_bn9_of_zeros_is_refused_though_its_check_digit_passes(value):
    with pytest.raises(ValidationError) as refused:
        normalize_bn9(value)
    assert refused.value.code == "zero"


def test_bn15_of_zeros_is_refused():
    with pytest.raises(ValidationError) as refused:
        normalize_bn15("000000000RM0001")
    assert refused.value.code == "zero"
