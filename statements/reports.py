"""Reconciliation reports: the figures the pages show, the PDF (WeasyPrint) and the CSV export.

One source for all three: ``status_summary`` adds up a run's items by status in the database (in
cents, one query), ``report_context`` adds the balance check and who ran it, and the items grouped
by status in the order of ``docs/formats.md``. The PDF is rendered from
``templates/statements/pdf/reconciliation.html``; a report of more than
``RECONCILIATION_PDF_INLINE_ITEMS`` items is rendered by a worker (``render_stored_pdf``) and
downloaded when ready. The CSV has exactly the columns of ``docs/formats.md``, written as a
stream so a run of a million items never sits in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Case, Count, Max, Q, QuerySet, Value, When
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carm_portal import csv_cells
from carm_portal.calendar import cbsa_today
from carm_portal.dispatch import send, send_on_commit
from carm_portal.money import ZERO, from_cents, sum_cents, to_money
from statements import balance as balances
from statements.enqueue import heavy_render_reconciliation_pdf
from statements.models import COMPONENTS, ReconciliationItem, ReconciliationRun
from statements.reconciliation.selectors import sum_at_risk, with_amount_at_risk
from statements.signals import report_generated
from statements.stored_files import delete_unless_kept

if TYPE_CHECKING:
    from carm_portal.models import User

Code = ReconciliationItem.Code
PdfStatus = ReconciliationRun.PdfStatus

# The plain names and meanings of docs/formats.md, in its order (the order of every report).
STATUS_NAMES: dict[str, Any] = {
    Code.MATCHED: gettext_lazy("Matched"),
    Code.MATCHED_WITHIN_TOLERANCE: gettext_lazy("Matched within tolerance"),
    Code.AMOUNT_MISMATCH: gettext_lazy("Amount differs"),
    Code.MISSING_ON_STATEMENT: gettext_lazy("Missing on statement"),
    Code.OTHER_BROKER: gettext_lazy("Another broker's transaction"),
    Code.UNEXPECTED_ON_STATEMENT: gettext_lazy("Not in our records"),
    Code.DUPLICATE: gettext_lazy("Charged twice"),
    Code.POSTED_BY_CBSA: gettext_lazy("Posted by CBSA"),
    Code.BALANCE_DIFFERENCE: gettext_lazy("Balance does not agree"),
}
STATUS_HELP: dict[str, Any] = {
    Code.MATCHED: gettext_lazy(
        "The line equals the entry's highest version, component by component."
    ),
    Code.MATCHED_WITHIN_TOLERANCE: gettext_lazy(
        "As matched, but differing by no more than the tolerance."
    ),
    Code.AMOUNT_MISMATCH: gettext_lazy("Same transaction, but the total or a component differs."),
    Code.MISSING_ON_STATEMENT: gettext_lazy(
        "An entry accounted in the billing period that has no statement line."
    ),
    Code.OTHER_BROKER: gettext_lazy(
        "A CAD or adjustment filed under another broker's account security number."
    ),
    Code.UNEXPECTED_ON_STATEMENT: gettext_lazy(
        "A CAD or adjustment with our account security number and no entry."
    ),
    Code.DUPLICATE: gettext_lazy("A transaction number on more than one line of the statement."),
    Code.POSTED_BY_CBSA: gettext_lazy(
        "Interest, penalties, charges, payments and credits, for review."
    ),
    Code.BALANCE_DIFFERENCE: gettext_lazy(
        "The stated closing balance is not the opening balance plus the lines, or the opening "
        "balance is not the previous statement's closing balance."
    ),
}
STATUS_ORDER: tuple[str, ...] = tuple(STATUS_NAMES)
EXCEPTION_CODES: tuple[str, ...] = tuple(
    c for c in STATUS_ORDER if c not in ReconciliationItem.MATCHED_CODES
)

CSV_COLUMNS: tuple[str, ...] = (
    "status",
    "transaction_number",
    "line_type",
    "statement_amount",
    "entry_amount",
    "difference",
    "components_differing",
    "resolution",
    "assigned_to",
    "note",
)
COMPONENT_SEPARATOR = ";"


def status_name(code: str) -> str:
    return str(STATUS_NAMES.get(code, code))


def status_order() -> Case:
    """An expression ordering items by status as docs/formats.md lists them."""
    return Case(
        *[When(status=code, then=Value(i)) for i, code in enumerate(STATUS_ORDER)],
        default=Value(len(STATUS_ORDER)),
    )


def ordered_items(run: ReconciliationRun) -> QuerySet[ReconciliationItem]:
    """The run's items grouped by status (formats.md order), then in the run's own order."""
    return (
        ReconciliationItem.objects.filter(run=run)
        .annotate(status_rank=status_order())
        .order_by("status_rank", "position")
    )


# --- The figures ---------------------------------------------------------------------------------


@dataclass
class StatusTotal:
    """One status of a run: how many items, what they add up to, how many are still open."""

    code: str
    count: int = 0
    statement_total: Decimal = ZERO
    entry_total: Decimal = ZERO
    difference_total: Decimal = ZERO
    exception_count: int = 0  # items needing a person (all but matches and unflagged postings)
    open_count: int = 0
    # What the exceptions put at stake, added up as the worklist adds them (the size of each
    # item's ``selectors.amount_at_risk``): all of them, and those still open.
    at_risk_total: Decimal = ZERO
    open_at_risk: Decimal = ZERO

    @property
    def label(self) -> str:
        return status_name(self.code)

    @property
    def help(self) -> str:
        return str(STATUS_HELP.get(self.code, ""))

    @property
    def amount(self) -> Decimal:
        """What the status is about: the statement's amount, or the entry's where there is no line
        (an entry missing on the statement)."""
        return self.entry_total if self.code == Code.MISSING_ON_STATEMENT else self.statement_total

    @property
    def is_exception(self) -> bool:
        return self.code in EXCEPTION_CODES


@dataclass
class Summary:
    rows: list[StatusTotal]  # every status, formats.md order (zero rows included)

    @property
    def present(self) -> list[StatusTotal]:
        return [row for row in self.rows if row.count]

    @property
    def item_count(self) -> int:
        return sum(row.count for row in self.rows)

    @property
    def exception_count(self) -> int:
        return sum(row.exception_count for row in self.rows)

    @property
    def open_count(self) -> int:
        return sum(row.open_count for row in self.rows)

    @property
    def statement_total(self) -> Decimal:
        return sum((row.statement_total for row in self.rows), ZERO)

    @property
    def entry_total(self) -> Decimal:
        return sum((row.entry_total for row in self.rows), ZERO)

    @property
    def difference_total(self) -> Decimal:
        return sum((row.difference_total for row in self.rows), ZERO)

    @property
    def at_risk_total(self) -> Decimal:
        return sum((row.at_risk_total for row in self.rows), ZERO)

    @property
    def open_at_risk(self) -> Decimal:
        return sum((row.open_at_risk for row in self.rows), ZERO)

    def get(self, code: str) -> StatusTotal:
        return next(row for row in self.rows if row.code == code)


def status_summary(run: ReconciliationRun) -> Summary:
    """Counts and totals by status, added up by the database in cents (one query).

    Read from the items rather than from ``run.summary`` so the open counts follow the workflow
    as people resolve items."""
    rows = (
        ReconciliationItem.objects.filter(run=run)
        .values("status")
        .annotate(  # names of their own: "difference" would hide the column from amount_at_risk
            n=Count("pk"),
            statement_c=sum_cents("statement_amount"),
            entry_c=sum_cents("entry_amount"),
            difference_c=sum_cents("difference"),
            exceptions=Count("pk", filter=Q(is_exception=True)),
            open=Count("pk", filter=Q(is_exception=True, resolution="")),
            at_risk=sum_at_risk(filter=Q(is_exception=True)),
            open_at_risk=sum_at_risk(filter=Q(is_exception=True, resolution="")),
        )
        .order_by()
    )
    by_code = {code: StatusTotal(code) for code in STATUS_ORDER}
    for row in rows:
        by_code[row["status"]] = StatusTotal(
            code=row["status"],
            count=row["n"],
            statement_total=from_cents(row["statement_c"]),
            entry_total=from_cents(row["entry_c"]),
            difference_total=from_cents(row["difference_c"]),
            exception_count=row["exceptions"],
            open_count=row["open"],
            at_risk_total=to_money(row["at_risk"]),
            open_at_risk=to_money(row["open_at_risk"]),
        )
    return Summary(rows=list(by_code.values()))


@dataclass(frozen=True)
class Balance:
    opening: Decimal
    lines: Decimal
    computed: Decimal
    closing: Decimal
    difference: Decimal
    ok: bool


def balance(run: ReconciliationRun) -> Balance:
    """The run's balance check: opening balance + lines = closing balance, as the run found it."""
    statement = run.statement
    return Balance(
        opening=statement.opening_balance,
        lines=run.line_total,
        computed=run.computed_closing,
        closing=statement.closing_balance,
        difference=run.balance_difference,
        ok=run.balance_ok,
    )


@dataclass
class StatusGroup:
    total: StatusTotal
    items: list[ReconciliationItem] = field(default_factory=list)


def report_context(run: ReconciliationRun, *, with_items: bool = True) -> dict[str, Any]:
    """Everything a report of ``run`` shows: the statement and importer, who ran it and when,
    counts and totals by status, the balance check, and the items grouped by status."""
    run = (
        ReconciliationRun.objects.select_related(
            "statement__program_account__importer", "run_by"
        ).get(pk=run.pk)
        if not _has_related(run)
        else run
    )
    statement = run.statement
    summary = status_summary(run)
    statement_balance = balances.check(statement)
    groups: list[StatusGroup] = []
    if with_items:
        by_code = {row.code: StatusGroup(row) for row in summary.present}
        # Each item with ``at_risk``: the amount the worklist shows for it (a line charged twice
        # risks its amount, though it differs from our entry by 0.00).
        for item in with_amount_at_risk(ordered_items(run)).select_related("assigned_to"):
            item.components_text = components_text(item.components_differing)
            by_code[item.status].items.append(item)
        groups = list(by_code.values())
    return {
        "run": run,
        "statement": statement,
        "account": statement.program_account,
        "importer": statement.program_account.importer,
        "summary": summary,
        "balance": balance(run),
        # The check against CBSA's stated closing and the previous statement (statements/balance.py)
        "statement_balance": statement_balance,
        "exception_total": summary.exception_count,
        "groups": groups,
        "run_by": run.run_by,
        "ran_at": run.finished_at or run.started_at or run.created_at,
        "generated_at": timezone.now(),
    }


def _has_related(run: ReconciliationRun) -> bool:
    cache = run._state.fields_cache
    return "statement" in cache and "program_account" in run.statement._state.fields_cache


def last_change(run: ReconciliationRun) -> dt.datetime | None:
    """When an item of the run last changed (created, assigned, resolved): a stored PDF older
    than this no longer shows the run as it is."""
    history = ReconciliationItem.history.model.objects.filter(
        id__in=ReconciliationItem.objects.filter(run=run).values("pk")
    )
    return history.aggregate(last=Max("history_date"))["last"]


# --- CSV -------------------------------------------------------------------------------------------


def components_text(components: dict[str, Any] | None) -> str:
    """``gst`` or ``customs_duties;gst``: the differing components, in file column order."""
    names = list(components or {})
    order = {name: i for i, name in enumerate(COMPONENTS)}
    return COMPONENT_SEPARATOR.join(sorted(names, key=lambda n: (order.get(n, len(order)), n)))


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def csv_rows(run: ReconciliationRun) -> Iterator[list[str]]:
    """The export's rows (header first), read from the database in chunks: one row per item, a
    balance difference included (its item, ``balance_difference``; docs/formats.md)."""
    yield list(CSV_COLUMNS)
    rows = ordered_items(run).values_list(
        "status",
        "transaction_number",
        "line_type",
        "statement_amount",
        "entry_amount",
        "difference",
        "components_differing",
        "resolution",
        "assigned_to__email",
        "note",
    )
    for status, txn, line_type, stmt, entry, diff, comps, resolution, email, note in rows.iterator(
        chunk_size=2000
    ):
        yield [
            status,
            txn,
            line_type,
            _amount(stmt),
            _amount(entry),
            _amount(diff),
            components_text(comps),
            resolution,
            email or "",
            note,
        ]


class _Line:
    """A file-like object whose ``write`` returns what it was given (csv.writer -> one string)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(run: ReconciliationRun) -> Iterator[str]:
    """The export as text lines (CRLF-terminated, RFC 4180), for a streaming response; text that
    a spreadsheet would run as a formula is written as text (``carm_portal.csv_cells``)."""
    writer = csv_cells.writer(_Line())
    for row in csv_rows(run):
        yield writer.writerow(row)


def write_csv(run: ReconciliationRun, file: IO[str]) -> int:
    """Write the export of ``run`` to a text file opened with ``newline=""``; return the rows."""
    count = -1
    for line in csv_lines(run):
        file.write(line)
        count += 1
    return count


def read_csv(file: IO[str] | Iterable[str]) -> list[dict[str, Any]]:
    """Read an export back: amounts as Decimals (``None`` when empty), components as a list.

    Refuses a file whose header is not the export's (``ValueError``)."""
    reader = csv.reader(file)
    header = next(reader, None)
    if header is None or [h.strip().lstrip("\ufeff") for h in header] != list(CSV_COLUMNS):
        raise ValueError(_("Not a reconciliation export: the header differs."))
    rows = []
    for values in reader:
        row: dict[str, Any] = dict(
            zip(CSV_COLUMNS, [csv_cells.unescape(v) for v in values], strict=True)
        )
        for name in ("statement_amount", "entry_amount", "difference"):
            row[name] = Decimal(row[name]) if row[name] else None
        comps = row["components_differing"]
        row["components_differing"] = comps.split(COMPONENT_SEPARATOR) if comps else []
        rows.append(row)
    return rows


def csv_filename(run: ReconciliationRun, extension: str) -> str:
    statement = run.statement
    return (
        f"reconciliation-{statement.program_account.bn15}-"
        f"{statement.statement_date.isoformat()}-run{run.pk}.{extension}"
    )


# --- PDF -------------------------------------------------------------------------------------------


def page_counter_content() -> str:
    """CSS ``content`` for "Page X of Y" in the current language (our words, strictly escaped)."""
    from carm_portal import pdf

    words = _("Page {page} of {pages}")
    parts: list[str] = []
    rest = words
    while rest:
        start = min((i for i in (rest.find("{page}"), rest.find("{pages}")) if i >= 0), default=-1)
        if start < 0:
            parts.append(pdf.css_string(rest))
            break
        if start:
            parts.append(pdf.css_string(rest[:start]))
        if rest.startswith("{pages}", start):
            parts.append("counter(pages)")
            rest = rest[start + len("{pages}") :]
        else:
            parts.append("counter(page)")
            rest = rest[start + len("{page}") :]
    return " ".join(parts)


def render_html(run: ReconciliationRun) -> str:
    """The report's HTML. The page margins show the importer, account and title through
    ``string-set`` from the ``<h1>``'s attributes, so no user text is ever written into CSS."""
    context = report_context(run, with_items=True)
    # The report is read for what needs a person: exceptions first, then what matched or was
    # posted by CBSA (each in formats.md order).
    context["groups"] = sorted(context["groups"], key=lambda g: not g.total.is_exception)
    statement = context["statement"]
    context["running"] = {
        "account": _("BN15 %(bn15)s · billing period %(period)s")
        % {"bn15": statement.program_account.bn15, "period": statement.period_label},
        "title": _("Reconciliation of the statement of %(date)s")
        % {"date": statement.statement_date.isoformat()},
    }
    context["page_counter"] = page_counter_content()
    return render_to_string("statements/pdf/reconciliation.html", context)


def render_pdf(run: ReconciliationRun) -> bytes:
    """The PDF report of ``run`` (WeasyPrint; system fonts, nothing fetched but our static files)."""
    from carm_portal import pdf  # imported here: WeasyPrint takes a moment and only reports need it

    return pdf.render_pdf(render_html(run))


def is_large(run: ReconciliationRun) -> bool:
    """Whether the report is rendered by a worker rather than in the request."""
    return run.item_count > settings.RECONCILIATION_PDF_INLINE_ITEMS


def stored_pdf_is_fresh(run: ReconciliationRun) -> bool:
    """A stored PDF that still shows the run as it is (no item changed since it was rendered)."""
    if run.pdf_status != PdfStatus.READY or not run.pdf_file or run.pdf_rendered_at is None:
        return False
    changed = last_change(run)
    return changed is None or changed <= run.pdf_rendered_at


def request_pdf(run: ReconciliationRun) -> bool:
    """Ask a worker for a fresh PDF of ``run``, once: returns whether this call queued it.

    A conditional update, so two clicks (or two people) queue one render."""
    queued = (
        ReconciliationRun.objects.filter(pk=run.pk)
        .exclude(pdf_status__in=[PdfStatus.QUEUED, PdfStatus.RENDERING])
        .update(
            pdf_status=PdfStatus.QUEUED, pdf_requested_at=timezone.now(), pdf_dispatched_at=None
        )
    )
    run.refresh_from_db(fields=["pdf_status", "pdf_requested_at", "pdf_dispatched_at"])
    return bool(queued)


def dispatch_pdf(run_id: int) -> bool:
    """Send a queued render to a worker now; returns whether the broker took it."""
    return send(
        heavy_render_reconciliation_pdf, kwargs={"run_id": run_id}, on_sent=_pdf_sent(run_id)
    )


def dispatch_pdf_on_commit(run_id: int) -> None:
    """Send a queued render to a worker once the request commits; a broker that cannot be
    reached leaves it queued for ``statements.redispatch`` (never an error page)."""
    send_on_commit(
        heavy_render_reconciliation_pdf, kwargs={"run_id": run_id}, on_sent=_pdf_sent(run_id)
    )


def _pdf_sent(run_id: int) -> Callable[[], object]:
    return lambda: ReconciliationRun.objects.filter(pk=run_id).update(
        pdf_dispatched_at=timezone.now()
    )


STALE_RENDER = dt.timedelta(minutes=30)


def render_stored_pdf(*, run_id: int) -> str:
    """Render the queued PDF of a run and store it on the run (the worker's job).

    Idempotent: the render is claimed with a conditional update, so a duplicate delivery of the
    task does nothing; a render left half-way by a killed worker (``acks_late`` delivers the task
    again) is claimed again once it is older than ``STALE_RENDER``."""
    now = timezone.now()
    claimed = (
        ReconciliationRun.objects.filter(pk=run_id, status=ReconciliationRun.Status.SUCCEEDED)
        .filter(
            Q(pdf_status=PdfStatus.QUEUED)
            | Q(pdf_status=PdfStatus.RENDERING, pdf_rendered_at__lt=now - STALE_RENDER)
            | Q(pdf_status=PdfStatus.RENDERING, pdf_rendered_at=None)
        )
        .update(pdf_status=PdfStatus.RENDERING, pdf_rendered_at=now)
    )
    if not claimed:
        return ""
    run = ReconciliationRun.objects.select_related(
        "statement__program_account__importer", "run_by"
    ).get(pk=run_id)
    try:
        data = render_pdf(run)
    except Exception:
        ReconciliationRun.objects.filter(pk=run_id).update(pdf_status=PdfStatus.FAILED)
        raise
    return keep_pdf(run, data, rendered_at=now)


def keep_pdf(
    run: ReconciliationRun, data: bytes, *, rendered_at: dt.datetime, user: User | None = None
) -> str:
    """Store a rendered PDF of ``run`` as its current PDF and announce it once committed
    (``signals.report_generated``: the compliance work files it as a record of the importer).

    ``rendered_at`` is the moment the render began: changes after it make the PDF stale. The PDF
    it replaces is deleted unless it is kept as a record. Returns the stored file's name."""
    old = run.pdf_file.name if run.pdf_file else ""
    run.pdf_file.save(csv_filename(run, "pdf"), ContentFile(data), save=False)
    run.pdf_status = PdfStatus.READY
    run.pdf_rendered_at = rendered_at
    ReconciliationRun.objects.filter(pk=run.pk).update(
        pdf_file=run.pdf_file.name, pdf_status=PdfStatus.READY, pdf_rendered_at=rendered_at
    )
    if old and old != run.pdf_file.name:
        delete_unless_kept(old, run.pdf_file.storage)
    path, name = run.pdf_file.name, csv_filename(run, "pdf")
    record_date = cbsa_today(rendered_at)
    transaction.on_commit(
        lambda: report_generated.send(
            sender=ReconciliationRun,
            run=run,
            path=path,
            name=name,
            record_date=record_date,
            user=user or run.run_by,
        )
    )
    return path


def fresh_or_new_pdf(run: ReconciliationRun, *, user: User | None) -> tuple[bytes, bool]:
    """The PDF of a small run, rendered in the request: the stored one while it is fresh, else a
    new render, stored (and so filed). Returns the bytes and whether they were rendered now."""
    if stored_pdf_is_fresh(run):
        with run.pdf_file.open("rb") as stored:
            return stored.read(), False
    started = timezone.now()
    data = render_pdf(run)
    keep_pdf(run, data, rendered_at=started, user=user)
    return data, True
