"""What needs doing about an importer's payments and security on a given day: pure functions.

No database here: the daily checks (``payments/checks.py``) load plain facts in a few set-based
queries and call these functions; tests call them with literal facts. The onboarding checklist's
step 1 (``clients/onboarding.py``) reads the same ``SecurityFacts``.

Days, defined once:

* a statement due on day D may be paid through the end of D (23:59 Eastern for electronic
  payments): on D it is *due today*, from D+1 it is *overdue*; "due soon" starts
  ``due_notice_weekdays`` weekdays before D (weekdays, as CBSA counts the due date itself);
* a notice of arrears is warned ``arrears_days`` calendar days after D;
* a security expiring on D covers through the end of D;
* the annual review is on 20 October over the 12 months before it; a requirement that rose must
  be topped up by 15 January. The top-up is flagged from 20 October through 15 January;
* between two reviews, posted security is checked against the requirement the last review set
  (``sufficiency``, the one place that decides): a 12-month peak rising above it is a forecast
  of the next review, not a shortfall.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext_lazy, gettext_noop

from carm_portal import stored_text as later
from carm_portal.calendar import add_business_days, add_weekdays
from carm_portal.money import ZERO, ceil_cents
from carm_portal.severity import Severity

SURETY_BOND = "surety_bond"
CASH_DEPOSIT = "cash_deposit"
ACTIVE = "active"
PENDING = "pending"
CHEQUE = "cheque"

REVIEW_MONTH, REVIEW_DAY = 10, 20
TOP_UP_MONTH, TOP_UP_DAY = 1, 15


class Kind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    ARREARS = "arrears"
    NOT_POSTED = "not_posted"
    NO_SECURITY = "no_security"
    INSUFFICIENT = "security_insufficient"
    BOND_EXPIRING = "bond_expiring"
    ANNUAL_TOP_UP = "annual_top_up"
    FORECAST = "security_forecast"


PAYMENT_KINDS = frozenset(
    {Kind.DUE_SOON, Kind.DUE_TODAY, Kind.OVERDUE, Kind.ARREARS, Kind.NOT_POSTED}
)
SECURITY_KINDS = frozenset(
    {Kind.NO_SECURITY, Kind.INSUFFICIENT, Kind.BOND_EXPIRING, Kind.ANNUAL_TOP_UP, Kind.FORECAST}
)

# Posted security below what CBSA requires (none, not enough, the annual review's top-up): the
# "security shortfalls" of the Today view and of the payment worklist's ``kind=shortfall``.
SHORTFALL_KINDS = frozenset({Kind.NO_SECURITY, Kind.INSUFFICIENT, Kind.ANNUAL_TOP_UP})

KIND_LABELS = {
    Kind.DUE_SOON: gettext_lazy("Payment due soon"),
    Kind.DUE_TODAY: gettext_lazy("Payment due today"),
    Kind.OVERDUE: gettext_lazy("Payment overdue"),
    Kind.ARREARS: gettext_lazy("Notice of arrears"),
    Kind.NOT_POSTED: gettext_lazy("Payment not posted"),
    Kind.NO_SECURITY: gettext_lazy("No security in force"),
    Kind.INSUFFICIENT: gettext_lazy("Security insufficient"),
    Kind.BOND_EXPIRING: gettext_lazy("Bond expiring"),
    Kind.ANNUAL_TOP_UP: gettext_lazy("Annual review top-up"),
    Kind.FORECAST: gettext_lazy("Security forecast"),
}


def kind_label(kind: str) -> str:
    try:
        return str(KIND_LABELS[Kind(kind)])
    except ValueError:
        return kind


@dataclass(frozen=True)
class Thresholds:
    due_notice_weekdays: int = 5
    arrears_days: int = 30
    posting_days_electronic: int = 3
    posting_days_cheque: int = 10
    bond_notice_days: int = 60

    @classmethod
    def from_settings(cls) -> Thresholds:
        from django.conf import settings

        return cls(
            due_notice_weekdays=settings.PAYMENTS_DUE_NOTICE_WEEKDAYS,
            arrears_days=settings.PAYMENTS_ARREARS_DAYS,
            posting_days_electronic=settings.PAYMENTS_POSTING_DAYS_ELECTRONIC,
            posting_days_cheque=settings.PAYMENTS_POSTING_DAYS_CHEQUE,
            bond_notice_days=settings.SECURITY_EXPIRY_NOTICE_DAYS,
        )


# --- Facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementFacts:
    id: int
    importer_id: int
    program_account_id: int
    bn15: str
    statement_date: dt.date
    due_date: dt.date
    outstanding: Decimal  # after every payment not returned, cleared or in transit


@dataclass(frozen=True)
class PaymentFacts:
    id: int
    importer_id: int
    program_account_id: int
    amount: Decimal
    method: str
    paid_on: dt.date
    method_label: str = ""  # the choice label untranslated: the alert translates it when shown


@dataclass(frozen=True)
class SecurityFacts:
    id: int
    program_account_id: int
    kind: str
    amount: Decimal
    status: str
    effective_date: dt.date | None
    expiry_date: dt.date | None
    surety_company: str = ""
    bond_number: str = ""

    def in_force(self, day: dt.date) -> bool:
        return (
            self.status == ACTIVE
            and self.effective_date is not None
            and self.effective_date <= day
            and (self.expiry_date is None or day <= self.expiry_date)
        )


@dataclass(frozen=True)
class AccountFacts:
    id: int
    importer_id: int
    bn15: str
    importer_active: bool = True  # an active client importing without RPP is a blocking finding


@dataclass(frozen=True)
class Finding:
    kind: Kind
    severity: Severity
    importer_id: int
    key: str
    program_account_id: int | None = None
    statement_id: int | None = None
    payment_id: int | None = None
    security_id: int | None = None
    deadline: dt.date | None = None
    amount: Decimal | None = None
    details: tuple = ()

    @property
    def message(self) -> str:
        """The sentence a clerk can act on, built only when shown or stored."""
        return finding_message(self)

    @property
    def parts(self) -> later.Parts:
        """The sentence untranslated, stored next to ``message`` to be shown in any language."""
        return finding_parts(self)

    @property
    def label(self) -> str:
        return kind_label(self.kind)


# --- Statements and payments ---------------------------------------------------------------------


def due_notice_day(due_date: dt.date, thresholds: Thresholds) -> dt.date:
    """The first day of the "due soon" reminder: N weekdays before the due date."""
    return add_weekdays(due_date, -thresholds.due_notice_weekdays)


def statement_findings(
    statement: StatementFacts, *, today: dt.date, thresholds: Thresholds
) -> list[Finding]:
    """Due soon, due today, overdue, arrears: at most two findings for an unpaid statement."""
    if statement.outstanding <= ZERO:
        return []

    def finding(kind: Kind, severity: Severity, *details: object) -> Finding:
        return Finding(
            kind=kind,
            severity=severity,
            importer_id=statement.importer_id,
            key=f"statement:{statement.id}:{kind}:{statement.due_date.isoformat()}",
            program_account_id=statement.program_account_id,
            statement_id=statement.id,
            deadline=statement.due_date,
            amount=statement.outstanding,
            details=(statement.bn15, statement.statement_date, *details),
        )

    due = statement.due_date
    if today < due_notice_day(due, thresholds):
        return []
    if today < due:
        return [finding(Kind.DUE_SOON, Severity.ADVICE, weekdays_between(today, due))]
    if today == due:
        return [finding(Kind.DUE_TODAY, Severity.WARNING)]
    late = (today - due).days
    found = [finding(Kind.OVERDUE, Severity.BLOCKING, late)]
    if late >= thresholds.arrears_days:
        found.append(finding(Kind.ARREARS, Severity.BLOCKING, late))
    return found


def weekdays_between(start: dt.date, end: dt.date) -> int:
    """Weekdays after ``start`` up to and including ``end``."""
    return sum(
        1 for n in range(1, (end - start).days + 1) if (start + dt.timedelta(n)).weekday() < 5
    )


def expected_posting(method: str, paid_on: dt.date, thresholds: Thresholds) -> dt.date:
    """The business day by which CBSA should have posted a payment (cheques take longest)."""
    days = (
        thresholds.posting_days_cheque if method == CHEQUE else thresholds.posting_days_electronic
    )
    return add_business_days(paid_on, days)


def payment_findings(
    payment: PaymentFacts, *, today: dt.date, thresholds: Thresholds
) -> list[Finding]:
    """A payment still in transit after it should have posted: check it reached CBSA."""
    expected = expected_posting(payment.method, payment.paid_on, thresholds)
    if today <= expected:
        return []
    return [
        Finding(
            kind=Kind.NOT_POSTED,
            severity=Severity.WARNING,
            importer_id=payment.importer_id,
            key=f"payment:{payment.id}:{Kind.NOT_POSTED}",
            program_account_id=payment.program_account_id,
            payment_id=payment.id,
            deadline=expected,
            amount=payment.amount,
            details=(payment.method_label or payment.method, payment.paid_on),
        )
    ]


# --- Financial security --------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """CBSA's annual review of security: on 20 October, top-ups due by 15 January."""

    year: int
    review_on: dt.date
    top_up_by: dt.date


def review_of(year: int) -> Review:
    return Review(
        year=year,
        review_on=dt.date(year, REVIEW_MONTH, REVIEW_DAY),
        top_up_by=dt.date(year + 1, TOP_UP_MONTH, TOP_UP_DAY),
    )


def annual_review(today: dt.date) -> Review | None:
    """The review whose top-up window (20 October – 15 January, both included) holds ``today``."""
    if (today.month, today.day) >= (REVIEW_MONTH, REVIEW_DAY):
        return review_of(today.year)
    if (today.month, today.day) <= (TOP_UP_MONTH, TOP_UP_DAY):
        return review_of(today.year - 1)
    return None


@dataclass(frozen=True)
class Coverage:
    """How far the securities in force go towards what CBSA requires.

    A bond and a cash deposit on the same account add up in proportion: a bond of half its
    requirement plus cash of half its requirement cover the account. Exact (fractions, no floats).
    """

    posted: dict[str, Decimal]  # kind -> amount in force
    required: dict[str, Decimal]  # kind -> amount required
    ratio: Fraction

    @property
    def ok(self) -> bool:
        return bool(self.posted) and self.ratio >= 1

    @property
    def main_kind(self) -> str:
        """The kind with the most posted (a bond when there is none: the recommended form)."""
        if not self.posted:
            return SURETY_BOND
        return max(self.posted, key=lambda kind: (self.posted[kind], kind == SURETY_BOND))

    def shortfall(self, kind: str | None = None) -> Decimal:
        """What more of ``kind`` (the main kind by default) would cover the account."""
        kind = kind or self.main_kind
        if self.ok:
            return ZERO
        missing = (1 - self.ratio) * Fraction(self.required[kind])
        return ceil_cents(Decimal(missing.numerator) / Decimal(missing.denominator))

    @property
    def total_posted(self) -> Decimal:
        return sum(self.posted.values(), ZERO)


def coverage(
    securities: Iterable[SecurityFacts], required: Mapping[str, Decimal], day: dt.date
) -> Coverage:
    posted: dict[str, Decimal] = {}
    for security in securities:
        if security.in_force(day):
            posted[security.kind] = posted.get(security.kind, ZERO) + security.amount
    ratio = sum(
        (Fraction(amount) / Fraction(required[kind]) for kind, amount in posted.items()),
        Fraction(0),
    )
    return Coverage(posted=posted, required=dict(required), ratio=ratio)


def _replaced(security: SecurityFacts, others: Sequence[SecurityFacts]) -> bool:
    """Another security in force carries on past this one's expiry (no warning needed)."""
    assert security.expiry_date is not None
    day_after = security.expiry_date + dt.timedelta(days=1)
    return any(
        other.id != security.id
        and other.status == ACTIVE
        and other.effective_date is not None
        and other.effective_date <= day_after
        and (other.expiry_date is None or other.expiry_date > security.expiry_date)
        for other in others
    )


def next_review_on(today: dt.date) -> dt.date:
    """The next 20 October after ``today`` (on a review day, the one a year later)."""
    if (today.month, today.day) < (REVIEW_MONTH, REVIEW_DAY):
        return review_of(today.year).review_on
    return review_of(today.year + 1).review_on


@dataclass(frozen=True)
class ReviewFacts:
    """A requirement CBSA set at an annual review (``SecurityReview``), as plain facts."""

    program_account_id: int
    review_on: dt.date
    top_up_by: dt.date
    required: Mapping[str, Decimal]  # kind -> amount
    entered: bool = False  # from CBSA's notice rather than computed here
    cbsa_reference: str = ""  # the notice's reference, when entered


@dataclass(frozen=True)
class Forecast:
    """What the next annual review will require of an RM account, and whether it will be covered.

    The one forecast: the security pages' "projected", the daily check's forecast warning, the
    forecast page and its nightly snapshot all come from ``forecast``.
    """

    review_on: dt.date  # the next 20 October (``next_review_on``)
    required: Mapping[str, Decimal]  # kind -> amount the review would set
    coverage: Coverage  # the security in force today against it

    @property
    def short(self) -> bool:
        return not self.coverage.ok

    @property
    def kind(self) -> str:
        return self.coverage.main_kind

    @property
    def posted(self) -> Decimal:
        return self.coverage.total_posted

    @property
    def shortfall(self) -> Decimal:
        """What more of the account's main kind of security would cover it at the review."""
        return self.coverage.shortfall() if self.short else ZERO


def forecast(
    *, securities: Iterable[SecurityFacts], computed: Mapping[str, Decimal], today: dt.date
) -> Forecast:
    """The requirement at the next 20 October, and whether today's security will meet it.

    ``computed`` is the requirement from the 12 months before ``today`` (``required_security``'s
    rule, the one CBSA applies at the review): the best estimate of the review is that the months
    to come repeat those of last year. It is compared with the security in force today; a bond
    lapsing before the review is the bond-expiry warning's business, not the forecast's.
    """
    return Forecast(
        review_on=next_review_on(today),
        required=dict(computed),
        coverage=coverage(securities, computed, today),
    )


class Standing(StrEnum):
    NONE = "none"  # nothing in force: blocking
    SHORTFALL = "shortfall"  # below the requirement in force: blocking (red)
    TOP_UP = "top_up"  # below the new review's requirement, before its 15 January: warning
    FORECAST = "forecast"  # covered, but the rising peak will need more at the next review
    SUFFICIENT = "sufficient"


@dataclass(frozen=True)
class Sufficiency:
    """Whether an RM account's posted security is enough today, and against what.

    ``required`` is the requirement in force (the last review's, or today's computation for an
    account never reviewed); ``forecast`` what the next review would set (``forecast``).
    """

    standing: Standing
    coverage: Coverage  # against ``required``
    required: Mapping[str, Decimal]
    forecast: Forecast
    review: ReviewFacts | None

    @property
    def projected(self) -> Mapping[str, Decimal]:
        return self.forecast.required

    @property
    def projected_coverage(self) -> Coverage:
        return self.forecast.coverage

    @property
    def next_review_on(self) -> dt.date:
        return self.forecast.review_on

    @property
    def blocking(self) -> bool:
        return self.standing in (Standing.NONE, Standing.SHORTFALL)

    @property
    def severity(self) -> Severity | None:
        if self.blocking:
            return Severity.BLOCKING
        if self.standing in (Standing.TOP_UP, Standing.FORECAST):
            return Severity.WARNING
        return None


def sufficiency(
    *,
    securities: Iterable[SecurityFacts],
    review: ReviewFacts | None,
    previous: ReviewFacts | None = None,
    computed: Mapping[str, Decimal],
    today: dt.date,
) -> Sufficiency:
    """The one rule deciding shortfall, top-up window and forecast for an RM account.

    ``review`` is the last annual review on or before ``today`` (None: never reviewed, so the
    requirement computed today applies); ``previous`` the review before it; ``computed`` the
    requirement from the trailing 12 months today, which ``forecast`` projects to the next review.

    * below the review's requirement up to its top-up date (15 January, included) is a top-up
      warning, unless the posted security was already short of the previous review's
      requirement: that shortfall was blocking before the review and stays so;
    * below it after 15 January is a blocking shortfall;
    * covered, but short of the forecast, is a forecast warning naming the next 20 October.
    """
    securities = list(securities)
    required = review.required if review is not None else computed
    now = coverage(securities, required, today)
    ahead = forecast(securities=securities, computed=computed, today=today)

    def result(standing: Standing) -> Sufficiency:
        return Sufficiency(
            standing=standing, coverage=now, required=required, forecast=ahead, review=review
        )

    if not now.posted:
        return result(Standing.NONE)
    if not now.ok:
        in_window = review is not None and review.review_on <= today <= review.top_up_by
        short_before = (
            previous is not None and not coverage(securities, previous.required, today).ok
        )
        return result(Standing.TOP_UP if in_window and not short_before else Standing.SHORTFALL)
    if review is not None and ahead.short:
        return result(Standing.FORECAST)
    return result(Standing.SUFFICIENT)


def security_findings(
    *,
    account: AccountFacts,
    securities: Sequence[SecurityFacts],
    standing: Sufficiency,
    today: dt.date,
    thresholds: Thresholds,
) -> list[Finding]:
    """No security, not enough of it, the annual top-up, the forecast, a bond about to expire.

    What is enough is ``standing`` (``sufficiency``): this only words it as findings.
    """

    def finding(kind: Kind, severity: Severity, key: str, **kwargs: Any) -> Finding:
        return Finding(
            kind=kind,
            severity=severity,
            importer_id=account.importer_id,
            key=key,
            program_account_id=account.id,
            **kwargs,
        )

    found: list[Finding] = []
    required = standing.required
    now = standing.coverage
    if standing.standing == Standing.NONE:
        if account.importer_active:
            found.append(
                finding(
                    Kind.NO_SECURITY,
                    Severity.BLOCKING,
                    f"account:{account.id}:{Kind.NO_SECURITY}",
                    amount=required[SURETY_BOND],
                    details=(account.bn15, required[SURETY_BOND], required[CASH_DEPOSIT]),
                )
            )
        return found

    review = standing.review
    if standing.standing == Standing.TOP_UP:
        assert review is not None
        kind = now.main_kind
        found.append(
            finding(
                Kind.ANNUAL_TOP_UP,
                Severity.WARNING,
                f"account:{account.id}:{Kind.ANNUAL_TOP_UP}:{review.review_on.year}",
                deadline=review.top_up_by,
                amount=now.shortfall(kind),
                details=(
                    account.bn15,
                    review.review_on,
                    required[kind],
                    now.total_posted,
                    kind,
                ),
            )
        )
    elif standing.standing == Standing.SHORTFALL:
        kind = now.main_kind
        found.append(
            finding(
                Kind.INSUFFICIENT,
                Severity.BLOCKING,
                f"account:{account.id}:{Kind.INSUFFICIENT}",
                amount=now.shortfall(kind),
                details=(account.bn15, now.total_posted, required[kind], kind),
            )
        )
    elif standing.standing == Standing.FORECAST:
        ahead = standing.forecast
        found.append(
            finding(
                Kind.FORECAST,
                Severity.WARNING,
                f"account:{account.id}:{Kind.FORECAST}:{ahead.review_on.year}",
                deadline=ahead.review_on,
                amount=ahead.shortfall,
                details=(
                    account.bn15,
                    ahead.required[ahead.kind],
                    ahead.posted,
                    ahead.kind,
                    required[ahead.kind],
                ),
            )
        )

    for security in securities:
        if (
            security.kind == SURETY_BOND
            and security.in_force(today)
            and security.expiry_date is not None
            and (security.expiry_date - today).days <= thresholds.bond_notice_days
            and not _replaced(security, securities)
        ):
            found.append(
                finding(
                    Kind.BOND_EXPIRING,
                    Severity.WARNING,
                    f"security:{security.id}:{Kind.BOND_EXPIRING}:{security.expiry_date.isoformat()}",
                    security_id=security.id,
                    deadline=security.expiry_date,
                    amount=security.amount,
                    details=(
                        account.bn15,
                        security.bond_number,
                        security.surety_company,
                        (security.expiry_date - today).days,
                    ),
                )
            )
    return found


# --- Sentences -----------------------------------------------------------------------------------

KIND_NAMES = {SURETY_BOND: gettext_noop("surety bond"), CASH_DEPOSIT: gettext_noop("cash deposit")}


def _day(value: dt.date | None) -> later.Parts:
    assert value is not None  # called only for the kinds whose findings carry their deadline
    return later.date(value, iso=True)


def finding_message(f: Finding) -> str:
    """The finding's sentence in the active language."""
    return later.render(finding_parts(f))


def finding_parts(f: Finding) -> later.Parts:
    """The sentence untranslated, as stored with an alert (see ``carm_portal/stored_text.py``)."""
    d = f.details
    amount = later.money(f.amount)
    if f.kind in (Kind.DUE_SOON, Kind.DUE_TODAY, Kind.OVERDUE, Kind.ARREARS):
        where = later.gettext("Statement of %(day)s (%(bn15)s)", {"day": _day(d[1]), "bn15": d[0]})
        if f.kind == Kind.DUE_SOON:
            what = later.ngettext(
                "%(amount)s is due on %(due)s, in %(n)d weekday.",
                "%(amount)s is due on %(due)s, in %(n)d weekdays.",
                d[2],
                {"amount": amount, "due": _day(f.deadline), "n": d[2]},
            )
        elif f.kind == Kind.DUE_TODAY:
            what = later.gettext(
                "%(amount)s is due today. Electronic payments count until 23:59 Eastern; a "
                "cheque must arrive by 16:00.",
                {"amount": amount},
            )
        elif f.kind == Kind.OVERDUE:
            what = later.ngettext(
                "%(amount)s was due on %(due)s (%(n)d day overdue). Interest runs and a "
                "late-payment penalty may apply.",
                "%(amount)s was due on %(due)s (%(n)d days overdue). Interest runs and a "
                "late-payment penalty may apply.",
                d[2],
                {"amount": amount, "due": _day(f.deadline), "n": d[2]},
            )
        else:
            what = later.gettext(
                "%(amount)s unpaid %(n)d days after its due date. CBSA sends a notice of arrears "
                "and the CRA may collect it.",
                {"amount": amount, "n": d[2]},
            )
        return later.concat(where, what, sep=": ")
    if f.kind == Kind.NOT_POSTED:
        return later.gettext(
            "The payment of %(amount)s by %(method)s on %(day)s is on no statement yet and "
            "should have posted by %(expected)s: check that it reached CBSA.",
            {
                "amount": amount,
                "method": later.lowercase(later.gettext(str(d[0]))),
                "day": _day(d[1]),
                "expected": _day(f.deadline),
            },
        )
    if f.kind == Kind.NO_SECURITY:
        return later.gettext(
            "%(bn15)s has no financial security in force, so goods cannot be released before "
            "payment. Post a surety bond of %(bond)s or a cash deposit of %(cash)s.",
            {"bn15": d[0], "bond": later.money(d[1]), "cash": later.money(d[2])},
        )
    if f.kind == Kind.INSUFFICIENT:
        return later.gettext(
            "%(bn15)s: the security in force (%(posted)s) is less than the %(required)s CBSA "
            "requires as a %(kind)s. Top it up by %(shortfall)s.",
            {
                "bn15": d[0],
                "posted": later.money(d[1]),
                "required": later.money(d[2]),
                "kind": later.gettext(KIND_NAMES[d[3]]),
                "shortfall": amount,
            },
        )
    if f.kind == Kind.BOND_EXPIRING:
        return later.ngettext(
            "Surety bond %(number)s (%(surety)s) on %(bn15)s expires on %(day)s, in %(n)d day: "
            "renew it with the surety.",
            "Surety bond %(number)s (%(surety)s) on %(bn15)s expires on %(day)s, in %(n)d days: "
            "renew it with the surety.",
            d[3],
            {
                "number": d[1] or "—",
                "surety": d[2] or "—",
                "bn15": d[0],
                "day": _day(f.deadline),
                "n": d[3],
            },
        )
    if f.kind == Kind.ANNUAL_TOP_UP:
        return later.gettext(
            "Annual review of %(review)s: %(bn15)s needs %(required)s as a %(kind)s and "
            "%(posted)s is posted. Top up by %(shortfall)s before %(deadline)s or lose release "
            "prior to payment.",
            {
                "review": _day(d[1]),
                "bn15": d[0],
                "required": later.money(d[2]),
                "posted": later.money(d[3]),
                "kind": later.gettext(KIND_NAMES[d[4]]),
                "shortfall": amount,
                "deadline": _day(f.deadline),
            },
        )
    if f.kind == Kind.FORECAST:
        return later.gettext(
            "%(bn15)s: the months owed in the last 12 would raise the requirement to "
            "%(projected)s as a %(kind)s at the review of %(review)s (%(required)s today, "
            "%(posted)s posted). Plan a top-up of %(shortfall)s.",
            {
                "bn15": d[0],
                "projected": later.money(d[1]),
                "posted": later.money(d[2]),
                "kind": later.gettext(KIND_NAMES[d[3]]),
                "required": later.money(d[4]),
                "review": _day(f.deadline),
                "shortfall": amount,
            },
        )
    return f.kind


@dataclass
class Counts:
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.by_kind[f.kind] = self.by_kind.get(f.kind, 0) + 1
