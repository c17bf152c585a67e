"""The invite form: who to invite and with which role, limited to the roles the inviter may give.

The rules themselves (role allowed, not already a member, resend instead of duplicate) live in
``clients.invitations``; the view turns their refusals into errors on this form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.models import Membership

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ROLE_HELP: dict[str, StrOrPromise] = {
    Membership.Role.BAM: _(
        "Manages the business's CARM setup, people, payments and bank account; grants the broker "
        "its delegation."
    ),
    Membership.Role.FINANCE: _(
        "Sees statements, reconciliations and payments, and records payments."
    ),
    Membership.Role.EMPLOYEE: _(
        "Sees the business's onboarding, accounts and people; changes nothing."
    ),
}


class InvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("The link goes to this address; they sign up with it."),
    )
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels: dict[str, StrOrPromise] = dict(Membership.Role.choices)
        # self.fields maps names to Field: the stubs cannot know "role" is the ChoiceField above.
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (role, labels[role]) for role in roles
        ]
        # What each offered role may do, listed under the form (too long for a help text).
        self.role_help = [(labels[role], ROLE_HELP[role]) for role in roles]
        if roles and not self.is_bound:
            self.initial.setdefault("role", roles[0])
        self.fields["full_name"].widget.attrs["autocomplete"] = "off"
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
