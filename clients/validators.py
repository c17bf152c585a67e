"""Validators for the identifiers and addresses we take in: one each, normalising before storage.

Each ``normalize_*`` returns the stored form (upper-case, no spaces or dashes) or raises a
``ValidationError`` whose message a clerk can act on without knowing the check-digit rules.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.ca import bn as stdnum_bn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

_SEPARATORS = re.compile(r"[\s\-]+")


def compact_identifier(value: object) -> str:
    """A BN9/BN15 typed any way ("123 456 782", "123456782-rm-0001") in its stored form: no
    spaces or dashes, upper-case. Not validated: search boxes and filters use it on partial input."""
    return _SEPARATORS.sub("", str(value or "")).upper()


def normalize_bn9(value: object) -> str:
    """Return the 9-digit Business Number, or explain why it is not one."""
    number = compact_identifier(value)
    if not number:
        raise ValidationError(_("Enter the 9-digit Business Number."), code="required")
    if not number.isdigit():
        raise ValidationError(
            _("A Business Number has digits only (you entered %(value)s)."),
            code="format",
            params={"value": value},
        )
    if len(number) != 9:
        raise ValidationError(
            _("A Business Number has 9 digits; %(value)s has %(count)d."),
            code="length",
            params={"value": value, "count": len(number)},
        )
    if number == "0" * 9:  # passes the check digit, but the CRA never issues it
        raise ValidationError(
            _("000000000 is not a Business Number: enter the importer's own."),
            code="zero",
            params={"value": value},
        )
    if not luhn.is_valid(number):
        raise ValidationError(
            _(
                "%(value)s is not a valid Business Number: its last digit does not match the "
                "others. Check it against the importer's CRA or CBSA documents."
            ),
            code="checksum",
            params={"value": value},
        )
    return number


def normalize_bn15(value: object) -> str:
    """Return the 15-character RM program account (BN9 + RM + 4 digits), or explain the problem."""
    number = compact_identifier(value)
    if not number:
        raise ValidationError(_("Enter the program account number, e.g. 123456789RM0001."))
    if len(number) == 9 and number.isdigit():
        raise ValidationError(
            _("%(value)s is a 9-digit Business Number; add the program account, e.g. RM0001."),
            code="length",
            params={"value": value},
        )
    try:
        number = stdnum_bn.validate(number)
    except InvalidLength:
        raise ValidationError(
            _(
                "A program account number has 15 characters (e.g. 123456789RM0001); %(value)s has %(count)d."
            ),
            code="length",
            params={"value": value, "count": len(number)},
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _(
                "The Business Number part of %(value)s is not valid: its 9th digit does not match "
                "the others."
            ),
            code="checksum",
            params={"value": value},
        ) from None
    except (InvalidFormat, InvalidComponent):
        raise ValidationError(
            _(
                "%(value)s is not a program account number: expected 9 digits, two letters, 4 digits."
            ),
            code="format",
            params={"value": value},
        ) from None
    if len(number) != 15:
        raise ValidationError(
            _("%(value)s is a Business Number; add the program account, e.g. RM0001."),
            code="length",
            params={"value": value},
        )
    if number[:9] == "0" * 9:
        raise ValidationError(
            _("000000000 is not a Business Number: enter the importer's own."),
            code="zero",
            params={"value": value},
        )
    if number[9:11] != "RM":
        raise ValidationError(
            _(
                "%(value)s is an %(program)s account; only an import-export (RM) account can be used "
                "for imports."
            ),
            code="program",
            params={"value": value, "program": number[9:11]},
        )
    return number


def validate_bn9(value: object) -> None:
    normalize_bn9(value)


def validate_bn15(value: object) -> None:
    normalize_bn15(value)


# Canada Post: no D, F, I, O, Q or U anywhere; no W or Z in the first position.
_POSTAL_CODE = re.compile(
    r"^([ABCEGHJ-NPRSTVXY])(\d)([ABCEGHJ-NPRSTV-Z]) ?(\d)([ABCEGHJ-NPRSTV-Z])(\d)$"
)

# The first letter of a postal code names its province or territory.
POSTAL_PREFIXES: dict[str, str] = {
    "NL": "A",
    "NS": "B",
    "PE": "C",
    "NB": "E",
    "QC": "GHJ",
    "ON": "KLMNP",
    "MB": "R",
    "SK": "S",
    "AB": "T",
    "BC": "V",
    "NU": "X",
    "NT": "X",
    "YT": "Y",
}


def normalize_postal_code(value: object, *, province: str | None = None) -> str:
    """Return a Canadian postal code as ``A1A 1A1``; if a province is given, check they agree."""
    raw = str(value or "").strip().upper()
    match = _POSTAL_CODE.match(raw.replace("-", " ").replace("  ", " "))
    if not match:
        raise ValidationError(
            _("%(value)s is not a Canadian postal code (format A1A 1A1)."),
            code="format",
            params={"value": value},
        )
    code = "".join(match.groups())
    code = f"{code[:3]} {code[3:]}"
    if province and province in POSTAL_PREFIXES and code[0] not in POSTAL_PREFIXES[province]:
        raise ValidationError(
            _("Postal code %(code)s is not in %(province)s; check the province or the code."),
            code="province",
            params={"code": code, "province": province},
        )
    return code


def validate_postal_code(value: object) -> None:
    normalize_postal_code(value)


_PHONE = re.compile(r"^\+?1?(\d{10})(?:(?:x|ext\.?)(\d{1,6}))?$")


def normalize_phone(value: object) -> str:
    """Return a North American number as ``+1 AAA-EEE-NNNN`` (with ``x123`` for an extension)."""
    raw = re.sub(r"[\s().\-]", "", str(value or "")).lower()
    match = _PHONE.match(raw)
    if not match or match.group(1)[0] in "01" or match.group(1)[3] in "01":
        raise ValidationError(
            _("%(value)s is not a Canadian or US phone number (10 digits, e.g. 416-555-0123)."),
            code="format",
            params={"value": value},
        )
    digits, extension = match.groups()
    phone = f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return f"{phone} x{extension}" if extension else phone


def validate_phone(value: object) -> None:
    normalize_phone(value)
