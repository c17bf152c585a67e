"""Step 2: the Business Account Managers (two slots, the second optional)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms.base import WizardForm
from clients.models import Importer, PortalUser

Role = PortalUser.CcpRole


RESPONSIBILITIES = [
    (PortalUser.Responsibility.PAYMENTS, PortalUser.Responsibility.PAYMENTS.label),
    (PortalUser.Responsibility.CUSTOMS, PortalUser.Responsibility.CUSTOMS.label),
    (PortalUser.Responsibility.BOTH, PortalUser.Responsibility.BOTH.label),
]


class BamsForm(WizardForm):
    """Two slots, one BAM each (the second optional: a warning, not an error, when it is empty)."""

    SLOTS = (1, 2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = {1: PortalUser.Responsibility.PAYMENTS, 2: PortalUser.Responsibility.CUSTOMS}
        for n in self.SLOTS:
            first = n == 1
            self.fields[f"bam{n}_id"] = forms.IntegerField(required=False, widget=forms.HiddenInput)
            self.fields[f"bam{n}_name"] = forms.CharField(
                label=_("Full name"), max_length=150, required=first
            )
            self.fields[f"bam{n}_email"] = forms.EmailField(
                label=_("Email"),
                required=first,
                widget=forms.EmailInput(attrs={"autocomplete": "off"}),
            )
            self.fields[f"bam{n}_responsibility"] = forms.ChoiceField(
                label=_("Responsible for"),
                choices=RESPONSIBILITIES,
                initial=defaults[n],
            )

    def slots(self) -> list[dict[str, int | forms.BoundField]]:
        """The bound fields of each slot, for the template's fieldsets."""
        return [
            {
                "n": n,
                "id": self[f"bam{n}_id"],
                "name": self[f"bam{n}_name"],
                "email": self[f"bam{n}_email"],
                "responsibility": self[f"bam{n}_responsibility"],
            }
            for n in self.SLOTS
        ]

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        bams = list(importer.portal_users.filter(ccp_role=Role.BAM).order_by("id")[:2])
        for n, person in enumerate(bams, start=1):
            initial.update(
                {
                    f"bam{n}_id": person.pk,
                    f"bam{n}_name": person.full_name,
                    f"bam{n}_email": person.email,
                    f"bam{n}_responsibility": person.responsibility
                    or (
                        PortalUser.Responsibility.PAYMENTS
                        if n == 1
                        else PortalUser.Responsibility.CUSTOMS
                    ),
                }
            )
        if not bams and importer.memberships.filter(user=user).exists():
            initial.update(bam1_name=user.full_name, bam1_email=user.email)  # most likely them
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        seen: dict[str, int] = {}
        self.answers: list[steps.BamAnswer] = []
        for n in self.SLOTS:
            name = (data.get(f"bam{n}_name") or "").strip()
            email = (data.get(f"bam{n}_email") or "").strip().lower()
            if n > 1 and not name and not email:
                continue
            if not name and f"bam{n}_name" not in self.errors:
                self.add_error(f"bam{n}_name", gettext("Enter this person's full name."))
            if not email and f"bam{n}_email" not in self.errors:
                self.add_error(f"bam{n}_email", gettext("Enter this person's email."))
            if not (name and email):
                continue
            if email in seen:
                self.add_error(
                    f"bam{n}_email",
                    gettext("Both BAMs have the same email: each needs their own CCP profile."),
                )
                continue
            seen[email] = n
            pk = data.get(f"bam{n}_id")
            if pk and not self.importer.portal_users.filter(pk=pk).exists():
                pk = None  # not one of this importer's people: treat as a new person
            if pk:
                clash = self.importer.portal_users.filter(email=email).exclude(pk=pk).first()
                if clash is not None:
                    self.add_error(
                        f"bam{n}_email",
                        gettext("%(email)s is already recorded for %(name)s.")
                        % {"email": email, "name": clash.full_name},
                    )
                    continue
            self.answers.append(
                steps.BamAnswer(
                    full_name=name,
                    email=email,
                    responsibility=data.get(f"bam{n}_responsibility") or "",
                    portal_user_id=pk,
                )
            )
        return data

    @property
    def warning(self) -> str | None:
        return steps.bam_warning(len(getattr(self, "answers", [])))

    def apply(self, *, by: User) -> steps.Outcome:
        return steps.apply_bams(importer=self.importer, bams=self.answers, by=by)
