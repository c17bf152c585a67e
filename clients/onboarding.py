"""The CARM onboarding checklist: the seven preparedness steps, derived from data where we can.

Steps the importer's records prove are derived every time those records change: 2 BAMs, 3 CCP
profiles, 4 business information and 6 employee access here, from the clients' own records; 1
financial security and 7 broker delegation by the apps that own those records (``payments``,
``delegation``), which register their deriver with ``register_deriver`` in their
``AppConfig.ready`` — clients sits below them and never imports them. The step nobody can observe
(5 registration) is confirmed by a person. A person may also mark any step *blocked*, with a note,
which wins over the derivation until it is cleared: a broker must be able to say "waiting on the
surety" even when the data looks fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from carm_portal import stored_text as later
from carm_portal.bulk import snapshot_history, update_rows
from carm_portal.models import User
from clients.models import Importer, OnboardingStep, PortalUser, ProgramAccount

Step = OnboardingStep.Step
Status = OnboardingStep.Status

RECOMMENDED_BAMS = 2


@dataclass(frozen=True)
class Derivation:
    status: str
    parts: later.Parts  # the summary untranslated (carm_portal/stored_text.py)

    @property
    def summary(self) -> str:
        """The summary in the active language."""
        return later.render(self.parts)


def _bams(importer: Importer, people: list[PortalUser]) -> Derivation:
    bams = [p for p in people if p.ccp_role == PortalUser.CcpRole.BAM]
    ready = [p for p in bams if p.profile_created]
    if len(ready) >= RECOMMENDED_BAMS:
        return Derivation(
            Status.DONE, later.gettext("%(n)d BAMs with a CCP profile.", {"n": len(ready)})
        )
    if not bams:
        return Derivation(
            Status.NOT_STARTED, later.gettext("No Business Account Manager recorded yet.")
        )
    if len(bams) < RECOMMENDED_BAMS:
        return Derivation(
            Status.IN_PROGRESS,
            later.gettext(
                "One BAM recorded; two are recommended (one for payments, one for customs)."
            ),
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.ngettext(
            "%(missing)d BAM has no CCP profile yet.",
            "%(missing)d BAMs have no CCP profile yet.",
            len(bams) - len(ready),
            {"missing": len(bams) - len(ready)},
        ),
    )


def _profiles(importer: Importer, people: list[PortalUser]) -> Derivation:
    if not people:
        return Derivation(Status.NOT_STARTED, later.gettext("No portal users recorded yet."))
    ready = sum(1 for p in people if p.profile_created)
    if ready == len(people):
        return Derivation(
            Status.DONE,
            later.ngettext(
                "The portal user has a CCP profile.",
                "All %(n)d portal users have a CCP profile.",
                ready,
                {"n": ready},
            ),
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.ngettext(
            "%(ready)d of %(total)d portal users has a CCP profile.",
            "%(ready)d of %(total)d portal users have a CCP profile.",
            ready,
            {"ready": ready, "total": len(people)},
        ),
    )


def _business_information(importer: Importer, accounts: list[ProgramAccount]) -> Derivation:
    missing = []
    if not all([importer.legal_name, importer.address_line1, importer.city, importer.province]):
        missing.append(later.gettext("the legal name and address"))
    if not importer.postal_code:
        missing.append(later.gettext("the postal code"))
    if not any(a.status == ProgramAccount.Status.ACTIVE for a in accounts):
        missing.append(later.gettext("an active RM program account"))
    if not missing:
        return Derivation(
            Status.DONE,
            later.gettext("BN9, legal name and address, and an RM account are recorded."),
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.gettext("Missing: %(what)s.", {"what": later.concat(*missing, sep=", ")}),
    )


def _employee_access(importer: Importer, people: list[PortalUser]) -> Derivation:
    if not people:
        return Derivation(Status.NOT_STARTED, later.gettext("No portal users recorded yet."))
    approved = sum(1 for p in people if p.access_approved)
    if approved == len(people):
        return Derivation(
            Status.DONE,
            later.ngettext(
                "The portal user is approved.",
                "All %(n)d portal users are approved.",
                approved,
                {"n": approved},
            ),
        )
    return Derivation(
        Status.IN_PROGRESS,
        later.ngettext(
            "%(approved)d of %(total)d portal users has their access approved.",
            "%(approved)d of %(total)d portal users have their access approved.",
            approved,
            {"approved": approved, "total": len(people)},
        ),
    )


Deriver = Callable[[Importer], Derivation]

# Derivers take the importer with its related rows prefetched (see ``_with_checklist_data``).
# The clients' own steps are here; the others arrive through ``register_deriver``.
DERIVERS: dict[int, Deriver] = {
    Step.BAMS: lambda imp: _bams(imp, list(imp.portal_users.all())),
    Step.CCP_PROFILES: lambda imp: _profiles(imp, list(imp.portal_users.all())),
    Step.BUSINESS_INFORMATION: lambda imp: _business_information(
        imp, list(imp.program_accounts.all())
    ),
    Step.EMPLOYEE_ACCESS: lambda imp: _employee_access(imp, list(imp.portal_users.all())),
}
# What the registered derivers read, prefetched with the checklist (``Importer`` lookups).
_PREFETCH: dict[int, tuple[str, ...]] = {}


def register_deriver(step: int, deriver: Deriver, *, prefetch: tuple[str, ...] = ()) -> None:
    """Let the app that owns a step's records derive it (called from its ``AppConfig.ready``).

    ``deriver`` receives the importer with the checklist's rows and ``prefetch`` (lookups from
    ``Importer``, e.g. ``"delegations__program_accounts"``) prefetched. Registering the same
    deriver again is harmless; a second deriver for one step is a configuration error.
    """
    if DERIVERS.get(step, deriver) is not deriver:
        raise ImproperlyConfigured(f"Onboarding step {step} already has a deriver.")
    DERIVERS[step] = deriver
    _PREFETCH[step] = tuple(prefetch)


MANUAL_SUMMARY: dict[int, dict] = {
    Step.REGISTRATION: later.gettext(
        "Confirmed by a person once the business is registered in the CCP."
    ),
}


def is_derived(step: int) -> bool:
    return step in DERIVERS


def resolve(step: OnboardingStep, derivation: Derivation | None) -> None:
    """Set ``step.status``/``summary``/``derived`` from the derivation and any manual status.

    ``summary`` keeps the English text (history, emails, API); ``summary_parts`` the sentence
    untranslated, so pages show it in the reader's language (``OnboardingStep.summary_text``).
    """
    parts: later.Parts  # a note, a stored sentence, or None (no summary)
    if step.manual_status == Status.BLOCKED:
        step.status, step.derived = Status.BLOCKED, False
        parts = step.note[:255] if step.note else later.gettext("Blocked.")
    elif derivation is not None:
        step.status, parts, step.derived = derivation.status, derivation.parts, True
    else:
        step.status = step.manual_status or Status.NOT_STARTED
        parts, step.derived = MANUAL_SUMMARY.get(step.step), False
    step.summary, step.summary_parts = later.render_stored(parts)[:255], parts


def _written(step: OnboardingStep) -> tuple[object, ...]:
    """What a refresh writes: compared before and after, so unchanged rows are not touched."""
    return (step.status, step.summary, step.summary_parts, step.derived)


def _with_checklist_data(importers: Iterable[Importer] | None = None):
    qs = Importer.objects.prefetch_related(
        Prefetch("portal_users", queryset=PortalUser.objects.order_by("id")),
        Prefetch("program_accounts", queryset=ProgramAccount.objects.order_by("id")),
        Prefetch("onboarding_steps", queryset=OnboardingStep.objects.order_by("step")),
        *(lookup for step in sorted(_PREFETCH) for lookup in _PREFETCH[step]),
    )
    if importers is not None:
        qs = qs.filter(pk__in=[i.pk for i in importers])
    return qs


def refresh_checklists(
    importers: Iterable[Importer] | None = None, *, batch_size: int = 500
) -> int:
    """Re-derive the checklist of the given importers (all when ``None``); return rows changed.

    Idempotent and set-based: a handful of queries per batch whatever the number of importers,
    and rows are written only when something changed (so history stays meaningful).
    """
    changed = 0
    qs = _with_checklist_data(importers).order_by("pk")
    last_pk = 0
    while True:
        batch_pks = list(qs.filter(pk__gt=last_pk).values_list("pk", flat=True)[:batch_size])
        if not batch_pks:
            return changed
        last_pk = batch_pks[-1]
        try:
            changed += _refresh_batch(qs.filter(pk__in=batch_pks))
        except IntegrityError:
            # Another process created some of these rows meanwhile: derive again from them.
            changed += _refresh_batch(qs.filter(pk__in=batch_pks))


@transaction.atomic
def _refresh_batch(importers: QuerySet[Importer]) -> int:
    to_create: list[OnboardingStep] = []
    to_update: list[OnboardingStep] = []
    now = timezone.now()
    for importer in importers:
        existing = {s.step: s for s in importer.onboarding_steps.all()}
        for step_no in Step.values:
            row = existing.get(step_no) or OnboardingStep(importer=importer, step=step_no)
            before = _written(row)
            deriver = DERIVERS.get(step_no)
            resolve(row, deriver(importer) if deriver else None)
            if row.pk is None:
                to_create.append(row)
            elif before != _written(row):
                row.updated_at = now
                to_update.append(row)
    # Batched, with history rows for each change (ids come back from the insert, so
    # simple-history needs no lookup of what it just wrote).
    if to_create:
        bulk_create_with_history(to_create, OnboardingStep, batch_size=1000)
    if to_update:
        bulk_update_with_history(
            to_update,
            OnboardingStep,
            ["status", "summary", "summary_parts", "derived", "updated_at"],
            batch_size=1000,
        )
    return len(to_create) + len(to_update)


def apply_derivations(
    step: int, derivations: dict[int, Derivation], rows: QuerySet[OnboardingStep]
) -> int:
    """Write one step's new derivation for many importers (importer id -> derivation), with
    history, in a constant number of set-based statements; return the rows changed.

    ``rows`` selects the step rows of those importers (by a join, not a list of ids, so the
    query does not grow with them). Used by jobs that already hold the facts — the delegation
    sweep for step 7 — so that expiring 15,000 delegations does not reload 15,000 checklists.
    """
    now = timezone.now()
    changed: list[tuple[object, ...]] = []
    seen: set[int] = set()
    for row in rows.filter(step=step):
        seen.add(row.importer_id)
        before = _written(row)
        resolve(row, derivations[row.importer_id])
        if before != _written(row):
            changed.append(
                (row.status, row.summary, later.dumps(row.summary_parts), row.derived, now, row.pk)
            )
    if changed:
        update_rows(
            OnboardingStep,
            ["status", "summary", "summary_parts", "derived", "updated_at"],
            changed,
        )
        snapshot_history(
            OnboardingStep.objects.filter(step=step, updated_at=now), history_type="~", when=now
        )
    missing = set(derivations) - seen  # importers whose checklist was never built
    if missing:
        refresh_checklists(Importer.objects.filter(pk__in=missing))
    return len(changed)


def refresh_checklist(importer: Importer) -> None:
    refresh_checklists([importer])


@transaction.atomic
def set_step_status(
    *,
    importer: Importer,
    step: int,
    status: str,
    by: User,
    note: str = "",
    completed_on: date | None = None,
) -> OnboardingStep:
    """Record a person's word on a step: a confirmation, a block, or clearing a block.

    On a derived step only ``blocked`` (or clearing it, with an empty status) is accepted: the
    data decides the rest, so nobody can tick "two BAMs" while only one is recorded.
    """
    row, _created = OnboardingStep.objects.select_for_update().get_or_create(
        importer=importer, step=step
    )
    if is_derived(step) and status not in ("", Status.BLOCKED):
        raise ValueError(
            _("Step %(step)d follows the importer's records; update them instead.") % {"step": step}
        )
    row.manual_status = status
    row.note = note
    row.completed_on = completed_on if status == Status.DONE else None
    row.confirmed_by = by
    row.confirmed_at = timezone.now()
    row.save()
    refresh_checklist(importer)
    row.refresh_from_db()
    return row


def checklist(importer: Importer) -> list[OnboardingStep]:
    """All seven steps of one importer, in order; a step with no row yet is not started.

    The one reading of the checklist: the importer's home ("2 of 7 done"), the broker's importer
    page and the onboarding wizard's step bar all count from it. Uses prefetched
    ``onboarding_steps`` when there are some.
    """
    rows = {row.step: row for row in importer.onboarding_steps.all()}
    return [
        rows.get(step) or OnboardingStep(importer=importer, step=step, status=Status.NOT_STARTED)
        for step in Step.values
    ]


def progress(steps: Iterable[OnboardingStep]) -> tuple[int, int]:
    """(done, total) for a prefetched checklist; a missing row counts as not started."""
    done = sum(1 for s in steps if s.status == Status.DONE)
    return done, len(Step.values)


# --- Stalled onboarding ------------------------------------------------------------------------------

STALLED_STATUSES = (Importer.Status.PROSPECT, Importer.Status.ONBOARDING)


def stalled_onboarding(
    importers: QuerySet[Importer], *, today: date, days: int
) -> QuerySet[Importer]:
    """Importers still onboarding that have had no step done in the last ``days`` days.

    An importer created within the window is not stalled yet; one with all seven steps done is
    not onboarding any more, whatever its status says. A step counts as done on its completion
    date (a person's confirmation) or, for a step derived from data, when its row last changed.
    """
    cutoff = today - timedelta(days=days)
    recent = OnboardingStep.objects.filter(
        Q(completed_on__gt=cutoff) | Q(completed_on=None, updated_at__date__gt=cutoff),
        importer=OuterRef("pk"),
        status=OnboardingStep.Status.DONE,
    )
    finished = (
        OnboardingStep.objects.filter(status=OnboardingStep.Status.DONE)
        .values("importer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=len(OnboardingStep.Step.values))
        .values("importer_id")
    )
    return (
        importers.filter(status__in=STALLED_STATUSES, created_at__date__lte=cutoff)
        .exclude(Exists(recent))
        .exclude(pk__in=finished)
    )
