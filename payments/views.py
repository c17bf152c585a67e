"""Payment pages: payments (list, record with preview, detail, status, allocation), securities
(list, record, detail, edit), the portfolio worklists, the interest rate table and PAD bank
accounts (list, add, detail, reveal, edit, deactivate, reactivate). Thin function views; every one goes through ``clients.access``: an importer the user
may not see is a 404, one they see without the right for the thing asked a 403.

Length: many small views of one app's pages, each a few lines over ``payments`` domain functions;
splitting them by page would scatter the shared guards (``_get_bank_account`` and the like).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from carm_portal.calendar import cbsa_today
from carm_portal.history import Source, history_entries
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.money import ZERO, cents, from_cents, sum_cents
from carm_portal.pagination import CountedPaginator
from carm_portal.severity import severity_order
from clients import access
from clients.access import GlobalPerm, Perm
from clients.models import Importer, ProgramAccount
from clients.portfolio import portfolio_from
from clients.search import importer_search
from payments import list_rows, reveals
from payments.allocation import AllocationError, Plan, allocate_payment
from payments.forecast import refresh_missing
from payments.forms import (
    MANUAL,
    AllocationForm,
    BankAccountForm,
    InterestRateForm,
    PaymentFilterForm,
    PaymentForm,
    PaymentStatusForm,
    SecurityFilterForm,
    SecurityForm,
)
from payments.models import (
    BankAccount,
    FinancialSecurity,
    InterestRate,
    Payment,
    PaymentAlert,
    PaymentAllocation,
    SecurityForecast,
    StatementBalance,
)
from payments.records import (
    record_payment,
    save_bank_account,
    save_security,
    set_bank_account_status,
    set_payment_status,
)
from payments.rules import SECURITY_KINDS, SHORTFALL_KINDS, kind_label, next_review_on
from payments.selectors import (
    account_securities,
    deactivation,
    late_estimates,
    posting_expected,
    security_rows,
    unapplied,
    with_allocated,
)
from statements.due import due_soon_q, overdue_age_q, overdue_q
from statements.filters_html import filters_html

if TYPE_CHECKING:
    from django import forms

    from clients.access import AnyUser

PAGE_SIZE = 50
PAYMENT_IMPORTER = "importer"
SECURITY_IMPORTER = "program_account__importer"
WORKLISTS = {  # lazy: translated when the page renders, in its language
    "due": gettext_lazy("Due this week"),
    "overdue": gettext_lazy("Overdue"),
    "security": gettext_lazy("Security insufficient or expiring"),
}


def require_finance(user: AnyUser) -> None:
    """Lists across importers: broker staff, or importer people with the finance view somewhere."""
    if not access.holds_anywhere(user, Perm.VIEW_FINANCE):
        raise PermissionDenied(
            _("Payments are for the broker's staff and the importer's finance people.")
        )


def _label(alerts: list[PaymentAlert]) -> list[PaymentAlert]:
    for alert in alerts:
        alert.label = kind_label(alert.kind)
    return alerts


def _importer_filter(
    form: forms.Form, queryset: QuerySet, field: str, user: AnyUser
) -> tuple[QuerySet, Importer | None]:
    """``?importer=<id>``: rows of that importer, named only if the user may see it."""
    importer_id = form.cleaned_data.get("importer") if form.is_valid() else None
    if not importer_id:
        return queryset, None
    importer = access.visible_importers(user).filter(pk=importer_id).first()
    return queryset.filter(**{f"{field}_id": importer_id}), importer


# --- Payments ------------------------------------------------------------------------------------


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_finance(user)
    form = PaymentFilterForm(request.GET or None)
    payments = access.scope_for(
        Payment.objects.select_related("importer", "program_account"),
        user,
        Perm.VIEW_FINANCE,
        importer_field=PAYMENT_IMPORTER,
    )
    payments, importer = _importer_filter(form, payments, PAYMENT_IMPORTER, user)
    if form.is_valid():
        data = form.cleaned_data
        if q := (data.get("q") or "").strip():
            payments = payments.filter(
                importer_search(q, importer="importer__", account="program_account__")
                | Q(reference__iexact=q)
            )
        if data.get("status"):
            payments = payments.filter(status=data["status"])
        if data.get("method"):
            payments = payments.filter(method=data["method"])
    payments = with_allocated(payments).order_by("-paid_on", "-id")
    if form.is_valid() and form.cleaned_data.get("unapplied"):
        payments = payments.exclude(status=Payment.Status.RETURNED).filter(
            allocated_cents__lt=cents("amount")  # type: ignore[misc]  # annotated by with_allocated()
        )
    page = Paginator(payments, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for payment in rows:
        payment.unapplied = unapplied(payment)
    return render(
        request,
        "payments/payment_list.html",
        {
            "form": form,
            "page": page,
            "payments": rows,
            "rows": list_rows.payment_rows(rows),  # each <tr>, as a loop in the template wrote it
            # static choices: the HTML depends on the language and the query string only
            "filters": filters_html("payments/_payment_filters.html", form),
            "importer": importer,
        },
    )


@login_required
def payment_create(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.MANAGE_PAYMENTS)
    form = PaymentForm(request.POST or None, importer=importer)
    if request.method == "POST" and form.is_valid() and request.POST.get("action") == "record":
        data = form.cleaned_data
        try:
            payment, _plan = record_payment(
                importer=importer,
                program_account=data["program_account"],
                amount=data["amount"],
                method=data["method"],
                paid_on=data["paid_on"],
                reference=data.get("reference") or "",
                status=data["status"],
                bank_account=data.get("bank_account"),
                notes=data.get("notes") or "",
                manual=data.get("manual"),
                by=request.user,
            )
        except AllocationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Payment recorded."))
            return redirect(payment)
    plan = form.plan if form.is_bound and not form.errors else None
    return render(
        request,
        "payments/payment_form.html",
        {
            "form": form,
            "importer": importer,
            "plan": plan,
            "plan_rows": _plan_rows(form, plan),
            "duplicates": _possible_duplicates(form) if plan else [],
        },
    )


def _plan_rows(form: PaymentForm, plan: Plan | None) -> list[dict]:
    if plan is None:
        return []
    rows = []
    for statement_id, amount in plan.parts:
        _account, statement = form.statements[statement_id]
        rows.append(
            {
                "statement": statement,
                "amount": amount,
                "left": statement.available - amount,
                "overdue": statement.due_date < form.cleaned_data["paid_on"],
            }
        )
    return rows


def _possible_duplicates(form: PaymentForm) -> list[Payment]:
    """Payments of the same amount on the account within a week: maybe this one already."""
    data = form.cleaned_data
    return list(
        Payment.objects.filter(
            program_account=data["program_account"],
            amount=data["amount"],
            paid_on__gte=data["paid_on"] - dt.timedelta(days=7),
            paid_on__lte=data["paid_on"] + dt.timedelta(days=7),
        )
        .exclude(status=Payment.Status.RETURNED)
        .order_by("-paid_on")[:5]
    )


def _payment_history(payment: Payment) -> list:
    return history_entries(
        [
            Source(Payment, Payment.history.filter(id=payment.pk), lambda r: _("Payment")),
            Source(
                PaymentAllocation,
                PaymentAllocation.history.filter(payment_id=payment.pk),
                lambda r: _("Allocation to statement #%(id)s") % {"id": r.statement_id},
            ),
        ],
        hidden={"allocated_by"},
    )


def _get_payment(request: HttpRequest, pk: int, perm: Perm = Perm.VIEW_FINANCE) -> Payment:
    return access.get_scoped(
        Payment.objects.select_related(
            "importer",
            "program_account",
            "recorded_by",
            "bank_account",
            "statement_line__statement",
        ),
        request.user,
        pk,
        perm,
        importer_field=PAYMENT_IMPORTER,
    )


@login_required
def payment_detail(
    request: HttpRequest,
    pk: int,
    *,
    allocation_form: AllocationForm | None = None,
    status_form: PaymentStatusForm | None = None,
) -> HttpResponse:
    payment = _get_payment(request, pk)
    allocations = list(
        payment.allocations.select_related("statement", "allocated_by").order_by(
            "statement__due_date", "id"
        )
    )
    left = payment.amount - sum((a.amount for a in allocations), ZERO)
    can_manage = access.can(request.user, Perm.MANAGE_PAYMENTS, payment.importer_id)
    context = {
        "payment": payment,
        "importer": payment.importer,
        "allocations": allocations,
        "unapplied": left,
        "expected_posting": posting_expected(payment),
        "today": cbsa_today(),
        "alerts": _label(list(payment.alerts.order_by("resolved_at", "-raised_at"))),
        "can_manage": can_manage,
        "history": _payment_history(payment),
        "history_lead": _("Every change to this payment and to how it is applied."),
    }
    if can_manage and payment.counts:
        context["allocation_form"] = allocation_form or AllocationForm(payment=payment)
        context["status_form"] = status_form or PaymentStatusForm(payment=payment)
    return render(
        request,
        "payments/payment_detail.html",
        context,
        status=400 if (allocation_form or status_form) else 200,
    )


@login_required
@require_POST
def payment_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    payment = _get_payment(request, pk, Perm.MANAGE_PAYMENTS)
    form = PaymentStatusForm(request.POST, payment=payment)
    if not form.is_valid():
        return payment_detail(request, pk, status_form=form)
    try:
        set_payment_status(
            payment=payment,
            status=form.cleaned_data["status"],
            on=form.cleaned_data.get("returned_on"),
            by=request.user,
        )
    except AllocationError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error("returned_on", message)
        return payment_detail(request, pk, status_form=form)
    else:
        messages.success(request, _("Payment status changed."))
    return redirect(payment)


@login_required
@require_POST
def payment_allocate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    payment = _get_payment(request, pk, Perm.MANAGE_PAYMENTS)
    form = AllocationForm(request.POST, payment=payment)
    if not form.is_valid():
        return payment_detail(request, pk, allocation_form=form)
    try:
        plan = allocate_payment(
            payment=payment,
            by=request.user,
            manual=form.cleaned_data["manual"]
            if form.cleaned_data["allocation"] == MANUAL
            else None,
        )
    except AllocationError as exc:
        form.add_error(None, exc.messages)
        return payment_detail(request, pk, allocation_form=form)
    if plan.unapplied:
        messages.warning(
            request,
            _("Payment applied; %(amount)s is left unapplied.") % {"amount": plan.unapplied},
        )
    else:
        messages.success(request, _("Payment applied."))
    return redirect(payment)


# --- Securities ----------------------------------------------------------------------------------


@login_required
def security_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_finance(user)
    today = cbsa_today()
    form = SecurityFilterForm(request.GET or None)
    securities = access.scope_for(
        FinancialSecurity.objects.select_related("program_account__importer"),
        user,
        Perm.VIEW_FINANCE,
        importer_field=SECURITY_IMPORTER,
    )
    securities, importer = _importer_filter(form, securities, SECURITY_IMPORTER, user)
    if form.is_valid():
        data = form.cleaned_data
        if q := (data.get("q") or "").strip():
            securities = securities.filter(
                importer_search(
                    q, importer="program_account__importer__", account="program_account__"
                )
                | Q(bond_number__icontains=q)
            )
        if data.get("kind"):
            securities = securities.filter(kind=data["kind"])
        if data.get("status"):
            securities = securities.filter(status=data["status"])
        if data.get("expiring_within") is not None:
            securities = securities.filter(
                expiry_date__gte=today,
                expiry_date__lte=today + dt.timedelta(days=data["expiring_within"]),
            )
    securities = securities.order_by(
        "program_account__importer__legal_name", "program_account__bn15", "-effective_date", "-id"
    )
    page = Paginator(securities, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    security_rows(rows, today=today)
    return render(
        request,
        "payments/security_list.html",
        {"form": form, "page": page, "securities": rows, "importer": importer, "today": today},
    )


@login_required
def security_create(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.MANAGE_PAYMENTS)
    form = SecurityForm(
        request.POST or None,
        importer=importer,
        initial={
            "kind": FinancialSecurity.Kind.SURETY_BOND,
            "status": FinancialSecurity.Status.PENDING,
        },
    )
    if request.method == "POST" and form.is_valid():
        security = save_security(security=form.save(commit=False), by=request.user)
        messages.success(request, _("Financial security recorded."))
        return redirect(security)
    return render(
        request,
        "payments/security_form.html",
        {"form": form, "importer": importer, "title": _("Record a financial security")},
    )


def _get_security(
    request: HttpRequest, pk: int, perm: Perm = Perm.VIEW_FINANCE
) -> FinancialSecurity:
    return access.get_scoped(
        FinancialSecurity.objects.select_related("program_account__importer", "recorded_by"),
        request.user,
        pk,
        perm,
        importer_field=SECURITY_IMPORTER,
    )


@login_required
def security_detail(request: HttpRequest, pk: int) -> HttpResponse:
    security = _get_security(request, pk)
    today = cbsa_today()
    account = security.program_account
    position = account_securities([account], today=today, with_chart=True)[account.pk]
    alerts = list(
        PaymentAlert.objects.filter(
            Q(security=security) | Q(program_account=account, kind__in=list(SECURITY_KINDS))
        ).order_by("resolved_at", "-raised_at")
    )
    return render(
        request,
        "payments/security_detail.html",
        {
            "security": security,
            "importer": account.importer,
            "account": account,
            "position": position,
            "today": today,
            "days_left": (security.expiry_date - today).days if security.expiry_date else None,
            "alerts": _label(alerts),
            "can_manage": access.can(request.user, Perm.MANAGE_PAYMENTS, account.importer_id),
            "history": history_entries(
                [
                    Source(
                        FinancialSecurity,
                        FinancialSecurity.history.filter(id=security.pk),
                        lambda r: _("Security"),
                    )
                ]
            ),
            "history_lead": _("Every change to this security."),
        },
    )


@login_required
def security_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    security = _get_security(request, pk, Perm.MANAGE_PAYMENTS)
    importer = security.program_account.importer
    form = SecurityForm(request.POST or None, instance=security, importer=importer)
    if request.method == "POST" and form.is_valid():
        save_security(security=form.save(commit=False), by=request.user)
        messages.success(request, _("Financial security updated."))
        return redirect(security)
    return render(
        request,
        "payments/security_form.html",
        {
            "form": form,
            "importer": importer,
            "security": security,
            "title": _("Edit the financial security"),
        },
    )


# --- Worklists -----------------------------------------------------------------------------------


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    """The broker's portfolio: statements due this week, overdue ones, security problems."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    today = cbsa_today()
    tab = request.GET.get("list", "due")
    if tab not in WORKLISTS:
        tab = "due"
    portfolio = portfolio_from(request.GET, user=request.user)
    # Filtered, counted and ordered on the balance's own copies of the importer and due date: the
    # counts need no join, and a page is read off the owing balances' index by due date, joining
    # only its own rows (the statements and importers of every overdue balance were joined and
    # sorted before: 80 ms of the page at 17,500 overdue statements).
    owing = portfolio.apply(
        StatementBalance.objects.filter(outstanding__gt=0), importer_field="importer"
    ).select_related("statement__program_account__importer")
    due = owing.filter(due_soon_q(today))
    overdue = owing.filter(overdue_q(today))
    age = request.GET.get("age", "")
    if (age_q := overdue_age_q(age, today)) is not None:
        overdue = overdue.filter(age_q)
    else:
        age = ""
    problems = portfolio.apply(
        PaymentAlert.objects.filter(resolved_at=None, kind__in=list(SECURITY_KINDS))
    )
    kind = request.GET.get("kind", "")
    if kind == "shortfall":
        problems = problems.filter(kind__in=list(SHORTFALL_KINDS))
    elif kind in SECURITY_KINDS:
        problems = problems.filter(kind=kind)
    else:
        kind = ""
    counts = {"due": due.count(), "overdue": overdue.count(), "security": problems.count()}
    rows: QuerySet[PaymentAlert] | QuerySet[StatementBalance]
    if tab == "security":
        rows = problems.select_related("importer", "program_account", "security").order_by(
            severity_order(), "deadline", "importer__legal_name", "id"
        )
    else:
        # The oldest due date first and, on one due date, the largest amount owed first.
        owed = overdue if tab == "overdue" else due
        rows = owed.order_by("due_date", "-outstanding", "statement_id")
    page = CountedPaginator(rows, PAGE_SIZE, count=counts[tab]).get_page(request.GET.get("page"))
    items = list(page.object_list)
    if tab == "security":
        _label(items)
    else:
        estimates = late_estimates(items, today=today)
        for balance in items:
            balance.estimate = estimates[balance.statement_id]
            balance.days = (balance.statement.due_date - today).days
            balance.days_overdue = max(-balance.days, 0)
    return render(
        request,
        "payments/worklist.html",
        {
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in WORKLISTS.items()],
            "portfolio": portfolio,
            "portfolio_query": "" if portfolio.is_all else portfolio.query,
            "age": age,
            "kind": kind,
            "page": page,
            "items": items,
            "today": today,
        },
    )


# --- Security forecast at the next annual review ------------------------------------------------


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    """Each RM account's forecast requirement at the next 20 October review, the shortfalls first
    (``accounts=all`` lists every account). Broker finance and admins; linked from Today.

    Read from the snapshot the daily security check stores (``payments/forecast.py``): a fixed
    number of queries whatever the size of the portfolio. Accounts without a row yet are
    computed first."""
    user = request.user
    access.require_global(user, GlobalPerm.VIEW_PORTFOLIO)
    if not access.holds_anywhere(user, Perm.MANAGE_PAYMENTS):
        raise PermissionDenied(_("Your role does not manage financial security."))
    today = cbsa_today()
    portfolio = portfolio_from(request.GET, user=user)
    refresh_missing(
        portfolio.apply(access.scope_for(ProgramAccount.objects.all(), user, Perm.VIEW_FINANCE)),
        today=today,
    )
    snapshot = portfolio.apply(
        access.scope_for(
            SecurityForecast.objects.filter(program_account__status=ProgramAccount.Status.ACTIVE),
            user,
            Perm.VIEW_FINANCE,
            importer_field=SECURITY_IMPORTER,
        ),
        importer_field=SECURITY_IMPORTER,
    )
    totals = snapshot.aggregate(
        n_accounts=Count("pk"),
        n_short=Count("pk", filter=Q(short=True)),
        short_cents=sum_cents("shortfall", filter=Q(short=True)),
        oldest=Min("computed_at"),
        oldest_day=Min("computed_on"),
        next_review=Max("review_on"),
    )
    show_all = request.GET.get("accounts") == "all"
    rows = (snapshot if show_all else snapshot.filter(short=True)).select_related(
        "program_account__importer"
    )
    rows = rows.order_by(
        "-shortfall", "program_account__importer__legal_name", "program_account__bn15"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/forecast.html",
        {
            "page": page,
            "rows": list(page.object_list),
            "review_on": totals["next_review"] or next_review_on(today),
            "computed_at": totals["oldest"],
            "stale": totals["oldest_day"] is not None and totals["oldest_day"] < today,
            "short_count": totals["n_short"],
            "short_total": from_cents(totals["short_cents"]),
            "account_count": totals["n_accounts"],
            "show_all": show_all,
            "portfolio": portfolio,
            "portfolio_query": "" if portfolio.is_all else portfolio.query,
        },
    )


# --- Interest rates ------------------------------------------------------------------------------


@login_required
def rates(request: HttpRequest) -> HttpResponse:
    """The dated rate table: the broker's staff read it, a broker admin adds rates."""
    access.require_global(request.user, GlobalPerm.VIEW_PORTFOLIO)
    can_manage = access.can_global(request.user, GlobalPerm.MANAGE_RATES)
    form = None
    if can_manage:
        form = InterestRateForm(request.POST or None)
    elif request.method == "POST":
        raise PermissionDenied(_("Interest rates are entered by a broker admin."))
    if request.method == "POST" and form is not None and form.is_valid():
        rate = form.save(commit=False)
        rate.entered_by = request.user
        rate._history_user = request.user
        rate.save()
        messages.success(request, _("Interest rate recorded."))
        return redirect("payments:rates")
    return render(
        request,
        "payments/rates.html",
        {
            "rates": InterestRate.objects.select_related("entered_by").order_by("-effective_from"),
            "form": form,
            "can_manage": can_manage,
        },
        status=400 if form is not None and form.is_bound else 200,
    )


# --- Bank accounts (pre-authorized debit) --------------------------------------------------------


@login_required
def bank_account_list(request: HttpRequest, importer_pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_FINANCE)
    return render(
        request,
        "payments/bank_account_list.html",
        {
            "importer": importer,
            "accounts": importer.bank_accounts.select_related("created_by").order_by("label", "id"),
            "can_add": _can_manage_bank_accounts(request.user, importer.pk),
        },
    )


@login_required
def bank_account_create(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """The importer's BAM only: whoever types the number sees it, so never broker staff."""
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_BANK_ACCOUNT)
    access.require(request.user, Perm.MANAGE_PAYMENTS, importer)
    form = BankAccountForm(request.POST or None, initial={"holder_name": importer.legal_name})
    if request.method == "POST" and form.is_valid():
        account = form.save(commit=False)
        account.importer = importer
        save_bank_account(
            bank_account=account,
            account_number=form.cleaned_data["account_number"],
            by=request.user,
        )
        messages.success(request, _("Bank account recorded; its number is stored encrypted."))
        return redirect(account)
    response = render(
        request, "payments/bank_account_form.html", {"form": form, "importer": importer}
    )
    response["Cache-Control"] = "no-store"
    return response


def _get_bank_account(request: HttpRequest, pk: int, perm: Perm) -> BankAccount:
    return access.get_scoped(
        BankAccount.objects.select_related("importer", "created_by"), request.user, pk, perm
    )


def _get_managed_bank_account(request: HttpRequest, pk: int) -> BankAccount:
    """Changing an account is for those who may add one: the importer's BAM (never broker staff,
    who may not see the number: a 403 like adding or revealing; another importer's user: 404)."""
    account = _get_bank_account(request, pk, Perm.VIEW_BANK_ACCOUNT)
    access.require(request.user, Perm.MANAGE_PAYMENTS, account.importer_id)
    return account


def _can_manage_bank_accounts(user: AnyUser, importer_id: int) -> bool:
    return access.can(user, Perm.VIEW_BANK_ACCOUNT, importer_id) and access.can(
        user, Perm.MANAGE_PAYMENTS, importer_id
    )


@login_required
def bank_account_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The importer's BAM corrects an account; the number is typed again only to change it."""
    account = _get_managed_bank_account(request, pk)
    # The form works on a copy, so the page's headings keep the saved values while it is wrong.
    form = BankAccountForm(request.POST or None, instance=copy.copy(account))
    if request.method == "POST" and form.is_valid():
        save_bank_account(
            bank_account=form.save(commit=False),
            account_number=form.cleaned_data.get("account_number") or None,
            by=request.user,
        )
        messages.success(request, _("Bank account updated."))
        return redirect(account)
    response = render(
        request,
        "payments/bank_account_form.html",
        {"form": form, "importer": account.importer, "account": account},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def bank_account_deactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _bank_account_status(request, pk, BankAccount.Status.INACTIVE)


@login_required
def bank_account_reactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _bank_account_status(request, pk, BankAccount.Status.ACTIVE)


def _bank_account_status(request: AuthenticatedHttpRequest, pk: int, status: str) -> HttpResponse:
    """A confirmation page (GET) saying what changes, then the change (POST)."""
    account = _get_managed_bank_account(request, pk)
    deactivating = status == BankAccount.Status.INACTIVE
    if account.status == status:
        messages.info(
            request,
            _("This bank account is already no longer used.")
            if deactivating
            else _("This bank account is already active."),
        )
        return redirect(account)
    if request.method == "POST":
        set_bank_account_status(bank_account=account, status=status, by=request.user)
        messages.success(
            request,
            _("Bank account deactivated: it is no longer offered for new payments.")
            if deactivating
            else _("Bank account reactivated: it is offered again for pre-authorized debits."),
        )
        return redirect(account)
    return render(
        request,
        "payments/bank_account_status.html",
        {
            "account": account,
            "importer": account.importer,
            "deactivating": deactivating,
            "consequences": deactivation(account) if deactivating else None,
        },
    )


@login_required
def bank_account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = _get_bank_account(request, pk, Perm.VIEW_FINANCE)
    return _bank_account_page(request, account, full_number=None)


@never_cache
@login_required
@require_POST
def bank_account_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full number, for the importer's BAM (a POST, never cached): ``reveals.reveal`` checks
    the permission (403), records the reveal and tells the importer's other BAMs."""
    account = _get_bank_account(request, pk, Perm.VIEW)  # 404 for another importer's account
    try:
        number = reveals.reveal(
            bank_account=account,
            user=request.user,
            channel=reveals.Channel.PAGE,
            ip=reveals.client_ip(request),
        )
    except access.MFARequired:
        # The BAM without two-factor authentication: the page again, saying how to set it up.
        return _bank_account_page(request, account, full_number=None, status=403)
    return _bank_account_page(request, account, full_number=number)


def _bank_account_page(
    request: HttpRequest, account: BankAccount, *, full_number: str | None, status: int = 200
) -> HttpResponse:
    can_reveal = access.can(request.user, Perm.VIEW_BANK_ACCOUNT, account.importer_id)
    response = render(
        request,
        "payments/bank_account_detail.html",
        {
            "account": account,
            "importer": account.importer,
            "full_number": full_number,
            "can_reveal": can_reveal,
            # A BAM without two-factor authentication is told to set it up instead of a button.
            "reveal_needs_mfa": can_reveal and not access.has_mfa(request.user),
            "reveal_needs_mfa_message": access.MFA_REQUIRED_TO_REVEAL,
            "can_manage": _can_manage_bank_accounts(request.user, account.importer_id),
            "history": history_entries(
                [
                    Source(
                        BankAccount,
                        BankAccount.history.filter(id=account.pk),
                        lambda r: _("Bank account"),
                    )
                ]
            ),
            "history_lead": _(
                "Every change to this bank account (the number itself is never shown here)."
            ),
            # Who was shown the full number, when and how: for everyone who sees the account,
            # broker staff included (they see that it happened, never the number).
            "reveal_log": reveals.reveal_log(account),
            "reveal_log_length": reveals.LOG_LENGTH,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
