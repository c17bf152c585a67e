"""Step 3: CCP profiles of the importer's people, and a new person."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms.base import active_accounts
from carm_portal.onboarding_wizard.forms.people import NEW_ROLES, SIGN_IN_CHOICES, PeopleForm
from clients.forms import PortalUserForm
from clients.models import Importer, PortalUser, ProgramAccount

Role = PortalUser.CcpRole


class ProfilesForm(PeopleForm):
    new_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    new_email = forms.EmailField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    new_role = forms.ChoiceField(label=_("CCP role"), choices=NEW_ROLES, initial=Role.READER)
    new_account = forms.ModelChoiceField(
        label=_("Program account (PAM only)"),
        queryset=ProgramAccount.objects.none(),
        required=False,
    )
    new_sign_in = forms.ChoiceField(
        label=_("Sign-in method"), choices=SIGN_IN_CHOICES, required=False
    )
    new_profile = forms.BooleanField(label=_("CCP profile created"), required=False)

    NEW_FIELDS = {
        "full_name": "new_name",
        "email": "new_email",
        "ccp_role": "new_role",
        "program_account": "new_account",
        "sign_in_method": "new_sign_in",
        "profile_created": "new_profile",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["new_account"]
        assert isinstance(account, forms.ModelChoiceField)  # declared above as one
        account.queryset = active_accounts(self.importer)
        account.empty_label = _("None")

    def add_person_fields(self, person: PortalUser) -> None:
        self.fields[f"p{person.pk}_sign_in"] = forms.ChoiceField(
            label=_("Sign-in method"), choices=SIGN_IN_CHOICES, required=False
        )
        self.fields[f"p{person.pk}_profile"] = forms.BooleanField(
            label=_("CCP profile created"), required=False
        )

    def person_rows(self) -> list[dict[str, Any]]:
        return self.rows("sign_in", "profile")

    def new_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.NEW_FIELDS.values()]

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for p in importer.portal_users.all():
            initial[f"p{p.pk}_sign_in"] = p.sign_in_method
            initial[f"p{p.pk}_profile"] = p.profile_created
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        self.new_person: steps.NewPerson | None = None
        if not (data.get("new_name") or "").strip() and not data.get("new_email"):
            return data
        # The people page's rules, unchanged: a unique email, a PAM with its account.
        person_form = PortalUserForm(
            data={
                "full_name": data.get("new_name") or "",
                "email": data.get("new_email") or "",
                "ccp_role": data.get("new_role") or "",
                "program_account": data["new_account"].pk if data.get("new_account") else "",
                "sign_in_method": data.get("new_sign_in") or "",
                "responsibility": "",
                "profile_created": "on" if data.get("new_profile") else "",
            },
            importer=self.importer,
        )
        if not person_form.is_valid():
            for name, errors in person_form.errors.items():
                target = self.NEW_FIELDS.get(name)
                if target and target not in self.errors:
                    self.add_error(target, errors)
            return data
        c = person_form.cleaned_data
        self.new_person = steps.NewPerson(
            full_name=c["full_name"],
            email=c["email"],
            ccp_role=c["ccp_role"],
            program_account=c.get("program_account"),
            sign_in_method=c.get("sign_in_method") or "",
            profile_created=bool(c.get("profile_created")),
        )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_profiles(
            importer=self.importer,
            profiles=[
                steps.ProfileAnswer(
                    portal_user_id=p.pk,
                    sign_in_method=d.get(f"p{p.pk}_sign_in") or "",
                    profile_created=bool(d.get(f"p{p.pk}_profile")),
                )
                for p in self.people
            ],
            new_person=self.new_person,
            by=by,
        )
