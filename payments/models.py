"""What importers owe and pay CBSA, the financial security they post, and the alerts about both.

* ``Payment`` — money sent to CBSA for one RM program account (by the importer, or by the broker on
  its behalf), split across statements by ``PaymentAllocation`` rows (``payments/allocation.py``).
  Payments CBSA shows on a statement that nobody recorded here are added with ``source=statement``
  by the daily check, so a statement paid before the portal existed is not shown as owing.
* ``StatementBalance`` — per statement, what it asks for (``billed``) and what our payments cover,
  kept by ``payments/balances.py`` so worklists over 10 million lines a year stay a simple query.
* ``FinancialSecurity`` — a surety bond or cash deposit per RM account (``payments/security.py``
  computes the amount CBSA requires).
* ``InterestRate`` — the dated table the late-payment interest estimate reads
  (``payments/interest.py``).
* ``BankAccount`` — a pre-authorized debit account, its number encrypted at rest
  (``payments/crypto.py``) and shown in full to the importer's BAM only.
* ``BankAccountReveal`` — each time a full number was shown, to whom and how (the audit that
  ``payments/reveals.py`` writes and emails the importer's other BAMs about).
* ``PaymentAlert`` — one finding of the daily checks, raised once per key (``payments/checks.py``).

Money is ``DecimalField(14, 2)``, Canadian dollars, compared in cents (``carm_portal/money.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from carm_portal import stored_text
from carm_portal.dates import business_date
from carm_portal.reversing import reverse
from carm_portal.severity import Severity
from clients.models import Importer, ProgramAccount
from statements.models import Statement, StatementLine

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from carm_portal.models import User


def money(verbose_name: StrOrPromise, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class InterestRate(models.Model):
    """The annual interest rate CBSA charges on overdue amounts, from a date until the next row.

    CBSA's specified rate is the prescribed rate plus a margin and changes quarterly; a broker admin
    enters each new rate (``GlobalPerm.MANAGE_RATES``).
    """

    effective_from = models.DateField(_("in effect from"), unique=True, validators=[business_date])
    annual_rate = models.DecimalField(
        _("annual rate (%)"),
        max_digits=6,
        decimal_places=3,
        help_text=_("Percent per year, e.g. 9.000 for 9 %."),
    )
    note = models.CharField(_("source or note"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("interest rate")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(annual_rate__gte=0, annual_rate__lte=100),
                name="interest_rate_between_0_and_100",
            )
        ]

    def __str__(self) -> str:
        return f"{self.annual_rate} % from {self.effective_from.isoformat()}"


class BankAccount(models.Model):
    """A bank account an importer pays CBSA from by pre-authorized debit (PAD).

    The account number is stored only as a Fernet token (``account_number_encrypted``); the last
    digits are kept apart for the masked display. Read the number with
    ``payments.reveals.reveal``, which checks ``Perm.VIEW_BANK_ACCOUNT`` and audits the reveal.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("No longer used")

    importer = models.ForeignKey(
        Importer, on_delete=models.CASCADE, related_name="bank_accounts", verbose_name=_("importer")
    )
    label = models.CharField(_("label"), max_length=80, blank=True, help_text=_("e.g. Operating"))
    holder_name = models.CharField(_("account holder"), max_length=150)
    institution_number = models.CharField(_("institution number"), max_length=3)
    transit_number = models.CharField(_("transit (branch) number"), max_length=5)
    account_number_encrypted = models.TextField(_("account number (encrypted)"), editable=False)
    account_last_digits = models.CharField(
        _("last digits of the account number"), max_length=4, editable=False
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    pad_agreement_on = models.DateField(
        _("PAD agreement signed on"), null=True, blank=True, validators=[business_date]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The token is left out of the audit trail: the history shows the last digits changing.
    history = HistoricalRecords(excluded_fields=["account_number_encrypted"])
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    class Meta:
        ordering = ["importer_id", "label", "id"]
        verbose_name = _("bank account (PAD)")
        verbose_name_plural = _("bank accounts (PAD)")

    def __str__(self) -> str:
        return f"{self.label or self.holder_name} {self.masked_number}"

    def get_absolute_url(self) -> str:
        return reverse("payments:bank_account_detail", args=[self.pk])

    @property
    def masked_number(self) -> str:
        return f"•••• {self.account_last_digits}"


class BankAccountReveal(models.Model):
    """One showing of a full bank account number: who, when, how (``payments/reveals.py``).

    Written in the same transaction as the decryption it records, so a number is never shown
    without its row. Rows are never changed or deleted by the portal (no admin change or delete);
    the revealer's address is copied so the row still says who if the account is removed.
    """

    class Channel(models.TextChoices):
        PAGE = "page", _("On the bank account page")
        API = "api", _("Through the API")

    bank_account = models.ForeignKey(
        BankAccount,
        on_delete=models.PROTECT,
        related_name="reveals",
        verbose_name=_("bank account (PAD)"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revealed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user_email = models.EmailField(_("revealed by (address)"))
    revealed_at = models.DateTimeField(_("revealed at"))
    channel = models.CharField(_("how"), max_length=4, choices=Channel.choices)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-revealed_at", "-id"]
        verbose_name = _("bank account number reveal")
        indexes = [models.Index(fields=["bank_account", "-revealed_at"])]

    def __str__(self) -> str:
        return f"{self.bank_account_id} · {self.user_email} · {self.revealed_at.isoformat()}"


class Payment(models.Model):
    """Money sent to CBSA for one RM program account, on a date, by one method."""

    class Method(models.TextChoices):
        ONLINE_BANKING = "online_banking", _("Online banking bill payment")
        DEBIT_CARD = "debit_card", _("Debit card (CCP)")
        CREDIT_CARD = "credit_card", _("Credit card (CCP)")
        PAD = "pad", _("Pre-authorized debit (PAD)")
        EDI_820 = "edi_820", _("EDI 820 through a bank")
        CHEQUE = "cheque", _("Cheque")
        BROKER = "broker", _("Paid by the broker on the importer's behalf")
        UNKNOWN = "unknown", _("Not recorded here (found on a statement)")

    class Status(models.TextChoices):
        PENDING = "pending", _("In transit")
        CLEARED = "cleared", _("Cleared")
        RETURNED = "returned", _("Returned")

    class Source(models.TextChoices):
        RECORDED = "recorded", _("Recorded in the portal")
        STATEMENT = "statement", _("Found on a statement")

    importer = models.ForeignKey(
        Importer, on_delete=models.PROTECT, related_name="payments", verbose_name=_("importer")
    )
    program_account = models.ForeignKey(
        ProgramAccount,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("program account"),
    )
    amount = money(_("amount"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    paid_on = models.DateField(
        _("paid on"),
        help_text=_("The day the money left: electronic payments count until 23:59 Eastern."),
        validators=[business_date],
    )
    reference = models.CharField(
        _("reference"),
        max_length=64,
        blank=True,
        help_text=_("Bank confirmation, cheque number or CCP receipt."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.RECORDED
    )
    statement_line = models.OneToOneField(
        StatementLine,
        verbose_name=_("payment line on the statement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment",
        help_text=_("Where CBSA posted it: set when the payment is found on a statement."),
    )
    bank_account = models.ForeignKey(
        BankAccount,
        verbose_name=_("bank account (PAD)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    returned_on = models.DateField(
        _("returned on"), null=True, blank=True, validators=[business_date]
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    # Not a column: set on the rows of payment lists (payments/selectors.py unapplied()).
    unapplied: Decimal

    class Meta:
        ordering = ["-paid_on", "-id"]
        verbose_name = _("payment")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["program_account", "paid_on"]),
            models.Index(fields=["status", "paid_on"]),
            models.Index(fields=["importer", "paid_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.program_account_id} · {self.amount} · {self.paid_on.isoformat()}"

    def get_absolute_url(self) -> str:
        return reverse("payments:detail", args=[self.pk])

    @property
    def is_broker_paid(self) -> bool:
        return self.method == self.Method.BROKER

    @property
    def counts(self) -> bool:
        """Whether it still pays anything: a returned payment pays nothing."""
        return self.status != self.Status.RETURNED


class PaymentAllocation(models.Model):
    """The part of a payment applied to one statement."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    statement = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        related_name="payment_allocations",
        verbose_name=_("statement"),
    )
    amount = money(_("amount applied"))
    manual = models.BooleanField(
        _("allocated by hand"),
        default=False,
        help_text=_("False: by CBSA's rule, oldest overdue first, then the oldest due."),
    )
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    class Meta:
        ordering = ["payment_id", "statement__due_date", "id"]
        verbose_name = _("payment allocation")
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "statement"], name="one_allocation_per_payment_statement"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="allocation_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["statement"])]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.statement_id}: {self.amount}"


class StatementBalance(models.Model):
    """What one statement asks for and how much of it our payments cover (kept by balances.py).

    ``billed`` is every line of the statement except the opening balance (carried from earlier
    statements, which keep their own balance) and payments; credits and negative adjustments
    reduce it. The account's earliest statement on record also bills its opening balance: what
    was owed before our records begin. ``charges`` is the CAD, adjustment, interest, penalty and miscellaneous lines: the
    month's total owed that the financial security requirement looks at.
    """

    statement = models.OneToOneField(
        Statement, on_delete=models.CASCADE, primary_key=True, related_name="balance"
    )
    # Copies of the statement's importer and due date (written with the amounts, from the
    # statement): the broker's Today view totals what is owed per due date over a whole
    # portfolio, and reading them here spares it a join of every owing statement.
    importer = models.ForeignKey(
        "clients.Importer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    due_date = models.DateField(_("due date"))
    billed = money(_("billed"), default=0)
    charges = money(_("charges"), default=0)
    paid = money(_("paid (cleared)"), default=0)
    in_transit = money(_("paid (in transit)"), default=0)
    outstanding = money(_("outstanding"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("statement balance")
        indexes = [
            models.Index(
                fields=["outstanding"],
                name="stmtbal_owing_idx",
                condition=models.Q(outstanding__gt=0),
            ),
            # The payment worklist's order (oldest due date, then the largest amount): a page is
            # read off the index, and its counts by due date need no other table.
            models.Index(
                fields=["due_date", "-outstanding", "statement"],
                name="stmtbal_owing_due_idx",
                condition=models.Q(outstanding__gt=0),
            ),
            # What is owed per importer and due date (a slice of the portfolio, or all of it).
            models.Index(
                fields=["importer", "due_date"],
                include=["outstanding"],
                name="stmtbal_owing_importer_idx",
                condition=models.Q(outstanding__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.outstanding} of {self.billed}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Fill the statement's copies when a caller saves one row itself (``balances.py``
        writes them in bulk, with the copies)."""
        if self.importer_id is None or self.due_date is None:
            self.importer_id = self.statement.program_account.importer_id
            self.due_date = self.statement.due_date
        super().save(*args, **kwargs)


class FinancialSecurity(models.Model):
    """A surety bond or cash deposit an importer posts with CBSA for release prior to payment."""

    class Kind(models.TextChoices):
        SURETY_BOND = "surety_bond", _("Surety bond")
        CASH_DEPOSIT = "cash_deposit", _("Cash deposit")

    class Status(models.TextChoices):
        PENDING = "pending", _("Submitted, not yet accepted")
        ACTIVE = "active", _("In force")
        CANCELLED = "cancelled", _("Cancelled or released")
        EXPIRED = "expired", _("Expired")

    program_account = models.ForeignKey(
        ProgramAccount,
        on_delete=models.PROTECT,
        related_name="securities",
        verbose_name=_("program account"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    surety_company = models.CharField(_("surety company"), max_length=120, blank=True)
    bond_number = models.CharField(_("bond number"), max_length=40, blank=True)
    amount = money(_("amount"))
    effective_date = models.DateField(
        _("effective date"), null=True, blank=True, validators=[business_date]
    )
    expiry_date = models.DateField(
        _("expiry date"),
        null=True,
        blank=True,
        help_text=_("Blank for a cash deposit or a continuous bond. In force through that day."),
        validators=[business_date],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    # Not columns: set on the rows of the securities page (payments/selectors.security_rows).
    required: Decimal
    account_state: str
    days_left: int | None

    class Meta:
        ordering = ["program_account_id", "-effective_date", "-id"]
        verbose_name = _("financial security")
        verbose_name_plural = _("financial securities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="security_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(effective_date__isnull=True)
                | models.Q(expiry_date__isnull=True)
                | models.Q(expiry_date__gte=models.F("effective_date")),
                name="security_dates_in_order",
            ),
            models.UniqueConstraint(
                fields=["surety_company", "bond_number"],
                condition=~models.Q(bond_number=""),
                name="one_security_per_bond_number",
            ),
        ]
        indexes = [models.Index(fields=["status", "expiry_date"])]

    def __str__(self) -> str:
        if self.kind == self.Kind.SURETY_BOND:
            return f"{self.get_kind_display()} {self.bond_number} · {self.amount}"
        return f"{self.get_kind_display()} · {self.amount}"

    def get_absolute_url(self) -> str:
        return reverse("payments:security_detail", args=[self.pk])

    def in_force(self, day: dt.date) -> bool:
        """Active, started, and not past its expiry date (it covers through the end of that day)."""
        return (
            self.status == self.Status.ACTIVE
            and self.effective_date is not None
            and self.effective_date <= day
            and (self.expiry_date is None or day <= self.expiry_date)
        )


class SecurityReview(models.Model):
    """What CBSA set as an RM account's required security at one annual review (20 October).

    Between two reviews, posted security is checked against this figure, not against the
    trailing 12 months recomputed every day (``payments.rules.sufficiency``). The daily security
    check records the computed figure once per account and year; a figure entered from CBSA's
    notice replaces it and is never overwritten by the check.
    """

    class Source(models.TextChoices):
        COMPUTED = "computed", _("Computed from the statements")
        ENTERED = "entered", _("Entered from CBSA's notice")

    program_account = models.ForeignKey(
        ProgramAccount,
        on_delete=models.PROTECT,
        related_name="security_reviews",
        verbose_name=_("program account"),
    )
    review_date = models.DateField(_("review date"))
    required_bond = money(_("required as a surety bond"))
    required_cash = money(_("required as a cash deposit"))
    top_up_by = models.DateField(_("top up by"))
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.COMPUTED
    )
    cbsa_reference = models.CharField(
        _("CBSA reference"),
        max_length=80,
        blank=True,
        help_text=_("The reference of CBSA's notice or letter, to find it again."),
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    class Meta:
        ordering = ["program_account_id", "-review_date"]
        verbose_name = _("annual security review")
        verbose_name_plural = _("annual security reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["program_account", "review_date"], name="one_security_review_per_date"
            ),
            models.CheckConstraint(
                condition=models.Q(required_bond__gt=0, required_cash__gt=0),
                name="security_review_amounts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_account} · {self.review_date.isoformat()}"


class SecurityForecast(models.Model):
    """One RM account's forecast at the next annual review, as last computed (``payments/forecast.py``).

    A snapshot, not a record: the daily security check rewrites every row (the same standings it
    checks), and saving a security or a review recomputes its account's row, so the forecast
    page reads one indexed table instead of a year of statement lines for 10,000 importers.
    """

    program_account = models.OneToOneField(
        ProgramAccount,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="security_forecast",
        verbose_name=_("program account"),
    )
    review_on = models.DateField(_("next review"))
    peak = money(_("highest monthly total"), null=True, blank=True)
    required_bond = money(_("required as a surety bond"))
    required_cash = money(_("required as a cash deposit"))
    posted = money(_("in force"))
    kind = models.CharField(_("main kind"), max_length=12)
    shortfall = money(_("shortfall"))
    short = models.BooleanField(_("will fall short"))
    computed_on = models.DateField(_("computed for"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("security forecast")
        verbose_name_plural = _("security forecasts")
        indexes = [models.Index(fields=["short", "-shortfall"], name="secforecast_short_idx")]

    def __str__(self) -> str:
        return f"{self.program_account_id} · {self.review_on.isoformat()} · {self.shortfall}"


class PaymentAlert(models.Model):
    """One finding of the daily payment or security check, raised once per ``key``.

    The key names the thing and the occasion (statement and due date, bond and expiry date,
    account and review year), so the same finding tomorrow is the same alert, and a rerun
    creates nothing. ``claimed_at``/``notified_at`` make the email go out once (``notify.py``).
    """

    Severity = Severity  # carm_portal/severity.py: one set of severities for every alert

    importer = models.ForeignKey(Importer, on_delete=models.CASCADE, related_name="payment_alerts")
    program_account = models.ForeignKey(
        ProgramAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    statement = models.ForeignKey(
        Statement, null=True, blank=True, on_delete=models.CASCADE, related_name="payment_alerts"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    security = models.ForeignKey(
        FinancialSecurity, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(_("finding"), max_length=32)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    message = models.TextField(_("message"))
    # The sentence untranslated (carm_portal/stored_text.py), to show it in the reader's language.
    message_parts = models.JSONField(null=True, blank=True, editable=False)
    key = models.CharField(max_length=100)
    deadline = models.DateField(_("date at the time"), null=True, blank=True)
    amount = money(_("amount at the time"), null=True, blank=True)
    raised_on = models.DateField(_("raised on"))
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["claimed_at"])
    _history_user: User | None  # set before a save: the history record's user
    _change_reason: StrOrPromise  # set before a save: the history record's reason

    # Not columns: set on alerts shown on a page or in a digest email, for the templates.
    label: str
    url: str

    class Meta:
        ordering = ["resolved_at", "-raised_at", "id"]
        verbose_name = _("payment alert")
        constraints = [
            models.UniqueConstraint(fields=["importer", "key"], name="one_payment_alert_per_key")
        ]
        indexes = [
            models.Index(fields=["resolved_at", "severity"]),
            models.Index(fields=["kind", "resolved_at"]),
            # The open alerts' figures (Today's security shortfalls and bonds expiring, which
            # filter on kind): an index-only scan of those kinds' few columns, not the heap.
            models.Index(
                fields=["kind", "importer"],
                include=["id", "amount"],  # id: the counts are COUNT(id)
                condition=models.Q(resolved_at=None),
                name="paymentalert_open_kind_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.importer} · {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def message_text(self) -> str:
        """The sentence in the active language (the stored English for rows without parts)."""
        return stored_text.show(self.message_parts, self.message)
