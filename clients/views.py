"""Pages of the clients app: the broker dashboard (the home page of broker staff), the importer
list, detail and forms. Thin function views; every one asks ``clients.access`` what the user may do.

List pages run in a constant number of queries: progress is annotated in SQL and the checklist rows
behind the progress bars come in one prefetch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carm_portal.history import HistoryEntry, Source, history_entries, records_of
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.worker_health import worker_health
from clients import access, onboarding
from clients.access import GlobalPerm, Perm
from clients.forms import (
    ImporterFilterForm,
    ImporterForm,
    PortalUserForm,
    ProgramAccountForm,
    StepForm,
)
from clients.models import Importer, OnboardingStep, PortalUser, ProgramAccount
from clients.onboarding import is_derived, set_step_status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAGE_SIZE = 50
DASHBOARD_ROWS = 10
HISTORY_LIMIT = 20
STEPS = OnboardingStep.Step
STEP_STATUS = OnboardingStep.Status


# --- Shared query helpers -------------------------------------------------------------------------


def with_progress(queryset: QuerySet[Importer]) -> QuerySet[Importer]:
    """Annotate ``steps_done`` (checklist steps done, 0-7) in SQL.

    A subquery per importer rather than a join and GROUP BY: PostgreSQL then computes it only
    for the rows a page shows (unless the page sorts by it), and the paginator's COUNT leaves it
    out. The join made every page of /clients/ group all 70,000 checklist rows of 10,000
    importers, twice (the page and its count).
    """
    done = (
        OnboardingStep.objects.filter(importer=OuterRef("pk"), status=STEP_STATUS.DONE)
        .order_by()
        .values("importer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(steps_done=Coalesce(Subquery(done), 0))


def checklist_prefetch() -> Prefetch:
    """The seven step rows behind a progress bar, in one query for a whole page of importers,
    as a plain list (``importer.checklist_rows``): a related manager's queryset per importer
    cost more than the rows themselves."""
    return Prefetch(
        "onboarding_steps",
        queryset=OnboardingStep.objects.only("id", "importer_id", "step", "status").order_by(
            "step"
        ),
        to_attr="checklist_rows",
    )


def checklist_statuses(importer_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """The (step, status) of each importer's checklist rows, for the list's progress bars: one
    query of three columns (what ``checklist_prefetch`` reads, without a model instance and the
    prefetch's machinery per row, which cost a seventh of the list page's Python). No query for
    no importers."""
    statuses: dict[int, list[tuple[int, str]]] = {pk: [] for pk in importer_ids}
    if statuses:
        for importer_id, step, status in (
            OnboardingStep.objects.filter(importer_id__in=importer_ids)
            .order_by()
            .values_list("importer_id", "step", "status")
        ):
            statuses[importer_id].append((step, status))
    return statuses


def _my_clients(queryset: QuerySet[Importer], user: Any) -> QuerySet[Importer]:
    return queryset.filter(
        pk__in=Importer.objects.filter(access.my_clients_filter(user)).values("pk")
    )


def _checklist(importer: Importer) -> list[OnboardingStep]:
    """All seven steps, in order; a step with no row yet shows as not started."""
    return onboarding.checklist(importer)


# --- Onboarding dashboard (broker staff; the home page "/" is the Today view) --------------------


@dataclass
class StepBar:
    """One row of the dashboard chart: how many importers are at each status of one step."""

    step: int
    label: StrOrPromise
    done: int = 0
    in_progress: int = 0
    blocked: int = 0
    total: int = 0
    segments: list[tuple[str, int, int]] = field(default_factory=list)  # (class, x, width) in %

    def layout(self) -> None:
        x = 0
        for name, count in (
            ("done", self.done),
            ("in_progress", self.in_progress),
            ("blocked", self.blocked),
        ):
            width = round(100 * count / self.total) if self.total else 0
            width = min(width, 100 - x)
            if width:
                self.segments.append((name, x, width))
            x += width


@login_required
def onboarding_dashboard(request: HttpRequest) -> HttpResponse:
    """Onboarding across the portfolio and the agent's clients (broker staff; linked from Today)."""
    user = request.user
    access.require_global(user, GlobalPerm.VIEW_PORTFOLIO)
    importers = access.visible_importers(user)

    by_status = dict(
        importers.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    total = sum(by_status.values())
    statuses = [(value, label, by_status.get(value, 0)) for value, label in Importer.Status.choices]

    bars = {step: StepBar(step=step, label=label, total=total) for step, label in STEPS.choices}
    step_counts = (
        access.scope(OnboardingStep.objects.all(), user)
        .exclude(status=STEP_STATUS.NOT_STARTED)
        .order_by()
        .values_list("step", "status")
        .annotate(n=Count("id"))
    )
    for step, status, n in step_counts:
        if step in bars and status in ("done", "in_progress", "blocked"):
            setattr(bars[step], status, n)
    for bar in bars.values():
        bar.layout()
    blocked_importers = (
        access.scope(OnboardingStep.objects.filter(status=STEP_STATUS.BLOCKED), user)
        .values("importer_id")
        .distinct()
        .count()
    )

    rows = (
        with_progress(importers)
        .select_related("assigned_agent")
        .prefetch_related(checklist_prefetch())
    )
    my_count = _my_clients(importers, user).count()
    my_clients = list(
        _my_clients(rows, user).order_by("steps_done", "legal_name", "pk")[:DASHBOARD_ROWS]
    )
    least_advanced = list(
        rows.exclude(status=Importer.Status.INACTIVE).order_by("steps_done", "legal_name", "pk")[
            :DASHBOARD_ROWS
        ]
    )
    return render(
        request,
        "clients/dashboard.html",
        {
            "worker_health": worker_health(),  # staff only: this is the broker staff's home
            "total": total,
            "statuses": statuses,
            "step_bars": list(bars.values()),
            "blocked_importers": blocked_importers,
            "my_clients": my_clients,
            "my_count": my_count,
            "least_advanced": least_advanced,
            "can_create": access.can_global(user, GlobalPerm.CREATE_IMPORTER),
        },
    )


# --- Importer list --------------------------------------------------------------------------------


#: What a row of the list shows (``clients/templatetags/client_rows.py``): compiling and reading
#: the importer's and the agent's other 28 columns for 50 rows cost Python for nothing.
LIST_COLUMNS = (
    "legal_name",
    "operating_name",
    "bn9",
    "status",
    "assigned_agent",
    "assigned_agent__full_name",
    "assigned_agent__email",
)


@login_required
def importer_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = ImporterFilterForm(request.GET, user=user)
    importers = form.filter_queryset(access.visible_importers(user))
    importers = (
        with_progress(importers)
        .select_related("assigned_agent")
        .only(*LIST_COLUMNS)
        .order_by(*form.ordering())
    )
    page = Paginator(importers, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    statuses = checklist_statuses([importer.pk for importer in rows])
    for importer in rows:
        importer.checklist_statuses = statuses[importer.pk]  # for the rows
    return render(
        request,
        "clients/importer_list.html",
        {
            "form": form,
            "page": page,
            "importers": rows,
            "can_create": access.can_global(user, GlobalPerm.CREATE_IMPORTER),
        },
    )


# --- Importer create / detail / edit --------------------------------------------------------------


@login_required
def importer_create(request: HttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.CREATE_IMPORTER)
    initial = {}
    if access.is_broker_agent(request.user):
        initial["assigned_agent"] = request.user.pk
    form = ImporterForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        importer = form.save()
        messages.success(request, _("Importer %(name)s created.") % {"name": importer})
        return redirect(importer)
    return render(request, "clients/importer_form.html", {"form": form, "importer": None})


@login_required
def importer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, pk, Perm.MANAGE_CLIENT)
    form = ImporterForm(request.POST if request.method == "POST" else None, instance=importer)
    if form.is_bound and form.is_valid():
        importer = form.save()
        messages.success(request, _("Importer %(name)s saved.") % {"name": importer})
        return redirect(importer)
    return render(request, "clients/importer_form.html", {"form": form, "importer": importer})


@login_required
def importer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, pk, Perm.VIEW)
    return _render_detail(request, importer)


def _render_detail(
    request: HttpRequest,
    importer: Importer,
    *,
    bound_step_form: StepForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    prefetch_related_objects(
        [importer],
        "assigned_agent",
        "client_group",
        Prefetch("program_accounts", queryset=ProgramAccount.objects.order_by("bn15")),
        Prefetch(
            "portal_users",
            queryset=PortalUser.objects.select_related("program_account").order_by(
                "full_name", "id"
            ),
        ),
        Prefetch(
            "onboarding_steps",
            queryset=OnboardingStep.objects.select_related("confirmed_by").order_by("step"),
        ),
    )
    can_manage = access.can(user, Perm.MANAGE_CLIENT, importer)
    steps = []
    for row in _checklist(importer):
        form = None
        if can_manage:
            if bound_step_form is not None and bound_step_form.step == row.step:
                form = bound_step_form
            else:
                form = StepForm.for_row(row)
        steps.append({"row": row, "form": form, "derived": is_derived(row.step)})
    is_broker = access.is_broker(user)
    return render(
        request,
        "clients/importer_detail.html",
        {
            "importer": importer,
            "checklist": [s["row"] for s in steps],
            "steps": steps,
            "accounts": importer.program_accounts.all(),
            "people": importer.portal_users.all(),
            "history": importer_history(importer, include_notes=is_broker),
            "can_manage": can_manage,
            "can_manage_people": access.can(user, Perm.MANAGE_PEOPLE, importer),
            "show_notes": is_broker,
            "step_form": bound_step_form,
        },
        status=status,
    )


@login_required
@require_POST
def step_update(request: AuthenticatedHttpRequest, pk: int, step: int) -> HttpResponse:
    importer = access.get_importer(request.user, pk, Perm.MANAGE_CLIENT)
    if step not in STEPS.values:
        raise Http404(_("No such step."))
    form = StepForm(request.POST, step=step)
    if form.is_valid():
        try:
            row = set_step_status(
                importer=importer,
                step=step,
                status=form.cleaned_data["status"],
                by=request.user,
                note=form.cleaned_data["note"],
                completed_on=form.cleaned_data.get("completed_on"),
            )
        except ValueError as exc:
            form.add_error("status", str(exc))
        else:
            messages.success(
                request,
                _("Step %(step)d, %(name)s: %(status)s.")
                % {
                    "step": step,
                    "name": row.get_step_display(),
                    "status": row.get_status_display(),
                },
            )
            return redirect(f"{importer.get_absolute_url()}#step-{step}")
    return _render_detail(request, importer, bound_step_form=form)


# --- Program accounts and portal users ------------------------------------------------------------


@login_required
def account_create(request: HttpRequest, pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, pk, Perm.MANAGE_CLIENT)
    return _account_form(request, importer, None)


@login_required
def account_edit(request: HttpRequest, pk: int, account_id: int) -> HttpResponse:
    importer = access.get_importer(request.user, pk, Perm.MANAGE_CLIENT)
    account = access.get_scoped(
        ProgramAccount.objects.filter(importer=importer),
        request.user,
        account_id,
        Perm.MANAGE_CLIENT,
    )
    return _account_form(request, importer, account)


def _account_form(
    request: HttpRequest, importer: Importer, account: ProgramAccount | None
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = ProgramAccountForm(data, importer=importer, **({"instance": account} if account else {}))
    if form.is_bound and form.is_valid():
        account = form.save()
        messages.success(request, _("Program account %(bn15)s saved.") % {"bn15": account.bn15})
        return redirect(importer)
    return render(
        request,
        "clients/account_form.html",
        {"form": form, "importer": importer, "account": account},
    )


@login_required
def person_create(request: HttpRequest, pk: int) -> HttpResponse:
    importer = access.get_importer(request.user, pk, Perm.MANAGE_PEOPLE)
    return _person_form(request, importer, None)


@login_required
def person_edit(request: HttpRequest, pk: int, person_id: int) -> HttpResponse:
    importer = access.get_importer(request.user, pk, Perm.MANAGE_PEOPLE)
    person = access.get_scoped(
        PortalUser.objects.filter(importer=importer), request.user, person_id, Perm.MANAGE_PEOPLE
    )
    return _person_form(request, importer, person)


def _person_form(
    request: HttpRequest, importer: Importer, person: PortalUser | None
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = PortalUserForm(data, importer=importer, **({"instance": person} if person else {}))
    if form.is_bound and form.is_valid():
        person = form.save()
        messages.success(request, _("Portal user %(name)s saved.") % {"name": person.full_name})
        return redirect(importer)
    return render(
        request,
        "clients/person_form.html",
        {"form": form, "importer": importer, "person": person},
    )


# --- History ---------------------------------------------------------------------------------

HISTORY_HIDDEN_FIELDS = {
    "confirmed_at",
    "confirmed_by",
    "derived",
    "manual_status",  # the step's status says it
}
HISTORY_MERGE_WINDOW = timedelta(seconds=5)


def _step_subject(record: Any) -> str:
    name = STEPS(record.step).label if record.step in STEPS.values else record.step
    return _("Step %(step)d, %(name)s") % {"step": record.step, "name": name}


def importer_history(importer: Importer, *, include_notes: bool) -> list[HistoryEntry]:
    """The latest changes to the importer, its accounts, people and checklist, newest first.

    The seven "not started" rows every new importer gets are left out, and a person's save with
    the re-derivation it triggers (same object, same person, same moment) shows as one change.
    """
    sources = [
        Source(Importer, records_of(Importer).filter(id=importer.pk), lambda r: _("Importer")),
        Source(
            ProgramAccount,
            records_of(ProgramAccount).filter(importer_id=importer.pk),
            lambda r: _("Program account %(bn15)s") % {"bn15": r.bn15},
        ),
        Source(
            PortalUser,
            records_of(PortalUser).filter(importer_id=importer.pk),
            lambda r: _("Portal user %(name)s") % {"name": r.full_name},
        ),
        Source(
            OnboardingStep,
            records_of(OnboardingStep)
            .filter(importer_id=importer.pk)
            .exclude(history_type="+", status=STEP_STATUS.NOT_STARTED),
            _step_subject,
        ),
    ]
    hidden = HISTORY_HIDDEN_FIELDS | (set() if include_notes else {"notes"})
    entries = history_entries(sources, hidden=hidden, limit=HISTORY_LIMIT * 2)
    return _merge_same_edits(entries)[:HISTORY_LIMIT]


def _merge_same_edits(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    changed = _("changed")
    merged: list[HistoryEntry] = []
    for entry in entries:  # newest first
        newer = merged[-1] if merged else None
        if (
            newer is not None
            and entry.action == newer.action == changed
            and entry.subject == newer.subject
            and entry.who == newer.who
            and newer.when - entry.when <= HISTORY_MERGE_WINDOW
        ):
            position = {label: i for i, (label, _old, _new) in enumerate(newer.changes)}
            for label, old, new in entry.changes:
                if label in position:
                    i = position[label]
                    newer.changes[i] = (label, old, newer.changes[i][2])
                else:
                    newer.changes.append((label, old, new))
            newer.changes = [c for c in newer.changes if c[1] != c[2]]
            continue
        merged.append(entry)
    return merged
