"""Forms of the compliance pages: open a correction by hand, move it along, filter the list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carm_portal.widgets import DateInput
from clients.models import Importer, ProgramAccount
from services.models import Correction, DocumentType
from statements.models import Statement


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


class DocumentForm(forms.Form):
    document_type = forms.ChoiceField(label=_("Type"), choices=DocumentType.choices)
    file = forms.FileField(label=_("File"))
    record_date = forms.DateField(
        label=_("Record date"),
        widget=DateInput(),
        help_text=_("The date of importation or of the record: retention counts from its year."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    statement = forms.ModelChoiceField(
        label=_("Statement"), queryset=Statement.objects.none(), required=False
    )
    transaction_number = forms.CharField(
        label=_("CAD transaction number"), max_length=14, required=False
    )
    correction = forms.ModelChoiceField(
        label=_("Correction"), queryset=Correction.objects.none(), required=False
    )

    def __init__(self, *args: Any, importer: Importer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        statement = self.fields["statement"]
        assert isinstance(statement, forms.ModelChoiceField)
        statement.queryset = Statement.objects.filter(
            program_account__importer=importer
        ).select_related("program_account")
        correction = self.fields["correction"]
        assert isinstance(correction, forms.ModelChoiceField)
        correction.queryset = Correction.objects.filter(importer=importer)

    def clean_transaction_number(self) -> str:
        value = self.cleaned_data["transaction_number"].strip()
        if value and not (value.isdigit() and len(value) == 14):
            raise forms.ValidationError(_("A transaction number is 14 digits."))
        return value


class LegalHoldForm(forms.Form):
    legal_hold = forms.BooleanField(label=_("On legal hold"), required=False)
    legal_hold_reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
