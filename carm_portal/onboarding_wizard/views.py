"""The self-service onboarding wizard's pages: one page per CARM preparedness step.

A hand-written step view over ``OnboardingWizard`` rather than formtools' session storage, because
the progress must survive a logout and a change of device: every submission stores the step's
answers in the database (``data[slug]``: what was typed, whether it was valid, and what applying
it produced), valid or not, and remembers the step (``current_step``). So:

* "Save and continue" applies a valid step at once (``steps``), then moves to the next
  unfinished step; an invalid one re-shows the page with what was typed and its errors, and keeps
  the draft for next time;
* "Save and finish later" keeps the answers (applying them when valid) and leaves;
* the step bar links every step, in any order; ``onboarding:wizard`` resumes where the person was;
* ``onboarding:done`` reviews the seven steps, finishes (checklist re-derived, the assigned agent
  told once) and then summarises.

Every page asks ``clients.access`` for ``Perm.ONBOARD``: an importer's BAM, a broker admin or
agent. Another importer's people get a 404, the importer's employee and finance members a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from carm_portal.calendar import cbsa_today
from carm_portal.http import AuthenticatedHttpRequest, HtmxHttpRequest
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms import (
    FORMS,
    PeopleForm,
    WizardForm,
    check_accounts,
    check_bn9,
    parse_accounts,
)
from clients import access, onboarding
from clients.access import Perm
from clients.models import Importer, OnboardingStep, OnboardingWizard

# --- Storage: the wizard row --------------------------------------------------------------------


def _wizard(importer: Importer, *, lock: bool = False) -> OnboardingWizard:
    wizard, _created = OnboardingWizard.objects.get_or_create(importer=importer)
    if lock:
        wizard = OnboardingWizard.objects.select_for_update().get(pk=wizard.pk)
    wizard.importer = importer
    return wizard


def _form_kwargs(
    request: AuthenticatedHttpRequest, importer: Importer, entry: dict[str, Any]
) -> dict:
    return {"importer": importer, "user": request.user, "today": cbsa_today(), "saved": entry}


def _typed(form: WizardForm, data: MultiValueDict) -> dict[str, list[str]]:
    """What the person typed into this form's fields (no token, no buttons, no files)."""
    names = [form.add_prefix(name) for name in form.fields]
    return {name: data.getlist(name) for name in names if name in data}


def _initial(form_class: type[WizardForm], kwargs: dict, entry: dict[str, Any]) -> dict:
    """The records' values, overlaid with what was typed last time (valid or draft)."""
    probe = form_class(**kwargs)
    initial = form_class.initial_from_records(kwargs["importer"], kwargs["user"], kwargs["today"])
    post = entry.get("post")
    if post is None or (entry.get("complete") and issubclass(form_class, PeopleForm)):
        return initial  # a person's row follows their record once the step is applied
    data = MultiValueDict(post)
    for name in entry.get("fields", ()):
        field = probe.fields.get(name)
        if field is None or field.disabled or field.widget.needs_multipart_form:
            continue
        initial[name] = field.widget.value_from_datadict(data, MultiValueDict(), name)
    return initial


def _store(
    wizard: OnboardingWizard,
    slug: str,
    *,
    form: WizardForm,
    data: MultiValueDict,
    complete: bool,
    keep: dict[str, Any] | None,
    user: Any,
) -> None:
    entry = dict((wizard.data or {}).get(slug, {}))
    entry.update(keep or {})
    entry["post"] = _typed(form, data)
    entry["fields"] = list(form.fields)
    entry["complete"] = complete
    entry["saved_at"] = timezone.now().isoformat()
    wizard.data = {**(wizard.data or {}), slug: entry}
    done = [s for s in (wizard.completed_steps or []) if s != slug]
    if complete:
        done.append(slug)
    wizard.completed_steps = [s for s in steps.SLUGS if s in done]
    wizard.updated_by = user
    wizard.save()


# --- Page context -----------------------------------------------------------------------------------


def _step_states(
    importer: Importer, wizard: OnboardingWizard, current: str | None, rows: list[OnboardingStep]
) -> list[dict]:
    """Each step as the checklist records it (the same rows the home page counts), with the
    wizard's own news on top: a draft that still has errors, an answer the records do not yet
    show as done (a security "not yet", say)."""
    answered = set(wizard.completed_steps or ())
    data = wizard.data or {}
    status_of = {row.step: row for row in rows}
    items = []
    for s in steps.STEPS:
        row = status_of[s.number]
        if s.slug in data and s.slug not in answered:
            state, label = "draft", _("needs your attention")
        elif row.status == OnboardingStep.Status.DONE:
            state, label = "done", _("done")
        elif row.status == OnboardingStep.Status.BLOCKED:
            state, label = "blocked", _("blocked")
        elif s.slug in answered:
            state, label = "answered", _("answered")
        elif row.status == OnboardingStep.Status.IN_PROGRESS:
            state, label = "progress", _("in progress")
        else:
            state, label = "todo", _("not started")
        items.append(
            {
                "step": s,
                "url": reverse("onboarding:step", args=[importer.pk, s.slug]),
                "state": state,
                "state_label": label,
                "current": s.slug == current,
            }
        )
    return items


def _context(
    importer: Importer, wizard: OnboardingWizard, current: str | None, rows: list[OnboardingStep]
) -> dict[str, Any]:
    done, total = onboarding.progress(rows)
    return {
        "importer": importer,
        "wizard": wizard,
        "step_bar": _step_states(importer, wizard, current, rows),
        "done": done,
        "total": total,
    }


# --- Pages ----------------------------------------------------------------------------------------


def _leave(request: HttpRequest, importer: Importer) -> HttpResponse:
    """Where "Save and finish later" goes: the importer's home, or the broker's importer page."""
    if access.is_broker(request.user):
        return redirect(importer.get_absolute_url())
    return redirect("home")


@login_required
def resume(request: HttpRequest, importer_pk: int) -> HttpResponse:
    """Continue where this importer's wizard was left (by anyone, on any device)."""
    importer = access.get_importer(request.user, importer_pk, Perm.ONBOARD)
    wizard = _wizard(importer)
    if wizard.finished_at and not wizard.current_step:
        return redirect("onboarding:done", importer.pk)
    done = steps.settled(wizard, onboarding.checklist(importer))
    return redirect("onboarding:step", importer.pk, steps.resume_step(wizard, done=done).slug)


@login_required
@require_http_methods(["GET", "POST"])
def step(request: AuthenticatedHttpRequest, importer_pk: int, step_slug: str) -> HttpResponse:
    importer = access.get_importer(request.user, importer_pk, Perm.ONBOARD)
    current = steps.step_by_slug(step_slug)
    if current is None:
        raise Http404(_("No such step."))
    form_class = FORMS[current.slug]
    wizard = _wizard(importer, lock=request.method == "POST")
    entry = (wizard.data or {}).get(current.slug, {})
    kwargs = _form_kwargs(request, importer, entry)

    if request.method == "POST":
        later = "save_later" in request.POST
        form = form_class(request.POST, request.FILES, **kwargs)
        if form.is_valid():
            outcome = form.apply(by=request.user)
            _store(
                wizard,
                current.slug,
                form=form,
                data=request.POST,
                complete=True,
                keep=outcome.keep,
                user=request.user,
            )
            for warning in outcome.warnings:
                messages.warning(request, warning)
            if later:
                wizard.current_step = current.slug
                wizard.save(update_fields=["current_step", "updated_at"])
                messages.success(request, _("Saved. Come back any time to continue."))
                return _leave(request, importer)
            done = steps.settled(wizard, onboarding.checklist(importer))
            following = steps.next_step(wizard, after=current.slug, done=done)
            wizard.current_step = following.slug if following else ""
            wizard.save(update_fields=["current_step", "updated_at"])
            messages.success(request, _("Step %(n)d saved.") % {"n": current.number})
            if following is None:
                return redirect("onboarding:done", importer.pk)
            return redirect("onboarding:step", importer.pk, following.slug)
        _store(
            wizard,
            current.slug,
            form=form,
            data=request.POST,
            complete=False,
            keep=form.salvage(),
            user=request.user,
        )
        wizard.current_step = current.slug
        wizard.save(update_fields=["current_step", "updated_at"])
        if later:
            messages.warning(
                request,
                _(
                    "Saved. Step %(n)d still has something to correct; it is marked on the step "
                    "bar when you come back."
                )
                % {"n": current.number},
            )
            return _leave(request, importer)
        status = 200
    else:
        form = form_class(initial=_initial(form_class, kwargs, entry), **kwargs)
        if wizard.current_step != current.slug and not wizard.finished_at:
            OnboardingWizard.objects.filter(pk=wizard.pk).update(current_step=current.slug)
        status = 200

    index = steps.SLUGS.index(current.slug)
    context = _context(importer, wizard, current.slug, onboarding.checklist(importer))
    context.update(
        {
            "step": current,
            "form": form,
            "entry": entry,
            "previous": steps.STEPS[index - 1] if index else None,
            "is_last": index == len(steps.STEPS) - 1,
            "today": kwargs["today"],
        }
    )
    return render(request, f"clients/wizard/step_{current.slug}.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def done(request: AuthenticatedHttpRequest, importer_pk: int) -> HttpResponse:
    """Review and finish (POST), then the summary of what was recorded."""
    importer = access.get_importer(request.user, importer_pk, Perm.ONBOARD)
    wizard = _wizard(importer, lock=request.method == "POST")
    rows = onboarding.checklist(importer)
    if request.method == "POST":
        if not steps.all_done(wizard, done=steps.settled(wizard, rows)):
            messages.error(request, _("Answer every step before finishing."))
            return redirect("onboarding:done", importer.pk)
        if steps.finish(wizard=wizard, by=request.user):
            messages.success(
                request,
                _("Onboarding finished. Your broker has been told and will check the details."),
            )
        else:
            messages.info(request, _("Your changes are saved; onboarding was already finished."))
        return redirect("onboarding:done", importer.pk)
    context = _context(importer, wizard, None, rows)
    context.update(
        {
            "ready": steps.all_done(wizard, done=steps.settled(wizard, rows)),
            "checklist": rows,
            "statement": (wizard.data or {}).get("business", {}).get("statement_file"),
            "broker_retrieves": (wizard.data or {}).get("business", {}).get("broker_retrieves"),
            "can_download": access.can(request.user, Perm.VIEW_FINANCE, importer),
        }
    )
    return render(request, "clients/wizard/done.html", context)


@login_required
def statement_file(request: HttpRequest, importer_pk: int) -> FileResponse:
    """The statement of account the importer uploaded in step 4, for the broker (and them)."""
    importer = access.get_importer(request.user, importer_pk, Perm.VIEW_FINANCE)
    wizard = OnboardingWizard.objects.filter(importer=importer).first()
    stored = ((wizard.data or {}).get("business", {}) if wizard else {}).get("statement_file")
    if not stored or not default_storage.exists(stored["path"]):
        raise Http404(_("No statement was uploaded."))
    return FileResponse(
        default_storage.open(stored["path"], "rb"), as_attachment=True, filename=stored["name"]
    )


# --- Live validation (HTMX) -------------------------------------------------------------------------

LIVE_FIELDS = ("bn9", "accounts")


def _live_errors(field: str, data: Any, importer: Importer) -> list[str]:
    bn9 = None
    try:
        bn9 = check_bn9(data.get("bn9", ""), importer)
    except ValidationError as exc:
        if field == "bn9":
            return exc.messages
    if field == "bn9":
        return []
    raw = parse_accounts(data.get("accounts", ""))
    if not raw:
        return [_("Enter your RM program account: imports are declared on it.")]
    return check_accounts(raw, importer, bn9)[1]


@login_required
@require_POST
def validate_field(request: HtmxHttpRequest, importer_pk: int) -> HttpResponse:
    """Check the BN9 or the RM accounts as they are typed (step 4), with the rules the form uses.

    HTMX gets the message fragment to swap in (always 200, so it is swapped); any other caller
    gets JSON: ``{"ok": true}`` or 400 with ``{field: [messages]}``.
    """
    importer = access.get_importer(request.user, importer_pk, Perm.ONBOARD)
    field = request.POST.get("field", "")
    if field not in LIVE_FIELDS:
        return JsonResponse({"field": [_("Choose bn9 or accounts.")]}, status=400)
    errors = _live_errors(field, request.POST, importer)
    if request.htmx:
        html = render_to_string(
            "clients/wizard/_live.html", {"field": field, "errors": errors}, request=request
        )
        return HttpResponse(html)
    if errors:
        return JsonResponse({field: errors}, status=400)
    return JsonResponse({"ok": True})
