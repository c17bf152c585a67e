"""What is wrong with an importer's delegations to the broker on a given day: pure functions.

No database here: the daily sweep (``delegation/checks.py``) loads plain facts in a few set-based
queries and calls these functions for every importer, and tests call them with literal facts.

Day counting, defined once (lessons.md): a delegation expiring on day D still works through the
end of D, Eastern time. On D it has 0 days left and is *not* expired; on D+1 it is expired.
Notice thresholds count calendar days, but a notice whose day falls on a weekend or holiday is
given on the business day before, so the last warning reaches someone at work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carm_portal import stored_text as later
from carm_portal.calendar import previous_business_day
from carm_portal.severity import Severity, severity_rank

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ACTIVE = "active"
OPEN = ("requested", "pending")
EXPIRED_STATUS = "expired"
BMR, PMR = "BMR", "PMR"
PBAM, PPAM = "pBAM", "pPAM"


class Kind(StrEnum):
    NO_DELEGATION = "no_delegation"
    PENDING_TOO_LONG = "pending_too_long"
    BLANK_EXPIRY = "blank_expiry"
    EXPIRES_SOON = "expires_within"  # stored with its threshold: expires_within_30, _14, _7
    EXPIRED = "expired"
    PMR_MISSING_ACCOUNT = "pmr_missing_account"
    PPAM_NEEDS_PBAM = "ppam_needs_pbam"
    BMR_WITH_PPAM = "bmr_with_ppam"
    LIMITED = "limited_relationship"


KIND_LABELS: dict[str, StrOrPromise] = {
    Kind.NO_DELEGATION: gettext_lazy("No delegation"),
    Kind.PENDING_TOO_LONG: gettext_lazy("Request not approved"),
    Kind.BLANK_EXPIRY: gettext_lazy("Blank expiry date"),
    Kind.EXPIRES_SOON: gettext_lazy("Expires soon"),
    Kind.EXPIRED: gettext_lazy("Expired"),
    Kind.PMR_MISSING_ACCOUNT: gettext_lazy("Account not covered"),
    Kind.PPAM_NEEDS_PBAM: gettext_lazy("pPAM instead of pBAM"),
    Kind.BMR_WITH_PPAM: gettext_lazy("BMR with pPAM"),
    Kind.LIMITED: gettext_lazy("Limited relationship"),
}


@dataclass(frozen=True)
class Thresholds:
    expiry_notice_days: tuple[int, ...] = (30, 14, 7)
    pending_days: int = 7
    broker_needs_pbam: bool = True

    @classmethod
    def from_settings(cls) -> Thresholds:
        from django.conf import settings

        return cls(
            expiry_notice_days=tuple(sorted(settings.DELEGATION_EXPIRY_NOTICE_DAYS, reverse=True)),
            pending_days=settings.DELEGATION_PENDING_DAYS,
            broker_needs_pbam=settings.DELEGATION_BROKER_NEEDS_PBAM,
        )


@dataclass(frozen=True)
class DelegationFacts:
    id: int
    importer_id: int
    relationship: str
    authority: str
    status: str
    expiry_date: dt.date | None
    requested_on: dt.date | None = None
    account_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ImporterFacts:
    id: int
    active: bool  # an active client: having no delegation at all is then a finding
    accounts: dict[int, str] = field(default_factory=dict)  # active RM accounts: id -> BN15


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: Severity
    delegation_id: int | None = None
    expiry_date: dt.date | None = None
    details: tuple = ()  # what the sentence needs: days waited, days left, accounts missing…

    @property
    def message_for_bam(self) -> str:
        """The sentence addressed to the importer's BAM, who acts in the CCP herself."""
        parts = finding_parts(self)
        return later.render(bam_parts(self.kind, parts) or parts)

    @property
    def message(self) -> str:
        """The sentence a clerk can act on, built only when shown or stored (a sweep evaluates
        100,000 delegations and most findings are already on record)."""
        return finding_message(self)

    @property
    def parts(self) -> later.Parts:
        """The sentence untranslated, stored next to ``message`` to be shown in any language."""
        return finding_parts(self)

    @property
    def label(self) -> str:
        return kind_label(self.kind)

    @property
    def key(self) -> str:
        """Unique per importer: (delegation, kind, expiry date) — see DelegationAlert.key."""
        expiry = self.expiry_date.isoformat() if self.expiry_date else "blank"
        return f"{self.delegation_id or 'importer'}:{self.kind}:{expiry}"


def notice_day(expiry: dt.date, days_before: int) -> dt.date:
    """The day the ``days_before`` notice is due: a business day, never after the threshold."""
    return previous_business_day(expiry - dt.timedelta(days=days_before))


def covered_accounts(d: DelegationFacts, importer: ImporterFacts) -> frozenset[int]:
    return frozenset(importer.accounts) if d.relationship == BMR else d.account_ids


def _covers(
    other: DelegationFacts, d: DelegationFacts, importer: ImporterFacts, today: dt.date
) -> bool:
    """Another active grant, valid longer than ``d``, with at least its scope and authority."""
    if other.id == d.id or other.status != ACTIVE or other.expiry_date is None:
        return False
    if other.expiry_date < today:
        return False
    if d.expiry_date is not None and other.expiry_date <= d.expiry_date:
        return False
    if d.authority == PBAM and other.authority != PBAM:
        return False
    return covered_accounts(d, importer) <= covered_accounts(other, importer)


def evaluate(
    d: DelegationFacts,
    *,
    today: dt.date,
    importer: ImporterFacts,
    others: Sequence[DelegationFacts] = (),
    thresholds: Thresholds = Thresholds(),
) -> list[Finding]:
    """The findings for one delegation on ``today``, most severe first."""
    findings: list[Finding] = []

    def add(kind: str, severity: Severity, *details: object) -> None:
        findings.append(Finding(kind, severity, d.id, d.expiry_date, details))

    if d.status in OPEN:
        if d.requested_on is not None:
            waited = (today - d.requested_on).days
            if waited > thresholds.pending_days:
                add(Kind.PENDING_TOO_LONG, Severity.WARNING, waited)
        return findings
    if d.status not in (ACTIVE, EXPIRED_STATUS):
        return findings  # rejected or revoked: the importer-level check speaks for them

    covered = any(_covers(o, d, importer, today) for o in others)
    if d.expiry_date is None:
        if not covered:
            add(Kind.BLANK_EXPIRY, Severity.BLOCKING)
    elif d.expiry_date < today or d.status == EXPIRED_STATUS:
        if not covered:
            add(Kind.EXPIRED, Severity.BLOCKING)
    elif not covered:
        left = (d.expiry_date - today).days
        # A notice moves at most a long weekend earlier: skip the calendar when far from due.
        widest = max(thresholds.expiry_notice_days, default=0)
        if left <= widest + 7:
            due = [
                n for n in thresholds.expiry_notice_days if today >= notice_day(d.expiry_date, n)
            ]
            if due:
                add(f"{Kind.EXPIRES_SOON}_{min(due)}", Severity.WARNING, left)

    if d.status != ACTIVE:
        return findings
    missing = (
        ()
        if d.relationship == BMR
        else tuple(
            sorted(
                bn15
                for account_id, bn15 in importer.accounts.items()
                if account_id not in d.account_ids
            )
        )
    )
    if missing:
        add(Kind.PMR_MISSING_ACCOUNT, Severity.BLOCKING, *missing)
    if d.relationship == BMR and d.authority == PPAM:
        # A BMR covers the whole business, but a pPAM manages only the accounts it names: the
        # pair says less than it seems to, and is usually a mistake in the CCP.
        add(Kind.BMR_WITH_PPAM, Severity.WARNING)
    if d.authority == PPAM and thresholds.broker_needs_pbam:
        add(Kind.PPAM_NEEDS_PBAM, Severity.WARNING)
    elif (d.relationship, d.authority) != (BMR, PBAM) and not missing:
        add(Kind.LIMITED, Severity.ADVICE, d.relationship, d.authority)
    return findings


def finding_message(f: Finding) -> str:
    """The finding's sentence in the active language."""
    return later.render(finding_parts(f))


def finding_parts(f: Finding) -> later.Parts:
    """The sentence untranslated, as stored with an alert (see ``carm_portal/stored_text.py``)."""
    family = kind_family(f.kind)
    if family == Kind.PENDING_TOO_LONG:
        (waited,) = f.details
        return later.ngettext(
            "Requested %(days)d day ago and still not approved: ask the importer's BAM to approve "
            "it in the CCP under “Manage pending third party requests”, with an expiry date.",
            "Requested %(days)d days ago and still not approved: ask the importer's BAM to approve "
            "it in the CCP under “Manage pending third party requests”, with an expiry date.",
            waited,
            {"days": waited},
        )
    if family == Kind.BLANK_EXPIRY:
        return later.gettext(
            "The expiry date was left blank in the CCP, and the broker cannot access accounts "
            "with a blank expiry date. Ask the importer's BAM to enter one."
        )
    if family == Kind.EXPIRED:
        assert f.expiry_date is not None  # only a dated delegation expires
        return later.gettext(
            "Expired on %(day)s: the broker can no longer file or pay for this importer. Ask the "
            "importer's BAM to grant access again with a new expiry date.",
            {"day": later.date(f.expiry_date)},
        )
    if family == Kind.EXPIRES_SOON:
        assert f.expiry_date is not None  # only a dated delegation expires
        (left,) = f.details
        return later.ngettext(
            "Expires on %(day)s (%(left)d day left). Ask the importer's BAM to extend it in the "
            "CCP before then.",
            "Expires on %(day)s (%(left)d days left). Ask the importer's BAM to extend it in the "
            "CCP before then.",
            left,
            {"day": later.date(f.expiry_date), "left": left},
        )
    if family == Kind.PMR_MISSING_ACCOUNT:
        return later.ngettext(
            "The PMR does not cover program account %(accounts)s: the broker cannot act on it. "
            "Ask the BAM to add it, or to switch to a BMR.",
            "The PMR does not cover program accounts %(accounts)s: the broker cannot act on them. "
            "Ask the BAM to add them, or to switch to a BMR.",
            len(f.details),
            {"accounts": ", ".join(f.details)},
        )
    if family == Kind.BMR_WITH_PPAM:
        return later.gettext(
            "A BMR with pPAM: the relationship covers the whole business, but the pPAM authority "
            "only the program accounts it names. Ask the BAM to delegate pBAM, or record the "
            "accounts the pPAM names."
        )
    if family == Kind.PPAM_NEEDS_PBAM:
        return later.gettext(
            "The delegated authority is pPAM (one program account); the broker needs pBAM to make "
            "payments and see statements for the whole business. Ask the BAM to change it."
        )
    if family == Kind.LIMITED:
        relationship, authority = f.details
        return later.gettext(
            "%(relationship)s with %(authority)s is narrower than the recommended BMR with pBAM: "
            "accounts opened later will not be covered.",
            {"relationship": relationship, "authority": authority},
        )
    if family == Kind.NO_DELEGATION:
        return later.gettext(
            "No delegation to the broker is on record for this active client: the broker cannot "
            "file or pay for it. Send a third-party request in the CCP and ask the BAM to approve "
            "it (BMR, pBAM, with an expiry date)."
        )
    return f.kind


def bam_parts(kind: str, stored: later.Parts) -> later.Parts:
    """A stored finding re-addressed to the importer's BAM, who acts in the CCP herself.

    The stored sentence speaks to the broker ("Ask the importer's BAM to extend it"); shown to
    the BAM that is an instruction to ask herself. The BAM's version is built from the kind and
    the stored sentence's own arguments (day, days left, accounts), so old rows work too. None
    when there is no BAM wording (a finding that is the broker's to act on, or no parts).
    """
    if not isinstance(stored, dict) or "t" not in stored:
        return None
    args = stored.get("a") or {}
    n = stored.get("n")
    family = kind_family(kind)
    if family == Kind.PENDING_TOO_LONG and n is not None:
        return later.ngettext(
            "Requested %(days)d day ago and still not approved: approve it in the CCP under "
            "“Manage pending third party requests”, with an expiry date.",
            "Requested %(days)d days ago and still not approved: approve it in the CCP under "
            "“Manage pending third party requests”, with an expiry date.",
            n,
            args,
        )
    if family == Kind.BLANK_EXPIRY:
        return later.gettext(
            "The expiry date was left blank in the CCP, and your broker cannot access accounts "
            "with a blank expiry date. Enter one in the CCP."
        )
    if family == Kind.EXPIRED and "day" in args:
        return later.gettext(
            "Expired on %(day)s: your broker can no longer file or pay for you. Grant access "
            "again in the CCP with a new expiry date.",
            args,
        )
    if family == Kind.EXPIRES_SOON and n is not None:
        return later.ngettext(
            "Expires on %(day)s (%(left)d day left). Extend it in the CCP before then.",
            "Expires on %(day)s (%(left)d days left). Extend it in the CCP before then.",
            n,
            args,
        )
    if family == Kind.PMR_MISSING_ACCOUNT and n is not None:
        return later.ngettext(
            "The PMR does not cover program account %(accounts)s: your broker cannot act on it. "
            "Add it in the CCP, or switch to a BMR.",
            "The PMR does not cover program accounts %(accounts)s: your broker cannot act on "
            "them. Add them in the CCP, or switch to a BMR.",
            n,
            args,
        )
    if family == Kind.PPAM_NEEDS_PBAM:
        return later.gettext(
            "The delegated authority is pPAM (one program account); your broker needs pBAM to "
            "make payments and see statements for the whole business. Change it in the CCP."
        )
    if family == Kind.NO_DELEGATION:
        return later.gettext(
            "No delegation to your broker is on record: your broker cannot file or pay for you. "
            "Approve the broker's third-party request in the CCP (BMR, pBAM, with an expiry "
            "date)."
        )
    return None


def evaluate_importer(
    importer: ImporterFacts,
    delegations: Iterable[DelegationFacts],
    *,
    today: dt.date,
    thresholds: Thresholds = Thresholds(),
) -> list[Finding]:
    """Every finding for one importer: its delegations' and, if it has none in force, that."""
    delegations = list(delegations)
    findings: list[Finding] = []
    for d in delegations:
        findings.extend(
            evaluate(d, today=today, importer=importer, others=delegations, thresholds=thresholds)
        )
    in_force = [d for d in delegations if d.status in (ACTIVE, EXPIRED_STATUS, *OPEN)]
    if importer.active and not in_force:
        findings.append(Finding(Kind.NO_DELEGATION, Severity.BLOCKING))
    return sorted(findings, key=lambda f: (severity_rank(f.severity), f.delegation_id or 0, f.kind))


def kind_family(kind: str) -> str:
    """``expires_within_14`` -> ``expires_within``: the family used for filters and labels."""
    return Kind.EXPIRES_SOON.value if kind.startswith(Kind.EXPIRES_SOON) else kind


def kind_label(kind: str) -> str:
    family = kind_family(kind)
    if family == Kind.EXPIRES_SOON and kind != family:
        return _("Expires within %(days)s days") % {"days": kind.rsplit("_", 1)[-1]}
    return str(KIND_LABELS.get(family, kind))
