"""The daily compliance check: correction deadlines and late accounting, recorded as alerts.

Idempotent like the other daily checks (``carm_portal.alerts.record_alerts``): each finding has a
key naming the thing and the occasion, so a second run on the same day records nothing new.

* **Corrections**: an open correction raises one alert when 30, 14 and 7 days are left and one
  when it is overdue; each stage is its own key (``correction:<id>:30``), so each is raised once
  and the previous stage resolves when the next one begins. A filed or closed correction resolves
  its alert.
* **Late accounting**: one alert per importer and month of accounting, over the last
  ``LATE_WINDOW_DAYS``, with the number of CADs accounted late; it is raised once per month
  (the count it carries is the count when first raised).
* **Retention**: one alert per importer while it has documents past retention and not on hold;
  it resolves once an administrator has purged them (or placed them on hold).
* **Training refreshers**: one alert per person, course and lapse date, from 30 days before a
  training lapses; a refresher recorded later changes the lapse date, so the alert resolves and
  the next cycle gets its own key.
* **Readiness follow-ups**: an open follow-up (``readiness_queries.open_gaps``) raises one alert
  from ``FOLLOWUP_NOTICE_DAYS`` before its due date and one once it is overdue (keys
  ``followup:<id>:due`` and ``followup:<id>:overdue``); its owner is told of each through
  ``carm_portal.notifications`` (keyed like the alert, so a rerun tells nobody twice). Completing
  the follow-up, or a new check superseding it, resolves its alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from carm_portal import stored_text as later
from carm_portal.alerts import record_alerts
from carm_portal.locks import advisory_xact_lock
from carm_portal.notification_models import Kind as NotificationKind
from carm_portal.notifications import notify
from carm_portal.severity import Severity
from services.compliance.documents import expired
from services.compliance.late_accounting import first_versions, is_late_q
from services.compliance.readiness_queries import open_gaps, overdue_q
from services.compliance.training import refresh_findings
from services.models import ComplianceAlert, Correction

COMPLIANCE_LOCK_ID = 0x0CA4_C0A1
STAGES = (7, 14, 30)  # days left at which an open correction is flagged (most urgent first)
LATE_WINDOW_DAYS = 62  # late accounting is reported for the current and previous month
FOLLOWUP_NOTICE_DAYS = 7  # a readiness follow-up is flagged this many days before it is due

Kind = ComplianceAlert.Kind


@dataclass(frozen=True)
class Finding:
    importer_id: int
    key: str
    kind: str
    severity: str
    parts: dict
    deadline: dt.date | None = None
    count: int | None = None
    correction_id: int | None = None
    notify_user_id: int | None = None  # told when the alert is raised (not a column)


class ComplianceAlertRow(NamedTuple):
    correction_id: int | None
    kind: str
    severity: str
    message: str
    message_parts: str | None
    deadline: dt.date | None
    entry_count: int | None


def alert_row(f: Finding) -> ComplianceAlertRow:
    return ComplianceAlertRow(
        correction_id=f.correction_id,
        kind=f.kind,
        severity=f.severity,
        message=later.render_stored(f.parts),
        message_parts=later.dumps(f.parts),
        deadline=f.deadline,
        entry_count=f.count,
    )


@dataclass
class CheckResult:
    today: dt.date
    findings: int = 0
    raised: int = 0
    reopened: int = 0
    resolved: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return _(
            "%(today)s: compliance: %(findings)d findings, %(raised)d new alerts, "
            "%(reopened)d reopened, %(resolved)d resolved."
        ) % {
            "today": self.today.isoformat(),
            "findings": self.findings,
            "raised": self.raised,
            "reopened": self.reopened,
            "resolved": self.resolved,
        }


def stage(days_left: int) -> str | None:
    """``"overdue"``, the tightest of 7/14/30 days that applies, or None (more than 30 left)."""
    if days_left < 0:
        return "overdue"
    for limit in STAGES:
        if days_left <= limit:
            return str(limit)
    return None


def correction_findings(*, today: dt.date) -> list[Finding]:
    findings = []
    horizon = today + dt.timedelta(days=max(STAGES))
    rows = Correction.objects.filter(
        status=Correction.Status.OPEN, deadline__lte=horizon
    ).values_list("pk", "importer_id", "transaction_number", "deadline")
    for pk, importer_id, number, deadline in rows:
        left = (deadline - today).days
        current = stage(left)
        if current is None:
            continue
        if current == "overdue":
            parts = later.gettext(
                "The correction of CAD %(number)s was due on %(day)s.",
                {"number": number, "day": later.date(deadline)},
            )
            kind, severity = Kind.CORRECTION_OVERDUE, Severity.BLOCKING
        else:
            parts = later.ngettext(
                "The correction of CAD %(number)s is due in %(n)d day, on %(day)s.",
                "The correction of CAD %(number)s is due in %(n)d days, on %(day)s.",
                left,
                {"number": number, "n": left, "day": later.date(deadline)},
            )
            kind = Kind.CORRECTION_DUE
            severity = Severity.WARNING if left <= 14 else Severity.ADVICE
        findings.append(
            Finding(
                importer_id=importer_id,
                key=f"correction:{pk}:{current}",
                kind=kind,
                severity=severity,
                parts=parts,
                deadline=deadline,
                correction_id=pk,
            )
        )
    return findings


def late_accounting_findings(*, today: dt.date) -> list[Finding]:
    entries = first_versions(since=today - dt.timedelta(days=LATE_WINDOW_DAYS)).filter(
        accounted_on__lte=today
    )
    rows = (
        entries.filter(is_late_q(entries))
        .order_by()
        .annotate(month=TruncMonth("accounted_on"))
        .values("program_account__importer", "month")
        .annotate(n=Count("pk"))
    )
    findings = []
    for row in rows:
        month = row["month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        findings.append(
            Finding(
                importer_id=row["program_account__importer"],
                key=f"late:{month:%Y-%m}",
                kind=Kind.LATE_ACCOUNTING,
                severity=Severity.WARNING,
                parts=later.ngettext(
                    "%(n)d CAD accounted in %(month)s was accounted after its due date.",
                    "%(n)d CADs accounted in %(month)s were accounted after their due date.",
                    row["n"],
                    {"n": row["n"], "month": f"{month:%Y-%m}"},
                ),
                count=row["n"],
            )
        )
    return findings


def retention_findings(*, today: dt.date) -> list[Finding]:
    """One alert per importer with documents past retention (not on hold): the list an admin
    reviews before confirming a purge. Nothing is purged here."""
    rows = (
        expired(today=today)
        .order_by()
        .values("importer")
        .annotate(n=Count("pk"))
        .values_list("importer", "n")
    )
    return [
        Finding(
            importer_id=importer_id,
            key="retention:expired",
            kind=Kind.RETENTION_EXPIRED,
            severity=Severity.ADVICE,
            parts=later.ngettext(
                "%(n)d document is past its retention date and may be purged.",
                "%(n)d documents are past their retention date and may be purged.",
                n,
                {"n": n},
            ),
            count=n,
        )
        for importer_id, n in rows
    ]


def training_findings(*, today: dt.date) -> list[Finding]:
    return [
        Finding(
            importer_id=importer_id,
            key=key,
            kind=Kind.TRAINING_REFRESH,
            severity=severity,
            parts=parts,
            deadline=lapses,
        )
        for importer_id, key, severity, parts, lapses in refresh_findings(today=today)
    ]


def followup_findings(*, today: dt.date) -> list[Finding]:
    """Open follow-ups due within ``FOLLOWUP_NOTICE_DAYS`` (on time) or past their due date."""
    horizon = today + dt.timedelta(days=FOLLOWUP_NOTICE_DAYS)
    rows = (
        open_gaps()
        .filter(due_on__lte=horizon)
        .annotate(late=ExpressionWrapper(overdue_q(today), output_field=BooleanField()))
        .values_list(
            "pk", "importer_id", "importer__legal_name", "text", "due_on", "owner_id", "late"
        )
    )
    findings = []
    for pk, importer_id, name, text, due_on, owner_id, late in rows:
        args = {"importer": name, "question": later.gettext(text), "day": later.date(due_on)}
        if late:
            parts = later.gettext(
                "The readiness follow-up of %(importer)s, “%(question)s”, was due on %(day)s.",
                args,
            )
            kind, severity, occasion = Kind.FOLLOWUP_OVERDUE, Severity.WARNING, "overdue"
        else:
            parts = later.gettext(
                "The readiness follow-up of %(importer)s, “%(question)s”, is due on %(day)s.",
                args,
            )
            kind, severity, occasion = Kind.FOLLOWUP_DUE, Severity.ADVICE, "due"
        findings.append(
            Finding(
                importer_id=importer_id,
                key=f"followup:{pk}:{occasion}",
                kind=kind,
                severity=severity,
                parts=parts,
                deadline=due_on,
                notify_user_id=owner_id,
            )
        )
    return findings


def notify_owners(findings: list[Finding], raised: set[tuple[int, str]]) -> None:
    """Tell each owner of a newly raised (or reopened) follow-up alert, once per alert key."""
    for f in findings:
        if f.notify_user_id is None or (f.importer_id, f.key) not in raised:
            continue
        notify(
            kind=NotificationKind.READINESS_FOLLOWUP,
            recipients=[f.notify_user_id],
            key=f.key,
            text=f.parts,
            url=reverse("compliance:readiness_followups"),
        )


@transaction.atomic
def run_compliance_checks(*, today: dt.date) -> CheckResult:
    """Record today's compliance findings; a second run the same day records nothing new."""
    advisory_xact_lock(COMPLIANCE_LOCK_ID)
    result = CheckResult(today=today)
    findings = (
        correction_findings(today=today)
        + late_accounting_findings(today=today)
        + retention_findings(today=today)
        + training_findings(today=today)
        + followup_findings(today=today)
    )
    wanted = {(f.importer_id, f.key): f for f in findings}
    result.findings = len(wanted)
    for f in wanted.values():
        result.by_kind[f.kind] = result.by_kind.get(f.kind, 0) + 1
    # Late-accounting alerts of months that have left the window stay as they are (a record of
    # the month), so only the corrections' alerts and the window's months are in scope.
    window_keys = {
        f"late:{(today - dt.timedelta(days=d)):%Y-%m}" for d in range(0, LATE_WINDOW_DAYS + 1)
    }
    existing = ComplianceAlert.objects.filter(
        kind__in=[
            Kind.CORRECTION_DUE,
            Kind.CORRECTION_OVERDUE,
            Kind.RETENTION_EXPIRED,
            Kind.TRAINING_REFRESH,
            Kind.FOLLOWUP_DUE,
            Kind.FOLLOWUP_OVERDUE,
        ]
    ) | ComplianceAlert.objects.filter(kind=Kind.LATE_ACCOUNTING, key__in=sorted(window_keys))
    now = timezone.now()
    recorded = record_alerts(
        model=ComplianceAlert,
        existing=existing,
        wanted=wanted,
        row_type=ComplianceAlertRow,
        row=alert_row,
        today=today,
        now=now,
    )
    fresh = ComplianceAlert.objects.filter(
        Q(raised_at=now) | Q(pk__in=recorded.reopened),
        kind__in=[Kind.FOLLOWUP_DUE, Kind.FOLLOWUP_OVERDUE],
    ).values_list("importer_id", "key")
    notify_owners(list(wanted.values()), set(fresh))
    result.raised, result.resolved = recorded.raised, recorded.resolved
    result.reopened = len(recorded.reopened)
    return result
