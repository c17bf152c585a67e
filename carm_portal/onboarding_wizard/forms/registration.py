"""Step 5: registration of the business in the CCP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from carm_portal.dates import business_date
from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from carm_portal.onboarding_wizard.forms.base import WizardForm
from carm_portal.widgets import DateInput
from clients.models import Importer


class RegistrationForm(WizardForm):
    registered = forms.BooleanField(
        label=_("Yes, our business is registered in the CCP"), required=False
    )
    registered_on = forms.DateField(
        label=_("Date of registration"),
        required=False,
        widget=DateInput(),
        validators=[business_date],
    )

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        row = importer.onboarding_steps.filter(step=steps.Step.REGISTRATION).first()
        if row is not None and row.manual_status == "done":
            return {"registered": True, "registered_on": row.completed_on}
        return {}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        day = data.get("registered_on")
        if data.get("registered") and not day and "registered_on" not in self.errors:
            self.add_error("registered_on", gettext("Enter the date you registered the business."))
        if day and day > self.today:
            self.add_error(
                "registered_on", gettext("The registration date cannot be in the future.")
            )
        return data

    def apply(self, *, by: User) -> steps.Outcome:
        d = self.cleaned_data
        return steps.apply_registration(
            importer=self.importer,
            registered=bool(d.get("registered")),
            registered_on=d.get("registered_on"),
            by=by,
        )
