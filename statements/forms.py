"""Forms of the statement pages: the upload, and the filters of the statement lists."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from statements import billing
from statements.due import due_soon_days
from statements.models import ImportBatch, Statement, StatementLine

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=ImportBatch.Kind.choices,
        widget=forms.RadioSelect,
        initial=ImportBatch.Kind.STATEMENT,
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8 CSV with a header row, as described in the file formats guide. A file with any "
            "bad row is refused whole, with the list of problems."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.STATEMENTS_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s; the limit is %(limit)s. Import it with the command instead."
                )
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


def period_choices(dates: list[dt.date]) -> list[tuple[str, StrOrPromise]]:
    choices: list[tuple[str, StrOrPromise]] = [("", _("Any period"))]
    for day in dates:
        period = billing.statement_period(day)
        choices.append((day.isoformat(), f"{day.isoformat()} · {period}"))
    return choices


class StatementFilterForm(forms.Form):
    DUE_CHOICES = [
        ("", _("Any")),
        ("due_soon", _("Due soon")),
        ("overdue", _("Overdue")),
    ]

    q = forms.CharField(label=_("Importer or BN15"), required=False)
    period = forms.ChoiceField(label=_("Statement (billing period)"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Statement.Status.choices],
    )
    due = forms.ChoiceField(label=_("Payment"), required=False, choices=DUE_CHOICES)
    reconcile = forms.ChoiceField(
        label=_("Reconciliation"),
        required=False,
        choices=[("", _("Any")), ("pending", _("Waiting for a reconciliation"))],
    )
    reconciled_since = forms.DateField(
        label=_("Reconciled since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, dates: list[dt.date], with_search: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # self.fields maps names to Field: the stubs cannot know "period" is a ChoiceField.
        cast(forms.ChoiceField, self.fields["period"]).choices = period_choices(dates)
        self.fields["due"].help_text = _("Due soon: within %(n)d days.") % {"n": due_soon_days()}
        if not with_search:
            del self.fields["q"]

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(
            self.data.get(name)
            for name in ("q", "period", "status", "due", "reconcile", "reconciled_since")
        )


class LineFilterForm(forms.Form):
    type = forms.ChoiceField(
        label=_("Line type"),
        required=False,
        choices=[("", _("All lines")), *StatementLine.LineType.choices],
    )
    # The header search links a statement line here by its number, so the line is on the page
    # whatever its position in a long statement.
    transaction = forms.CharField(
        label=_("Transaction number"), required=False, max_length=14, strip=True
    )
