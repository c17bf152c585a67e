"""Step 6: employee access (each person's CCP role, program account and approval)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms.people import PeopleForm
from clients.models import Importer, PortalUser

Role = PortalUser.CcpRole


class EmployeeAccessForm(PeopleForm):
    def add_person_fields(self, person: PortalUser) -> None:
        self.fields[f"p{person.pk}_role"] = forms.ChoiceField(
            label=_("CCP role"), choices=Role.choices
        )
        # The accounts are loaded once for every row (a ModelChoiceField would query per row).
        self.fields[f"p{person.pk}_account"] = forms.TypedChoiceField(
            label=_("Program account (PAM only)"),
            choices=[("", _("None")), *((a.pk, a.bn15) for a in self.accounts)],
            coerce=lambda pk: self.accounts_by_pk[int(pk)],
            empty_value=None,
            required=False,
        )
        self.fields[f"p{person.pk}_approved"] = forms.BooleanField(
            label=_("Access approved by a BAM"), required=False
        )

    def person_rows(self) -> list[dict[str, Any]]:
        return self.rows("role", "account", "approved")

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for p in importer.portal_users.all():
            initial[f"p{p.pk}_role"] = p.ccp_role
            initial[f"p{p.pk}_account"] = p.program_account_id
            initial[f"p{p.pk}_approved"] = p.access_approved
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        for p in self.people:
            if data.get(f"p{p.pk}_role") == Role.PAM and not data.get(f"p{p.pk}_account"):
                self.add_error(
                    f"p{p.pk}_account",
                    gettext("A Program Account Manager needs the program account they manage."),
                )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_employee_access(
            importer=self.importer,
            answers=[
                steps.AccessAnswer(
                    portal_user_id=p.pk,
                    ccp_role=d[f"p{p.pk}_role"],
                    program_account=d.get(f"p{p.pk}_account"),
                    access_approved=bool(d.get(f"p{p.pk}_approved")),
                )
                for p in self.people
            ],
            by=by,
        )
