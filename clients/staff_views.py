"""The staff and client-group pages (broker admins: ``GlobalPerm.MANAGE_USERS``), instead of the
Django admin. Thin views: ``clients.staff`` and ``clients.groups`` do the work."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carm_portal.http import AuthenticatedHttpRequest
from clients import access, groups, staff
from clients.access import BROKER_ROLE_LABELS, GlobalPerm
from clients.models import ClientGroup, StaffEvent
from clients.staff_forms import (
    NO_AGENT,
    NO_GROUP,
    DeactivateForm,
    GroupForm,
    InviteStaffForm,
    MoveForm,
    RolesForm,
)

EVENTS_SHOWN = 50


def _staff_member(pk: int):
    user = access.broker_staff(active_only=False).filter(pk=pk).first()
    if user is None:
        raise Http404(_("No such staff member."))
    return user


def _errors(form, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error(None, message)


@login_required
def staff_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_USERS)
    form = InviteStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = staff.invite_staff(
                email=data["email"],
                full_name=data["full_name"],
                roles=data["roles"],
                by=request.user,
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            reset = ResetPasswordForm(data={"email": user.email})
            if reset.is_valid():
                reset.save(request)
            messages.success(
                request,
                _(
                    "%(email)s is invited: they choose a password from the email, then set up "
                    "two-factor authentication."
                )
                % {"email": user.email},
            )
            return redirect("staff:list")
    people = [
        (person, [str(BROKER_ROLE_LABELS[r]) for r in sorted(access.staff_roles_of(person))])
        for person in access.broker_staff(active_only=False)
        .prefetch_related("groups")
        .annotate(n_clients=Count("assigned_importers", distinct=True))
    ]
    return render(
        request,
        "clients/staff/list.html",
        {
            "form": form,
            "people": people,
            "events": StaffEvent.objects.select_related("by", "subject", "group")[:EVENTS_SHOWN],
        },
    )


@login_required
def staff_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_USERS)
    person = _staff_member(pk)
    held = sorted(access.staff_roles_of(person))
    roles_form = RolesForm(
        request.POST if request.POST.get("action") == "roles" else None,
        initial={"roles": [r.value for r in held]},
    )
    deactivate_form = DeactivateForm(
        request.POST if request.POST.get("action") == "deactivate" else None, user=person
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "roles" and roles_form.is_valid():
                staff.set_roles(
                    user=person, roles=roles_form.cleaned_data["roles"], by=request.user
                )
                messages.success(request, _("Roles saved."))
                return redirect("staff:detail", pk=person.pk)
            if request.POST.get("action") == "deactivate" and deactivate_form.is_valid():
                moved = staff.deactivate(
                    user=person,
                    successor=deactivate_form.cleaned_data["successor"],
                    by=request.user,
                )
                messages.success(
                    request,
                    _("%(email)s is deactivated; %(n)d importers handed over.")
                    % {"email": person.email, "n": moved},
                )
                return redirect("staff:list")
        except ValidationError as error:
            _errors(roles_form if request.POST.get("action") == "roles" else deactivate_form, error)
    return render(
        request,
        "clients/staff/detail.html",
        {
            "person": person,
            "roles": [str(BROKER_ROLE_LABELS[r]) for r in held],
            "roles_form": roles_form,
            "deactivate_form": deactivate_form,
            "client_count": person.assigned_importers.count(),
            "groups": list(person.client_groups.order_by("name")),
            "events": StaffEvent.objects.filter(subject=person).select_related("by")[:EVENTS_SHOWN],
            "is_self": person == request.user,
        },
    )


@login_required
def group_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_USERS)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = groups.save_group(
                group=None,
                name=form.cleaned_data["name"],
                agents=form.cleaned_data["agents"],
                by=request.user,
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Client group %(name)s created.") % {"name": group.name})
            return redirect("clients:group_list")
    rows = list(
        ClientGroup.objects.annotate(n_importers=Count("importers", distinct=True))
        .prefetch_related(Prefetch("agents", queryset=get_user_model().objects.order_by("email")))
        .order_by("name")
    )
    return render(request, "clients/groups/list.html", {"form": form, "groups": rows})


@login_required
def group_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    access.require_global(request.user, GlobalPerm.MANAGE_USERS)
    group = ClientGroup.objects.filter(pk=pk).first()
    if group is None:
        raise Http404(_("No such client group."))
    form = GroupForm(
        request.POST or None,
        initial={"name": group.name, "agents": list(group.agents.all())},
    )
    if request.method == "POST" and form.is_valid():
        try:
            groups.save_group(
                group=group,
                name=form.cleaned_data["name"],
                agents=form.cleaned_data["agents"],
                by=request.user,
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, _("Client group saved."))
            return redirect("clients:group_list")
    return render(
        request,
        "clients/groups/edit.html",
        {
            "group": group,
            "form": form,
            "importer_count": group.importers.count(),
            "events": group.events.select_related("by")[:EVENTS_SHOWN],
        },
    )


@login_required
def move(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Move importers between groups and agents in bulk."""
    access.require_global(request.user, GlobalPerm.MANAGE_USERS)
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        to_group: object = groups.KEEP
        if data["to_group"] == NO_GROUP:
            to_group = None
        elif data["to_group"]:
            to_group = ClientGroup.objects.get(pk=int(data["to_group"]))
        to_agent: object = groups.KEEP
        if data["to_agent"] == NO_AGENT:
            to_agent = None
        elif data["to_agent"]:
            to_agent = access.assignable_agents().get(pk=int(data["to_agent"]))
        moved = groups.move_importers(
            form.importers(), group=to_group, agent=to_agent, by=request.user
        )
        messages.success(request, _("%(n)d importers moved.") % {"n": moved})
        return redirect("clients:group_list")
    return render(request, "clients/groups/move.html", {"form": form})
