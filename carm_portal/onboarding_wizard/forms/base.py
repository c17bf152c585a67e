"""What every step's form shares: ``WizardForm`` (whose wizard, who answers, the step's saved
answers) and the importer's active accounts several steps offer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from carm_portal.models import User
from carm_portal.onboarding_wizard import steps
from clients.models import Importer, ProgramAccount


def active_accounts(importer: Importer) -> QuerySet[ProgramAccount]:
    """The importer's active program accounts, by BN15: the choices of several steps."""
    return ProgramAccount.objects.filter(
        importer=importer, status=ProgramAccount.Status.ACTIVE
    ).order_by("bn15")


class WizardForm(forms.Form):
    """What every step's form knows: whose wizard it is, who answers, and the step's saved extras."""

    template_name_div = None  # type: ignore[assignment]  # rendered by the step templates, field by field

    def __init__(
        self,
        *args: Any,
        importer: Importer,
        user: User,
        today: dt.date,
        saved: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.importer = importer
        self.user = user
        self.today = today
        self.saved = saved or {}

    @classmethod
    def initial_from_records(cls, importer: Importer, user: User, today: dt.date) -> dict[str, Any]:
        return {}

    def apply(self, *, by: User) -> steps.Outcome:
        raise NotImplementedError

    def salvage(self) -> dict[str, Any]:
        """On an invalid submission, what is worth keeping anyway (a good file among bad answers:
        a browser cannot re-fill a file input). Nothing by default."""
        return {}

    def refuse(self, field: str | None, exc: ValidationError, mapping: dict[str, str]) -> None:
        """Put a rule's ``{model_field: [messages]}`` errors under this form's field names."""
        for name, messages in exc.message_dict.items():
            target = mapping.get(name, name if name in self.fields else field)
            if target is None or target not in self.errors:
                self.add_error(target, messages)
