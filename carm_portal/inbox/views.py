"""The signed-in user's inbox and e-mail preferences: every row is the user's own, by query."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from carm_portal import notifications, stored_text
from carm_portal.http import AuthenticatedHttpRequest
from carm_portal.notification_models import DIGEST_ONLY_KINDS, Delivery, Kind, Notification

PAGE_SIZE = 50


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Newest first; ``?unread=1`` shows only what is still unread."""
    rows = Notification.objects.filter(recipient=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        rows = rows.filter(read_at=None)
    page = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = list(page.object_list)
    for item in items:
        item.message = stored_text.render(item.text)
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "items": items, "unread_only": unread_only},
    )


@login_required
def open_notification(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's notifications read and go where it points (another's is a 404)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notifications.mark_read(user=request.user, notification_ids=[notification.pk])
    safe = url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(notification.url if notification.url and safe else "notifications:inbox")


@require_POST
@login_required
def mark_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Notification, pk=pk, recipient=request.user)
    notifications.mark_read(user=request.user, notification_ids=[pk])
    return redirect("notifications:inbox")


@require_POST
@login_required
def mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    n = notifications.mark_read(user=request.user)
    messages.success(
        request,
        ngettext("%(n)d notification marked read.", "%(n)d notifications marked read.", n)
        % {"n": n},
    )
    return redirect("notifications:inbox")


@login_required
def unread_count(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The header's badge (static/js/header_tools.js): the count and its label, in the page's
    language."""
    n = notifications.unread_count(request.user)
    response = JsonResponse({"unread": n, "label": ngettext("unread", "unread", n)})
    response["Cache-Control"] = "no-store"
    return response


class PreferencesForm(forms.Form):
    """One choice per kind; the daily checks' digests cannot be "immediately"."""

    def __init__(self, data: QueryDict | None = None, *, initial: dict[str, str]) -> None:
        super().__init__(data, initial=initial)
        for kind in Kind:
            choices = [
                (value, label)
                for value, label in Delivery.choices
                if not (kind in DIGEST_ONLY_KINDS and value == Delivery.IMMEDIATELY)
            ]
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label, choices=choices, widget=forms.RadioSelect
            )


@login_required
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = notifications.preferences(request.user)
    form = PreferencesForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        notifications.save_preferences(user=request.user, choices=form.cleaned_data)
        messages.success(request, _("Your e-mail preferences are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
