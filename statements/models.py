"""Statements of account (what CBSA charged), the broker's own entries (what it declared) and the
import batches both arrive in.

Models hold fields, constraints and small properties. The billing calendar lives in
``statements/billing.py``, reading files in ``statements/importing.py``, the page queries in
``statements/selectors.py``.

Money is ``DecimalField(14, 2)`` in Canadian dollars. A component left blank in a file is stored as
0, so sums and comparisons never meet a NULL.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clients.models import ProgramAccount

# The amount columns of both files, in file order: the breakdown of a line's (or entry's) amount.
COMPONENTS: tuple[str, ...] = (
    "customs_duties",
    "excise_duties",
    "excise_taxes",
    "gst",
    "anti_dumping",
    "countervailing",
    "surtaxes",
    "safeguards",
    "provincial_taxes",
    "interest",
    "other",
)

COMPONENT_LABELS: dict[str, str] = {
    "customs_duties": _("Customs duties"),
    "excise_duties": _("Excise duties"),
    "excise_taxes": _("Excise taxes"),
    "gst": _("GST"),
    "anti_dumping": _("Anti-dumping duties (SIMA)"),
    "countervailing": _("Countervailing duties (SIMA)"),
    "surtaxes": _("Surtaxes"),
    "safeguards": _("Safeguard duties"),
    "provincial_taxes": _("Provincial taxes"),
    "interest": _("Interest"),
    "other": _("Other"),
}


def money(verbose_name: str, **kwargs: object) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class Components(models.Model):
    """The eleven amount columns shared by statement lines and broker entries."""

    customs_duties = money(COMPONENT_LABELS["customs_duties"], default=0)
    excise_duties = money(COMPONENT_LABELS["excise_duties"], default=0)
    excise_taxes = money(COMPONENT_LABELS["excise_taxes"], default=0)
    gst = money(COMPONENT_LABELS["gst"], default=0)
    anti_dumping = money(COMPONENT_LABELS["anti_dumping"], default=0)
    countervailing = money(COMPONENT_LABELS["countervailing"], default=0)
    surtaxes = money(COMPONENT_LABELS["surtaxes"], default=0)
    safeguards = money(COMPONENT_LABELS["safeguards"], default=0)
    provincial_taxes = money(COMPONENT_LABELS["provincial_taxes"], default=0)
    interest = money(COMPONENT_LABELS["interest"], default=0)
    other = money(COMPONENT_LABELS["other"], default=0)
    amount = money(_("amount"))

    class Meta:
        abstract = True


class ImportBatch(models.Model):
    """One file handed to an importer: what it was, who sent it, and what became of it.

    A refused file leaves only this row (with its errors). While a batch is queued, running or
    accepted, no other batch of the same kind may hold the same SHA-256: that is what makes a second
    import of the same file change nothing, even when both arrive at once.
    """

    class Kind(models.TextChoices):
        STATEMENT = "statement", _("Statement of account lines")
        ENTRIES = "entries", _("Broker entries")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    LIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.ACCEPTED)

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    source_file = models.FileField(
        _("stored upload"),
        upload_to="imports/%Y/%m/",
        blank=True,
        help_text=_("Kept only until the import has run."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # Progress, written while the import runs (on PostgreSQL, from a side connection so the page
    # sees it before the import's own transaction commits).
    phase = models.CharField(_("phase"), max_length=40, blank=True)
    bytes_read = models.BigIntegerField(_("bytes read"), default=0)
    row_count = models.PositiveIntegerField(_("rows read"), default=0)
    # The outcome.
    statement_count = models.PositiveIntegerField(_("statements created"), default=0)
    line_count = models.PositiveIntegerField(_("statement lines created"), default=0)
    entry_count = models.PositiveIntegerField(_("entries created"), default=0)
    skipped_count = models.PositiveIntegerField(
        _("rows already imported (skipped)"),
        default=0,
        help_text=_("Entries identical to ones an earlier file brought."),
    )
    account_count = models.PositiveIntegerField(_("program accounts"), default=0)
    error_count = models.PositiveIntegerField(_("bad rows"), default=0)
    errors = models.JSONField(
        _("errors"),
        default=list,
        blank=True,
        help_text=_("Up to STATEMENTS_IMPORT_MAX_ERRORS of {row, column, value, reason}."),
    )
    unknown_accounts = models.JSONField(_("unknown program accounts"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    message = models.TextField(_("summary"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "sha256"],
                condition=models.Q(status__in=["queued", "running", "accepted"]),
                name="one_live_batch_per_file",
            ),
        ]
        indexes = [models.Index(fields=["sha256"]), models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} · {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("statements:batch_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.ACCEPTED, self.Status.REFUSED)

    @property
    def percent(self) -> int:
        """How far through the file the import has read, 0 to 100."""
        if self.is_finished:
            return 100
        if not self.size:
            return 0
        return max(0, min(99, (100 * self.bytes_read) // self.size))

    @property
    def hidden_error_count(self) -> int:
        """Bad rows beyond the ones listed."""
        return max(0, self.error_count - len(self.errors))


class Statement(models.Model):
    """One statement of account (SOA): one BN15, one issue date, one billing period."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RECONCILED = "reconciled", _("Reconciled")
        PAID = "paid", _("Paid")

    program_account = models.ForeignKey(
        ProgramAccount,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("program account"),
        db_index=False,  # the unique (program_account, statement_date) index serves it
    )
    statement_date = models.DateField(_("statement date"))
    period_start = models.DateField(_("billing period start"))
    period_end = models.DateField(_("billing period end"))
    due_date = models.DateField(_("payment due date"))
    opening_balance = money(_("opening balance"), default=0)
    closing_balance = money(_("closing balance"), default=0)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    source_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("source batch"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-statement_date", "program_account_id", "id"]
        verbose_name = _("statement of account")
        verbose_name_plural = _("statements of account")
        constraints = [
            models.UniqueConstraint(
                fields=["program_account", "statement_date"],
                name="one_statement_per_account_and_date",
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")),
                name="statement_period_in_order",
            ),
        ]
        indexes = [
            models.Index(fields=["statement_date", "status"]),
            models.Index(fields=["due_date", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.program_account.bn15} · {self.statement_date.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse("statements:detail", args=[self.pk])

    @property
    def period_label(self) -> str:
        return f"{self.period_start.isoformat()} – {self.period_end.isoformat()}"

    def is_overdue(self, today: dt.date) -> bool:
        return (
            self.status != self.Status.PAID and self.closing_balance > 0 and self.due_date < today
        )

    def is_due_soon(self, today: dt.date, days: int) -> bool:
        return (
            self.status != self.Status.PAID
            and self.closing_balance > 0
            and today <= self.due_date <= today + dt.timedelta(days=days)
        )


class StatementLine(Components):
    """One row of a statement file, kept even when identical to another (two real charges)."""

    class LineType(models.TextChoices):
        CAD = "CAD", _("CAD")
        ADJUSTMENT = "ADJUSTMENT", _("Adjustment")
        INTEREST = "INTEREST", _("Interest")
        PENALTY = "PENALTY", _("Penalty")
        PAYMENT = "PAYMENT", _("Payment")
        CREDIT = "CREDIT", _("Credit")
        MISC = "MISC", _("Miscellaneous charge")
        OPENING_BALANCE = "OPENING_BALANCE", _("Opening balance")

    statement = models.ForeignKey(
        Statement,
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,  # the unique (statement, position) index serves it
    )
    position = models.PositiveIntegerField(
        _("row in the file"), help_text=_("As a spreadsheet shows it; the header is row 1.")
    )
    line_type = models.CharField(_("line type"), max_length=16, choices=LineType.choices)
    transaction_number = models.CharField(_("transaction number"), max_length=14, blank=True)
    posted_on = models.DateField(_("posted on"))
    reference = models.CharField(_("reference"), max_length=64, blank=True)

    class Meta:
        ordering = ["statement_id", "position"]
        verbose_name = _("statement line")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "position"], name="one_line_per_statement_position"
            ),
        ]
        indexes = [
            models.Index(
                fields=["transaction_number"],
                name="stmtline_txn_idx",
                condition=~models.Q(transaction_number=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.position} {self.line_type} {self.amount}"


class BrokerEntry(Components):
    """One version of a CAD as the broker declared it (the broker's side of reconciliation)."""

    program_account = models.ForeignKey(
        ProgramAccount,
        on_delete=models.PROTECT,
        related_name="broker_entries",
        verbose_name=_("program account"),
        db_index=False,  # the unique (program_account, transaction_number, version) index serves it
    )
    transaction_number = models.CharField(_("transaction number"), max_length=14)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    release_date = models.DateField(_("release date"))
    accounted_on = models.DateField(
        _("accounted on"), help_text=_("Decides the billing period the entry belongs to.")
    )
    client_reference = models.CharField(_("client reference"), max_length=64, blank=True)
    source_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("source batch"),
        db_index=False,
    )
    position = models.PositiveIntegerField(_("row in the file"), default=0)

    class Meta:
        ordering = ["program_account_id", "transaction_number", "version"]
        verbose_name = _("broker entry")
        verbose_name_plural = _("broker entries")
        constraints = [
            models.UniqueConstraint(
                fields=["program_account", "transaction_number", "version"],
                name="one_entry_per_transaction_version",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="entry_version_from_1"),
        ]
        indexes = [models.Index(fields=["program_account", "accounted_on"])]

    def __str__(self) -> str:
        return f"{self.transaction_number} v{self.version}"
