"""The rules an importer record and its program accounts must meet, for every way in.

Forms, the REST API and any import call these, so a rule and its message live in one place.
Identifiers are normalised by ``clients/validators.py``; the rules here tie fields together
(a postal code and its province, a mailing address that is either the legal one or complete,
an RM account that starts with its importer's BN9).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from clients.models import Importer
from clients.validators import normalize_postal_code

MAILING_REQUIRED = {
    "mailing_line1": _(
        "Enter the mailing address, or tick “mailing address is the legal address”."
    ),
    "mailing_city": _("Enter the mailing city."),
    "mailing_province": _("Choose the mailing province or territory."),
    "mailing_postal_code": _("Enter the mailing postal code."),
}
MAILING_FIELDS = (*MAILING_REQUIRED, "mailing_line2")


def check_importer(
    values: Mapping[str, Any],
    *,
    instance: Importer | None = None,
    changed: Collection[str] | None = None,
) -> dict[str, Any]:
    """The importer's values after the change, normalised; ``ValidationError({field: [...]})`` if not.

    ``values`` holds every field as it will be stored. ``changed`` names the fields the caller
    sends (all when ``None``): a rule is checked only when one of its fields changes, so an
    unrelated edit is never refused for a record that predates the rule.
    """

    def touched(*names: str) -> bool:
        return changed is None or any(name in changed for name in names)

    out = dict(values)
    errors: dict[str, list[str]] = {}

    if touched("postal_code", "province") and out.get("postal_code"):
        try:
            out["postal_code"] = normalize_postal_code(
                out["postal_code"], province=out.get("province") or None
            )
        except ValidationError as exc:
            key = "postal_code" if touched("postal_code") else "province"
            errors[key] = exc.messages

    if out.get("mailing_same_as_legal"):
        for name in MAILING_FIELDS:
            out[name] = ""
    elif touched(*MAILING_FIELDS, "mailing_same_as_legal"):
        for name, message in MAILING_REQUIRED.items():
            if not out.get(name):
                errors[name] = [str(message)]
        if out.get("mailing_postal_code") and "mailing_postal_code" not in errors:
            try:
                out["mailing_postal_code"] = normalize_postal_code(
                    out["mailing_postal_code"], province=out.get("mailing_province") or None
                )
            except ValidationError as exc:
                errors["mailing_postal_code"] = exc.messages

    if (
        instance is not None
        and instance.pk
        and out.get("bn9", instance.bn9) != instance.bn9
        and instance.program_accounts.exists()
    ):
        errors["bn9"] = [
            str(
                _(
                    "This importer's program accounts belong to Business Number %(old)s; "
                    "remove or correct them before changing the Business Number."
                )
                % {"old": instance.bn9}
            )
        ]

    if errors:
        raise ValidationError(errors)
    return out


def check_account_owner(bn15: str, importer: Importer) -> None:
    """An RM program account starts with its importer's Business Number."""
    if not importer.bn9:
        raise ValidationError(
            _(
                "Record the importer's Business Number first: an RM account starts with it, "
                "so %(bn15)s cannot be checked yet."
            ),
            code="no_bn9",
            params={"bn15": bn15},
        )
    if bn15[:9] != importer.bn9:
        raise ValidationError(
            _(
                "%(bn15)s belongs to Business Number %(other)s, not to this importer's %(bn9)s. "
                "An RM account starts with its importer's Business Number."
            ),
            code="other_bn9",
            params={"bn15": bn15, "other": bn15[:9], "bn9": importer.bn9},
        )
