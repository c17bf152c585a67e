"""Statements of account (what CBSA charged), the broker's own entries (what it declared) and the
import batches both arrive in.

Models hold fields, constraints and small properties. The billing calendar lives in
``statements/billing.py``, reading files in ``statements/importing/``, the page queries in
``statements/selectors.py``.

Length: the models of one app (statements, lines, entries, batches, runs, items) and the notes
on why the bulk tables have no database foreign keys; Django wants them importable from one module.

BULK_FK_NOTE: the tables that take a million rows at a time (statement lines, broker entries,
reconciliation items) have their foreign keys without a database constraint
(``db_constraint=False``). PostgreSQL checks a foreign key row by row, which made it most of an
import's time; the code that writes those rows creates or checks their parents set-wise in the same
transaction (``statements/importing/``, ``statements/reconciliation/engine.py``), and Django
still applies ``on_delete`` when a parent is deleted through the ORM.

Money is ``DecimalField(14, 2)`` in Canadian dollars. A component left blank in a file is stored as
0, so sums and comparisons never meet a NULL.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal.dates import business_date
from carm_portal.reversing import reverse
from clients.models import ProgramAccount
from statements import due

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carm_portal.models import User

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

COMPONENT_LABELS: dict[str, StrOrPromise] = {
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


def money(verbose_name: StrOrPromise, **kwargs: Any) -> models.DecimalField:
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
        help_text=_(
            "An accepted statement file is kept (the importer's record); any other file only "
            "until the import has run."
        ),
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
    # When the job's message last reached the broker (carm_portal/dispatch.py); empty while the
    # broker could not be reached: statements/redispatch.py sends it again.
    dispatched_at = models.DateTimeField(_("sent to a worker at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # An accepted statement file is filed as its importers' records after the import, as a job of
    # its own (statements/importing/received.py): when its message was sent (or the worker took it
    # on), and when it was done. Accepted, stored and not filed: the re-dispatch job sends it again.
    filing_sent_at = models.DateTimeField(_("filing sent at"), null=True, blank=True)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)

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
    statement_date = models.DateField(_("statement date"), validators=[business_date])
    period_start = models.DateField(_("billing period start"), validators=[business_date])
    period_end = models.DateField(_("billing period end"), validators=[business_date])
    due_date = models.DateField(_("payment due date"), validators=[business_date])
    opening_balance = money(_("opening balance"), default=0)
    closing_balance = money(_("closing balance"), default=0)  # the opening balance + the lines
    # What CBSA's statement itself says it closes at (the file's CLOSING_BALANCE row), or None
    # when the file did not say: the balance check compares it with ``closing_balance``.
    stated_closing_balance = money(
        _("stated closing balance"),
        null=True,
        blank=True,
        help_text=_("The closing balance the statement states (its CLOSING_BALANCE row)."),
    )
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    # Whether the balance check (statements/balance.py) finds a difference: kept by whoever writes
    # statements (``balance.refresh_differs``: the import, and a save or deletion of one), since a
    # statement's check changes only when its account's statements do. The worklist lists the
    # differing ones off a partial index instead of checking every statement of the portfolio on
    # each request (52,623 at the benchmark's size: half the worklist's time).
    balance_differs = models.BooleanField(
        _("balance differs"), default=False, db_default=False, editable=False
    )
    # When the statement's current run (the latest that succeeded) finished; None while it has
    # none. Kept by ``reconciliation.outcome.finish_runs``, in the transaction that moves the
    # run's ``is_current``: the Today view counts the statements never reconciled and those
    # reconciled since yesterday over the whole portfolio, which was a join of every statement
    # with every current run on each request (52,623 of each at the benchmark's size).
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, editable=False)
    # When that run started: entries accepted after it may be missing from its comparison, so
    # the statement is pending again (``pending_statements``), read without the run.
    reconciled_from = models.DateTimeField(_("reconciled from"), null=True, editable=False)
    # Whether a reconciliation should (re)visit it (the rule: ``reconciliation.selectors.
    # pending_q``), kept by ``reconciliation.pending.refresh_pending`` when a run becomes current
    # and when an entries file brings entries of its account: the list of statements to
    # reconcile and the Today count read a partial index instead of testing every statement.
    reconciliation_pending = models.BooleanField(
        _("reconciliation pending"), default=True, db_default=True, editable=False
    )
    source_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("source batch"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Derived, kept apart.
    history = HistoricalRecords(
        excluded_fields=[
            "balance_differs",
            "reconciled_at",
            "reconciled_from",
            "reconciliation_pending",
        ]
    )
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

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
            models.Index(
                fields=["statement_date", "id"],
                name="statement_balance_differs_idx",
                condition=models.Q(balance_differs=True),
            ),
            # Pending a reconciliation (a few, once the nightly runs have caught up).
            models.Index(
                fields=["program_account", "id"],
                name="statement_pending_idx",
                condition=models.Q(reconciliation_pending=True),
            ),
            models.Index(fields=["reconciled_at"], name="statement_reconciled_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.program_account.bn15} · {self.statement_date.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse("statements:detail", args=[self.pk])

    @property
    def period_label(self) -> str:
        return f"{self.period_start.isoformat()} – {self.period_end.isoformat()}"

    @property
    def is_unpaid(self) -> bool:
        return self.status != self.Status.PAID and self.closing_balance > 0

    def is_overdue(self, today: dt.date) -> bool:
        return self.is_unpaid and due.is_overdue(self.due_date, today=today)

    def is_due_soon(self, today: dt.date, days: int | None = None) -> bool:
        return self.is_unpaid and due.is_due_soon(self.due_date, today=today, days=days)


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
        # No database FK (see BULK_FK_NOTE): the importer creates the statement and its lines in
        # one transaction, and PostgreSQL's per-row FK check was most of the import's time.
        db_constraint=False,
    )
    position = models.PositiveIntegerField(
        _("row in the file"), help_text=_("As a spreadsheet shows it; the header is row 1.")
    )
    line_type = models.CharField(_("line type"), max_length=16, choices=LineType.choices)
    transaction_number = models.CharField(_("transaction number"), max_length=14, blank=True)
    posted_on = models.DateField(_("posted on"), validators=[business_date])
    reference = models.CharField(_("reference"), max_length=64, blank=True)

    class Meta:
        ordering = ["statement_id", "position"]
        verbose_name = _("statement line")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "position"], name="one_line_per_statement_position"
            ),
        ]
        # No index on transaction_number: every query that looks a line up by it also names the
        # statement (reconciliation, receivers), which the unique index above finds; an index of
        # its own cost a third of the server's time storing an imported file (``make bench``).

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
        db_constraint=False,  # see BULK_FK_NOTE: the importer checks every BN15 set-wise first
    )
    transaction_number = models.CharField(_("transaction number"), max_length=14)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    release_date = models.DateField(_("release date"), validators=[business_date])
    accounted_on = models.DateField(
        _("accounted on"),
        help_text=_("Decides the billing period the entry belongs to."),
        validators=[business_date],
    )
    client_reference = models.CharField(_("client reference"), max_length=64, blank=True)
    source_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("source batch"),
        db_index=False,
        db_constraint=False,  # see BULK_FK_NOTE
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


class EntriesReceived(models.Model):
    """When an accepted entries file last brought a new entry of a program account.

    A statement whose current run started before it waits for a new run
    (``reconciliation.selectors.pending_statements``). The entries import keeps it
    (``statements.entries_received``), so that test is one join per statement rather than a
    search of the account's entries and their files (a million entries at the benchmark's size).
    """

    program_account = models.OneToOneField(
        ProgramAccount,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="entries_received",
        verbose_name=_("program account"),
    )
    at = models.DateTimeField(_("last new entries accepted at"))

    class Meta:
        verbose_name = _("entries received")
        verbose_name_plural = _("entries received")

    def __str__(self) -> str:
        return f"{self.program_account_id}: {self.at:%Y-%m-%d %H:%M}"


class ReconciliationRun(models.Model):
    """One comparison of a statement with the broker's entries: a snapshot, never edited afterwards
    except for its progress while it runs and the PDF rendered from it.

    A statement has at most one *current* run (the latest that succeeded); the pages, the worklist
    and the reports read that one. A run that fails or is killed never becomes current, so the
    previous result stays on screen until a later run completes.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        PAGE = "page", _("Started from the statement page")
        IMPORT = "import", _("After an import")
        COMMAND = "command", _("From the command line")
        API = "api", _("From the API")

    class PdfStatus(models.TextChoices):
        NONE = "", _("Not rendered")
        QUEUED = "queued", _("Queued")
        RENDERING = "rendering", _("Rendering")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    statement = models.ForeignKey(
        Statement,
        on_delete=models.CASCADE,
        related_name="reconciliation_runs",
        verbose_name=_("statement"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(
        _("started"), max_length=10, choices=Trigger.choices, default=Trigger.PAGE
    )
    is_current = models.BooleanField(
        _("current"), default=False, help_text=_("The latest run that succeeded.")
    )
    tolerance = money(_("tolerance"), default=0)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    # Progress, written while the run works (from a side connection on PostgreSQL).
    phase = models.CharField(_("phase"), max_length=60, blank=True)
    percent = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    # The outcome: counts and totals by status code, e.g. {"matched": {"count": 3, "amount": "1.00"}}.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    item_count = models.PositiveIntegerField(_("items"), default=0)
    exception_count = models.PositiveIntegerField(_("exceptions"), default=0)
    line_total = money(_("total of the statement lines"), default=0)
    computed_closing = money(_("opening balance + lines"), default=0)
    balance_difference = money(_("closing balance − (opening + lines)"), default=0)
    balance_ok = models.BooleanField(_("balance checks out"), default=False)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # When the run's message last reached the broker (carm_portal/dispatch.py); empty while the
    # broker could not be reached: statements/redispatch.py sends it again.
    dispatched_at = models.DateTimeField(_("sent to a worker at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The PDF report, rendered by a worker for large runs and downloaded when ready.
    pdf_status = models.CharField(
        _("PDF"), max_length=10, choices=PdfStatus.choices, default=PdfStatus.NONE, blank=True
    )
    pdf_file = models.FileField(_("PDF file"), upload_to="reconciliation/%Y/%m/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered at"), null=True, blank=True)
    # When the PDF was last asked for, and when that render's message reached the broker (empty
    # while it could not be reached: statements/redispatch.py sends it again).
    pdf_requested_at = models.DateTimeField(_("PDF requested at"), null=True, blank=True)
    pdf_dispatched_at = models.DateTimeField(_("PDF sent to a worker at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reconciliation run")
        constraints = [
            models.UniqueConstraint(
                fields=["statement"],
                condition=models.Q(is_current=True),
                name="one_current_run_per_statement",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The current runs alone (one per reconciled statement, against every run kept), read
            # from the index: the open exceptions join their items to these, the pending test
            # compares their start with the latest entries, Today counts those finished lately.
            models.Index(
                fields=["id"],
                include=["statement", "started_at"],
                condition=models.Q(is_current=True),
                name="reconrun_current_idx",
            ),
            models.Index(
                fields=["finished_at", "statement"],
                condition=models.Q(is_current=True),
                name="reconrun_current_finished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} of statement {self.statement_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("statements:reconciliation", args=[self.statement_id, self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class ReconciliationItem(models.Model):
    """One finding of a run, linked to the statement line and/or the entry it came from.

    Non-matched items are exceptions a person works: assigns, comments on, resolves. A rerun
    carries ``resolution``, ``note``, ``assigned_to``, ``resolved_*`` and ``first_seen_at`` over from
    the previous run's item with the same ``key``, status and ``difference``; an item whose
    difference changed starts open again.
    """

    class Code(models.TextChoices):
        """The status codes of ``docs/formats.md`` (the CSV export writes the codes)."""

        MATCHED = "matched", _("Matched")
        MATCHED_WITHIN_TOLERANCE = "matched_within_tolerance", _("Matched within tolerance")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
        MISSING_ON_STATEMENT = "missing_on_statement", _("Missing on statement")
        OTHER_BROKER = "other_broker", _("Filed by another broker")
        UNEXPECTED_ON_STATEMENT = "unexpected_on_statement", _("Unexpected on statement")
        DUPLICATE = "duplicate", _("Duplicate")
        POSTED_BY_CBSA = "posted_by_cbsa", _("Posted by CBSA")
        BALANCE_DIFFERENCE = "balance_difference", _("Balance does not agree")

    MATCHED_CODES = (Code.MATCHED, Code.MATCHED_WITHIN_TOLERANCE)

    class Resolution(models.TextChoices):
        OPEN = "", _("Open")
        EXPLAINED = "explained", _("Explained")
        CORRECTION_REQUESTED = "correction_requested", _("Correction requested (CAD to file)")
        FOLLOWED_UP = "followed_up", _("Followed up with CBSA")
        WRITTEN_OFF = "written_off", _("Written off")

    run = models.ForeignKey(
        ReconciliationRun,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,  # the unique (run, position) index serves it
        # No database FK (see BULK_FK_NOTE): a run writes its items in the transaction that
        # created or claimed the run, and the per-row check cost a tenth of a million-item run.
        db_constraint=False,
    )
    # Denormalised from the run so the portfolio worklist filters without joins.
    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    importer = models.ForeignKey(
        "clients.Importer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    position = models.PositiveIntegerField(_("order"), help_text=_("Deterministic report order."))
    status = models.CharField(_("status"), max_length=24, choices=Code.choices)
    is_exception = models.BooleanField(_("needs a person"), default=False)
    flagged = models.BooleanField(
        _("flagged"), default=False, help_text=_("Interest and penalties posted by CBSA.")
    )
    key = models.CharField(
        _("key"),
        max_length=80,
        help_text=_("Identifies the same finding across runs (transaction number or line)."),
    )
    transaction_number = models.CharField(_("transaction number"), max_length=14, blank=True)
    line_type = models.CharField(_("line type"), max_length=16, blank=True)
    statement_line = models.ForeignKey(
        StatementLine,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    entry = models.ForeignKey(
        BrokerEntry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    entry_version = models.PositiveSmallIntegerField(_("entry version"), null=True, blank=True)
    statement_amount = money(_("statement amount"), null=True, blank=True)
    entry_amount = money(_("entry amount"), null=True, blank=True)
    difference = money(_("difference"), default=0, help_text=_("Statement minus entry."))
    components_differing = models.JSONField(
        _("components differing"),
        default=dict,
        blank=True,
        help_text=_('{component: {"statement": "1.00", "entry": "0.99", "difference": "0.01"}}'),
    )
    # The exceptions workflow.
    resolution = models.CharField(
        _("resolution"), max_length=24, choices=Resolution.choices, blank=True, default=""
    )
    note = models.TextField(_("note"), blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index (Meta): most items are never assigned
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index (Meta): matched items are never resolved by anyone
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    reopened = models.BooleanField(
        _("reopened"),
        default=False,
        help_text=_("Resolved on an earlier run, but the difference has changed since."),
    )
    # An exception of a run that is no longer its statement's current one (a newer run replaced
    # it; ``outcome.finish_runs`` sets it in the same transaction as it moves ``is_current``).
    # Kept on exceptions only: matched items are never listed as open, and flagging a replaced
    # run's million matched items would double the cost of re-running a large statement. The
    # open exceptions are then read off their partial indexes without joining every current run
    # (52,623 of them at the benchmark's size: a third of the Today page's longest query).
    superseded = models.BooleanField(_("superseded"), default=False, db_default=False)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    # Not a column: set on the items of a report (statements/reports.py) for its templates.
    components_text: str

    class Meta:
        ordering = ["run_id", "position"]
        verbose_name = _("reconciliation item")
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="one_item_per_run_position"),
        ]
        indexes = [
            models.Index(fields=["run", "key"], name="reconitem_run_key_idx"),
            # Partial: a run writes a million items at a time, nearly all unassigned and
            # unresolved, and indexing their NULLs was a quarter of the server's time storing them.
            models.Index(
                fields=["assigned_to"],
                name="reconitem_assigned_idx",
                condition=models.Q(assigned_to__isnull=False),
            ),
            models.Index(
                fields=["resolved_by"],
                name="reconitem_resolved_by_idx",
                condition=models.Q(resolved_by__isnull=False),
            ),
            models.Index(
                fields=["importer", "first_seen_at"],
                name="reconitem_open_exc_idx",
                condition=models.Q(is_exception=True, resolution="", superseded=False),
            ),
            # The worklist's default order, oldest first (or newest, read backwards): the first
            # page is read off the index instead of sorting every open exception (76,000 of
            # them at the benchmark's size spilled the sort to disk). It also carries what the
            # counts and amounts at risk read (by age band, assignee, importer), so the Today view
            # and the worklist's totals never visit the wide item rows: an index-only scan of the
            # 41,000 open exceptions instead of 4,700 heap pages (half their time).
            models.Index(
                fields=["first_seen_at", "id"],
                include=["importer", "assigned_to", "status", "statement_amount", "difference"],
                name="reconitem_open_age_cover_idx",
                condition=models.Q(is_exception=True, resolution="", superseded=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} · {self.key}"

    @property
    def is_open(self) -> bool:
        return self.is_exception and not self.resolution


class ReconciliationComment(models.Model):
    """A note in the discussion of one finding. Keyed by statement and item key, not by item, so
    the thread follows the finding from run to run."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="reconciliation_comments"
    )
    key = models.CharField(_("key"), max_length=80)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["statement", "key"])]
        verbose_name = _("reconciliation comment")

    def __str__(self) -> str:
        return f"{self.key}: {self.text[:40]}"
