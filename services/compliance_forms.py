"""Forms of the compliance pages: open a correction by hand, move it along, filter the list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carm_portal.widgets import DateInput
from clients.models import Importer, ProgramAccount
from services.models import Correction


class CorrectionForm(forms.Form):
    program_account = forms.ModelChoiceField(
        label=_("Program account"), queryset=ProgramAccount.objects.none()
    )
    transaction_number = forms.CharField(
        label=_("Transaction number"), max_length=14, help_text=_("14 digits, as on the CAD.")
    )
    reason = forms.ChoiceField(label=_("What is wrong"), choices=Correction.Reason.choices)
    reason_to_believe_on = forms.DateField(
        label=_("Reason to believe on"),
        widget=DateInput(),
        help_text=_(
            "The day the importer had reason to believe the declaration was wrong: the 90 days "
            "to correct start here."
        ),
    )
    accounted_on = forms.DateField(
        label=_("Accounted on"),
        widget=DateInput(),
        required=False,
        help_text=_("Only needed when no entry of this CAD is on file."),
    )
    amount_before = forms.DecimalField(
        label=_("Amount before"), max_digits=14, decimal_places=2, required=False
    )
    amount_after = forms.DecimalField(
        label=_("Amount after"), max_digits=14, decimal_places=2, required=False
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, importer: Importer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = importer.program_accounts.order_by("bn15")
        field = self.fields["program_account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = accounts
        if accounts.count() == 1:
            field.initial = accounts.first()


class CorrectionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Correction.Status.choices)
    filed_version = forms.IntegerField(
        label=_("Correcting version"),
        min_value=2,
        required=False,
        help_text=_("The CAD version filed to correct it (when marking it filed)."),
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class CorrectionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Correction.Status.choices],
    )
    q = forms.CharField(label=_("Transaction number or importer"), required=False, max_length=100)
