"""Forms of the readiness pages: take a check (the questions a person answers), reassign a follow-up.

The check form has one yes/no field per question that no deriver answers; derived answers are
never fields (they are read from the records when the check is saved), so a person cannot
override what the data says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from carm_portal.widgets import DateInput
from clients import access
from services.compliance.readiness import question_text
from services.models import ReadinessQuestion

YES, NO = "yes", "no"
ANSWER_CHOICES = [(YES, _("Yes")), (NO, _("No"))]


def _person_label(user: Any) -> str:
    return str(user.get_full_name() or user.email)


def field_name(key: str) -> str:
    return f"q_{key}"


class ReadinessForm(forms.Form):
    def __init__(
        self,
        *args: Any,
        questions: Sequence[ReadinessQuestion],
        previous: Mapping[str, bool] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.manual_keys = [q.key for q in questions if not q.derived_from]
        previous = previous or {}
        for q in questions:
            if q.derived_from:
                continue
            self.fields[field_name(q.key)] = forms.ChoiceField(
                label=question_text(q.key, q.text),
                choices=ANSWER_CHOICES,
                widget=forms.RadioSelect,
                initial=(YES if previous[q.key] else NO) if q.key in previous else None,
                error_messages={"required": _("Answer this question.")},
            )

    def manual_answers(self) -> dict[str, bool]:
        return {key: self.cleaned_data[field_name(key)] == YES for key in self.manual_keys}


class GapForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    due_on = forms.DateField(label=_("Due on"), widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = access.assignable_agents()  # evaluated per form, not at import
        field.label_from_instance = _person_label  # type: ignore[method-assign,assignment]  # Django's documented per-field override
