"""The "API tokens" page of one's account: make a token (shown once), see one's own, revoke.

Every signed-in person may hold tokens: a token acts with exactly its owner's rights (the same
``clients.access`` rules as the pages), so nothing here decides a role. Only one's own tokens are
ever listed or revoked: another person's token id is a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from carm_portal import api_tokens
from carm_portal.models import User


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. 'Accounting export'."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"] = forms.IntegerField(
            label=gettext_lazy("Valid for (days)"),
            min_value=1,
            max_value=api_tokens.max_days(),
            initial=api_tokens.default_days(),
            help_text=gettext_lazy("At most one year. The token stops working after that."),
        )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name."))
        return name


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: the person's tokens and the form; POST: make a token and show its secret once."""
    user = _user(request)
    new_secret = ""
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            _token, new_secret = api_tokens.issue(
                user=user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
            form = TokenForm()
    else:
        form = TokenForm()
    response = render(
        request,
        "account/api_tokens.html",
        {
            "form": form,
            "tokens": list(api_tokens.tokens_of(user)),
            "new_secret": new_secret,
            "now": timezone.now(),
            "max_days": api_tokens.max_days(),
        },
    )
    response["Cache-Control"] = "no-store"  # the page may hold a secret shown once
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = api_tokens.tokens_of(_user(request)).filter(pk=pk).first()
    if token is None:
        raise Http404
    api_tokens.revoke(token)
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("api_tokens")
