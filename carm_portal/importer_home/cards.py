"""What an importer's people see on their home page: one ``ImporterHome`` per importer they belong
to, read in a fixed number of queries however many statements, alerts, runs or people there are.

The page answers a busy owner's three questions at a glance: how far along is our CARM
onboarding, what needs us now (a renewal the broker asked for, a delegation about to lapse, a
payment due, a security to top up), and where are our statements, reports and people. Every
finance row is read only for the importers on which the user holds the finance permission, so an
employee's page never even queries them.

Reads only; who may see what is ``clients.access``. Latest-N-per-importer lists use a window
function, so a user of several importers costs no more queries than a user of one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils.translation import gettext as _

from carm_portal.severity import severity_rank
from clients import access, onboarding
from clients.access import Perm
from clients.models import Importer, Membership, OnboardingStep, PortalUser, ProgramAccount
from delegation.checks import findings_for as delegation_findings_for
from delegation.checks import load_facts as load_delegation_facts
from delegation.models import DelegationAlert, RenewalRequest
from delegation.rules import Finding as DelegationFinding
from delegation.rules import Thresholds as DelegationThresholds
from delegation.rules import kind_label as delegation_kind_label
from delegation.selectors import open_renewals
from payments.checks import current_security_findings, current_statement_findings
from payments.models import PaymentAlert
from payments.rules import Finding as PaymentFinding
from payments.rules import Kind as PaymentKind
from payments.rules import Thresholds as PaymentThresholds
from payments.rules import kind_label as payment_kind_label
from services.compliance.readiness import active_questions, question_text, waiting_on_importer
from services.models import ReadinessCheck
from statements.due import is_due_soon, is_overdue
from statements.models import ReconciliationItem, ReconciliationRun, Statement
from statements.reconciliation.selectors import unresolved_exceptions

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

STATEMENT_ROWS = 5
REPORT_ROWS = 5
ATTENTION_ROWS = 10
STEP_STATUS = OnboardingStep.Status
SECURITY_KINDS_TO_RECORD = {
    PaymentKind.NO_SECURITY,
    PaymentKind.INSUFFICIENT,
    PaymentKind.ANNUAL_TOP_UP,
}
PAYMENT_DUE_KINDS = {
    PaymentKind.DUE_SOON,
    PaymentKind.DUE_TODAY,
    PaymentKind.OVERDUE,
    PaymentKind.ARREARS,
}


@dataclass
class Attention:
    """One open thing that needs the importer's people: a plain sentence and where to act."""

    source: str  # "renewal", "delegation" or "payment": which panel below has the details
    severity: str  # blocking, warning, advice (the badge colour; its text is ``label``)
    label: str
    sentence: str
    url: str
    action: str
    day: dt.date | None = None
    day_label: str = ""
    amount: Decimal | None = None
    note: str = ""  # the broker's own words, for a renewal request

    @property
    def sort_key(self) -> tuple:
        # The broker's direct asks first, then by urgency, then soonest date.
        return (
            self.source != "renewal",
            severity_rank(self.severity),
            self.day or dt.date.max,
        )


@dataclass
class StatementRow:
    statement: Statement
    owing: Decimal | None  # still owing after our payments; None until the payments app knows
    overdue: bool
    due_soon: bool


@dataclass
class ReadinessCard:
    """The importer's RM readiness at a glance: the latest score and what waits on its people."""

    check: ReadinessCheck | None
    waiting: list[str]  # the questions no record answers and the importer has not answered yet
    can_answer: bool


@dataclass
class ImporterHome:
    """Everything one importer's card on the home page shows, with what this user may do there."""

    importer: Importer
    role: str
    role_label: str
    checklist: list[OnboardingStep]
    steps_done: int
    can_onboard: bool
    can_finance: bool
    can_download: bool
    can_invite: bool
    can_manage_people: bool
    wizard_started: bool
    wizard_finished: bool
    attention: list[Attention] = field(default_factory=list)
    attention_hidden: int = 0
    statements: list[StatementRow] = field(default_factory=list)
    reports: list[ReconciliationRun] = field(default_factory=list)
    members: list[Membership] = field(default_factory=list)
    people: list[PortalUser] = field(default_factory=list)
    readiness: ReadinessCard | None = None  # for those who may see the importer's readiness
    # The open rows the attention card is made of, handed to the delegation and payments panels
    # so they do not read them again (payment alerts only where the user sees the finances).
    renewals: list[RenewalRequest] = field(default_factory=list)
    delegation_alerts: list[DelegationAlert] = field(default_factory=list)
    payment_alerts: list[PaymentAlert] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        """``card["importer"]``: the page context has long been a list of dicts."""
        return getattr(self, name)

    @property
    def attention_count(self) -> int:
        return len(self.attention) + self.attention_hidden

    @property
    def steps_total(self) -> int:
        return len(self.checklist)

    @property
    def all_done(self) -> bool:
        return self.steps_done == self.steps_total

    @property
    def percent_done(self) -> int:
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0

    @property
    def onboarding_action(self) -> str:
        """The wizard button's words: review once everything is done or answered."""
        if self.all_done or self.wizard_finished:
            return _("Review your answers")
        if not self.wizard_started and self.steps_done == 0:
            return _("Start onboarding")
        return _("Continue onboarding")


# --- The page --------------------------------------------------------------------------------------


def importer_homes(*, user: Any, today: dt.date) -> list[ImporterHome]:
    """One home card per importer the user belongs to, by legal name (about ten queries)."""
    roles = access.member_roles(user)
    importers = list(
        access.visible_importers(user)
        .select_related("assigned_agent", "onboarding_wizard")
        .prefetch_related(
            Prefetch("program_accounts", queryset=ProgramAccount.objects.order_by("bn15")),
            Prefetch(
                "portal_users",
                queryset=PortalUser.objects.select_related("program_account").order_by(
                    "full_name", "id"
                ),
            ),
            Prefetch("onboarding_steps", queryset=OnboardingStep.objects.order_by("step")),
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("user").order_by(
                    "role", "user__full_name", "user__email", "id"
                ),
            ),
        )
        .order_by("legal_name", "pk")
    )
    role_labels = dict(Membership.Role.choices)
    homes = {}
    for importer in importers:
        wizard = getattr(importer, "onboarding_wizard", None)
        checklist = checklist_of(importer)
        role = roles.get(importer.pk, "")
        homes[importer.pk] = ImporterHome(
            importer=importer,
            role=role,
            role_label=str(role_labels.get(role, "")),
            checklist=checklist,
            steps_done=onboarding.progress(checklist)[0],
            can_onboard=access.can(user, Perm.ONBOARD, importer),
            can_finance=access.can(user, Perm.VIEW_FINANCE, importer),
            can_download=access.can(user, Perm.DOWNLOAD_RECONCILIATION, importer),
            can_invite=access.can(user, Perm.INVITE, importer),
            can_manage_people=access.can(user, Perm.MANAGE_PEOPLE, importer),
            wizard_started=wizard is not None,
            wizard_finished=bool(wizard and wizard.finished_at),
            members=list(importer.memberships.all()),
            people=list(importer.portal_users.all()),
        )
    if not homes:
        return []

    finance_ids = [pk for pk, home in homes.items() if home.can_finance]
    download_ids = [pk for pk, home in homes.items() if home.can_download]
    attention: dict[int, list[Attention]] = defaultdict(list)
    for renewal in open_renewals(homes):
        importer_id = renewal.delegation.importer_id
        homes[importer_id].renewals.append(renewal)
        can_confirm = access.can(user, Perm.CONFIRM_DELEGATION, importer_id)
        attention[importer_id].append(renewal_attention(renewal, can_confirm=can_confirm))
    # Computed from today's data with the daily checks' own rules, so what needs the importer
    # shows as soon as the data says so, not only after the night's check has stored an alert.
    # What the night's checks stored, then what today's rules find that is not stored yet (same
    # importer and key: shown once), so a statement that fell overdue this morning shows now.
    known: set[tuple[int, str]] = set()
    for alert in open_delegation_alerts(homes):
        homes[alert.importer_id].delegation_alerts.append(alert)
        known.add((alert.importer_id, alert.key))
        # The BAM is the one who acts in the CCP: tell her what to do, not to ask herself.
        to_bam = access.acts_in_ccp(user, alert.importer_id)
        attention[alert.importer_id].append(stored_delegation_attention(alert, to_bam=to_bam))
    for importer_id, found in live_delegation_findings(homes, today=today):
        if (importer_id, found.key) not in known:
            to_bam = access.acts_in_ccp(user, importer_id)
            attention[importer_id].append(
                delegation_attention(found, importer_id=importer_id, to_bam=to_bam)
            )
    for payment_alert in open_payment_alerts(finance_ids):
        homes[payment_alert.importer_id].payment_alerts.append(payment_alert)
        known.add((payment_alert.importer_id, payment_alert.key))
        attention[payment_alert.importer_id].append(payment_attention(payment_alert, user=user))
    for payment_finding in live_payment_findings(finance_ids, today=today):
        if (payment_finding.importer_id, payment_finding.key) not in known:
            attention[payment_finding.importer_id].append(
                payment_finding_attention(payment_finding, user=user)
            )
    for pk, items in attention.items():
        items.sort(key=lambda a: a.sort_key)
        homes[pk].attention = items[:ATTENTION_ROWS]
        homes[pk].attention_hidden = max(len(items) - ATTENTION_ROWS, 0)

    readiness_ids = [pk for pk in homes if access.can(user, Perm.VIEW_READINESS, pk)]
    for importer_id, readiness in readiness_cards(readiness_ids, user=user).items():
        homes[importer_id].readiness = readiness

    for row in latest_statements(finance_ids, today=today):
        homes[row.statement.program_account.importer_id].statements.append(row)
    for run in current_reports(download_ids):
        homes[run.importer_id].reports.append(run)
    return list(homes.values())


def checklist_of(importer: Importer) -> list[OnboardingStep]:
    """All seven steps, in order (prefetched rows), as every page counts them."""
    return onboarding.checklist(importer)


# --- Alerts: renewal requests, delegation findings, payment and security findings --------------


def open_delegation_alerts(importer_ids: Collection[int]) -> list[DelegationAlert]:
    """Open stored findings about the importers' delegations (one query)."""
    return list(
        DelegationAlert.objects.filter(importer_id__in=list(importer_ids), resolved_at=None)
        .select_related("delegation")
        .order_by("raised_on", "id")
    )


def live_delegation_findings(
    importer_ids: Collection[int], *, today: dt.date
) -> list[tuple[int, DelegationFinding]]:
    """Today's findings about the importers' delegations (blank or soon-expiring dates, expired,
    none in force…), by the daily check's rules on the current rows (four queries)."""
    facts, delegations = load_delegation_facts(list(importer_ids))
    found = delegation_findings_for(
        facts, delegations, today=today, thresholds=DelegationThresholds.from_settings()
    )
    return [(importer_id, f) for importer_id, items in found.items() for f in items]


def live_payment_findings(importer_ids: Collection[int], *, today: dt.date) -> list[PaymentFinding]:
    """Today's due, overdue and arrears findings of the statements, and the security findings,
    for importers whose finances the user sees (the daily checks' rules; five queries)."""
    if not importer_ids:
        return []
    thresholds = PaymentThresholds.from_settings()
    statements = current_statement_findings(
        today=today, importer_ids=importer_ids, thresholds=thresholds
    )
    security, _checked = current_security_findings(
        today=today, importer_ids=importer_ids, thresholds=thresholds
    )
    return [*statements, *security]


def open_payment_alerts(
    importer_ids: Collection[int], *, kinds: Collection[str] | None = None
) -> list[PaymentAlert]:
    """Open stored payment and security findings (``kinds`` only, when given), for importers
    whose finances the user sees."""
    if not importer_ids:
        return []
    alerts = PaymentAlert.objects.filter(importer_id__in=list(importer_ids), resolved_at=None)
    if kinds is not None:
        alerts = alerts.filter(kind__in=list(kinds))
    return list(
        alerts.select_related("statement", "payment", "security", "program_account").order_by(
            "deadline", "id"
        )
    )


def renewal_attention(renewal: RenewalRequest, *, can_confirm: bool) -> Attention:
    """The broker's request to extend the delegation; the confirm form is in the panel below."""
    who = renewal.requested_by.get_full_name() if renewal.requested_by else _("Your broker")
    facts = {"who": who, "day": renewal.requested_expiry_date.isoformat()}
    if can_confirm:
        sentence = _(
            "%(who)s asks you to extend the broker's delegation in the CARM Client Portal "
            "to %(day)s, then to tell us here that it is done."
        )
        url, action = f"#confirm-{renewal.pk}", _("Confirm it is done")
    else:  # only a BAM can change a delegation in the CCP: say who will act
        sentence = _(
            "%(who)s asked your Business Account Manager to extend the broker's delegation in "
            "the CARM Client Portal to %(day)s."
        )
        url, action = renewal.delegation.get_absolute_url(), _("See the delegation")
    return Attention(
        source="renewal",
        severity="warning",
        label=_("Renewal requested"),
        sentence=sentence % facts,
        url=url,
        action=action,
        day=renewal.requested_expiry_date,
        day_label=_("New expiry date"),
        note=renewal.message,
    )


def delegation_attention(
    found: DelegationFinding, *, importer_id: int, to_bam: bool = False
) -> Attention:
    """A delegation finding of today's rules; ``to_bam``: worded for the BAM, who acts in the
    CCP herself."""
    if found.delegation_id is not None:
        url = reverse("delegation:detail", args=[found.delegation_id])
        action = _("See the delegation")
    else:
        url, action = f"#delegation-title-{importer_id}", _("What to do")
    return Attention(
        source="delegation",
        severity=found.severity,
        label=delegation_kind_label(found.kind),
        sentence=found.message_for_bam if to_bam else found.message,
        url=url,
        action=action,
        day=found.expiry_date,
        day_label=_("Expiry date") if found.expiry_date else "",
    )


def stored_delegation_attention(alert: DelegationAlert, *, to_bam: bool = False) -> Attention:
    """A finding the daily check stored and today's rules no longer make (yet)."""
    if alert.delegation is not None:  # no query when delegation_id is None
        url, action = alert.delegation.get_absolute_url(), _("See the delegation")
    else:
        url, action = f"#delegation-title-{alert.importer_id}", _("What to do")
    return Attention(
        source="delegation",
        severity=alert.severity,
        label=delegation_kind_label(alert.kind),
        sentence=alert.message_for_bam if to_bam else alert.message_text,
        url=url,
        action=action,
        day=alert.expiry_date,
        day_label=_("Expiry date") if alert.expiry_date else "",
    )


def payment_finding_attention(found: PaymentFinding, *, user: Any) -> Attention:
    """A finding of today's statements or security, linked to where it is acted on."""
    importer_id = found.importer_id
    if found.kind in SECURITY_KINDS_TO_RECORD and access.can(
        user, Perm.MANAGE_PAYMENTS, importer_id
    ):
        url, action = (
            reverse("payments:security_create", args=[importer_id]),
            _("Record a security"),
        )
    elif found.security_id is not None:
        url = reverse("payments:security_detail", args=[found.security_id])
        action = _("See the security")
    elif found.statement_id is not None:
        url = reverse("statements:detail", args=[found.statement_id])
        action = _("See the statement")
    else:
        url, action = f"#payments-title-{importer_id}", _("See payments and security")
    day_label = _("Due date") if found.kind in PAYMENT_DUE_KINDS else _("Date")
    return Attention(
        source="payment",
        severity=found.severity,
        label=payment_kind_label(found.kind),
        sentence=found.message,
        url=url,
        action=action,
        day=found.deadline,
        day_label=day_label if found.deadline else "",
        amount=found.amount,
    )


def payment_attention(alert: PaymentAlert, *, user: Any) -> Attention:
    """A payment or security finding, linked to where it is acted on."""
    importer_id = alert.importer_id
    can_manage = access.can(user, Perm.MANAGE_PAYMENTS, importer_id)
    if alert.kind in SECURITY_KINDS_TO_RECORD and can_manage:
        url = reverse("payments:security_create", args=[importer_id])
        action = _("Record a security")
    elif alert.security is not None:  # each FK reads as None without a query when unset
        url, action = alert.security.get_absolute_url(), _("See the security")
    elif alert.payment is not None:
        url, action = alert.payment.get_absolute_url(), _("See the payment")
    elif alert.statement is not None:
        url, action = alert.statement.get_absolute_url(), _("See the statement")
    else:
        url, action = f"#payments-title-{importer_id}", _("See payments and security")
    if alert.kind in PAYMENT_DUE_KINDS:
        day_label = _("Due date")
    elif alert.kind == PaymentKind.NOT_POSTED:
        day_label = _("Expected on the statement by")
    else:
        day_label = _("Date")
    return Attention(
        source="payment",
        severity=alert.severity,
        label=payment_kind_label(alert.kind),
        sentence=alert.message_text,
        url=url,
        action=action,
        day=alert.deadline,
        day_label=day_label if alert.deadline else "",
        amount=alert.amount,
    )


# --- RM readiness --------------------------------------------------------------------------------


def readiness_cards(importer_ids: Collection[int], *, user: Any) -> dict[int, ReadinessCard]:
    """Each importer's latest check and the questions waiting on its people (two queries)."""
    if not importer_ids:
        return {}
    latest = {
        check.importer_id: check
        for check in latest_per_importer(
            ReadinessCheck.objects.filter(importer_id__in=list(importer_ids)),
            importer_field="importer_id",
            order_by=[F("taken_at").desc(), F("pk").desc()],
            limit=1,
        )
    }
    questions = active_questions()
    return {
        importer_id: ReadinessCard(
            check=latest.get(importer_id),
            waiting=[
                question_text(q.key, q.text)
                for q in waiting_on_importer(questions, latest.get(importer_id))
            ],
            can_answer=access.can(user, Perm.ANSWER_READINESS, importer_id),
        )
        for importer_id in importer_ids
    }


# --- Statements and reconciliation reports ------------------------------------------------------


def latest_per_importer(
    queryset: QuerySet, *, importer_field: str, order_by: Sequence[Any], limit: int
) -> QuerySet:
    """The ``limit`` first rows of each importer (one query: a window function, no loop)."""
    return queryset.annotate(
        home_rank=Window(RowNumber(), partition_by=[F(importer_field)], order_by=list(order_by))
    ).filter(home_rank__lte=limit)


def latest_statements(
    importer_ids: Collection[int], *, today: dt.date, limit: int = STATEMENT_ROWS
) -> list[StatementRow]:
    """Each importer's newest statements with what is still owing and the due-date badges."""
    if not importer_ids:
        return []
    statements = latest_per_importer(
        Statement.objects.filter(program_account__importer_id__in=list(importer_ids)),
        importer_field="program_account__importer_id",
        order_by=[F("statement_date").desc(), F("program_account__bn15").asc(), F("pk").desc()],
        limit=limit,
    ).select_related("program_account", "balance")
    # What the card shows, no more (see ``current_reports``).
    statements = statements.only(
        "statement_date",
        "due_date",
        "closing_balance",
        "status",
        "program_account__bn15",
        "program_account__importer",
        "balance__outstanding",
    )
    rows = []
    for statement in statements.order_by("-statement_date", "program_account__bn15", "-pk"):
        # What is still owing once our payments count, kept by the payments app; until it has
        # been worked out, the statement's own balance and status say whether money is due.
        balance = getattr(statement, "balance", None)
        owing = balance.outstanding if balance is not None else None
        if owing is not None:
            unpaid = owing > 0
        else:
            unpaid = statement.status != Statement.Status.PAID and statement.closing_balance > 0
        rows.append(
            StatementRow(
                statement=statement,
                owing=owing,
                overdue=unpaid and is_overdue(statement.due_date, today=today),
                due_soon=unpaid and is_due_soon(statement.due_date, today=today),
            )
        )
    return rows


def open_exceptions() -> Coalesce:
    """Exceptions of a run still waiting for a person (no resolution yet)."""
    counts = (
        unresolved_exceptions(ReconciliationItem.objects.filter(run=OuterRef("pk")))
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


class ReportAnnotations(TypedDict):
    """What ``current_reports`` annotates on each run."""

    importer_id: int
    open_exceptions: int


def current_reports(
    importer_ids: Collection[int], *, limit: int = REPORT_ROWS
) -> list[WithAnnotations[ReconciliationRun, ReportAnnotations]]:
    """Each importer's current reconciliation runs, newest statement first, with open exceptions."""
    if not importer_ids:
        return []
    runs = latest_per_importer(
        ReconciliationRun.objects.filter(
            is_current=True, statement__program_account__importer_id__in=list(importer_ids)
        ),
        importer_field="statement__program_account__importer_id",
        order_by=[F("statement__statement_date").desc(), F("pk").desc()],
        limit=limit,
    )
    return list(
        runs.annotate(
            importer_id=F("statement__program_account__importer_id"),
            open_exceptions=open_exceptions(),
        )
        .select_related("statement__program_account")
        # What the card shows, no more: Django lists each column twice around the window
        # function, and building the SQL of the three tables' every column took most of the
        # query's CPU (the card reads no other field).
        .only("statement__statement_date", "statement__program_account__bn15")
        .order_by("-statement__statement_date", "-pk")
    )
