"""Forms of the delegation pages: the record of what the importer approved, and the renewal flow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from carm_portal.calendar import cbsa_today
from carm_portal.dates import business_date
from carm_portal.models import User
from carm_portal.widgets import DateInput
from clients.models import Importer
from delegation.models import ConfirmationChannel, Delegation, RenewalRequest
from delegation.rules import Kind, kind_label
from delegation.validation import validate_delegation


class DelegationForm(forms.ModelForm):
    """What the importer's BAM approved in the CCP, as the broker records it."""

    class Meta:
        model = Delegation
        fields = [
            "relationship",
            "authority",
            "program_accounts",
            "status",
            "requested_on",
            "approved_on",
            "expiry_date",
            "blank_expiry_confirmed",
            "revoked_on",
            "notes",
        ]
        widgets = {
            "requested_on": DateInput(),
            "approved_on": DateInput(),
            "expiry_date": DateInput(),
            "revoked_on": DateInput(),
            "program_accounts": forms.CheckboxSelectMultiple(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, importer: Importer, today: dt.date | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.importer = importer
        self.today = today or cbsa_today()
        accounts = self.fields["program_accounts"]
        assert isinstance(accounts, forms.ModelMultipleChoiceField)  # the model's many-to-many
        accounts.queryset = importer.program_accounts.order_by("bn15")
        self.fields["program_accounts"].help_text = _(
            "For a PMR, the accounts the importer selected. A BMR covers every account, including "
            "accounts added later."
        )
        self.fields["blank_expiry_confirmed"].help_text = _(
            "Tick only if the importer really left the expiry date blank in the CCP. It will be "
            "flagged: the broker cannot access accounts with a blank expiry date."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        try:
            values = validate_delegation(
                importer=self.importer,
                relationship=data.get("relationship"),
                authority=data.get("authority"),
                status=data.get("status"),
                program_accounts=data.get("program_accounts") or (),
                requested_on=data.get("requested_on"),
                approved_on=data.get("approved_on"),
                expiry_date=data.get("expiry_date"),
                blank_expiry_confirmed=bool(data.get("blank_expiry_confirmed")),
                revoked_on=data.get("revoked_on"),
                is_new=self.instance.pk is None,
                changed=self.changed_data,
                today=self.today,
            )
        except ValidationError as exc:
            self.add_error(None, exc)  # each message under its field, as the form shows them
        else:
            data["program_accounts"] = list(values.program_accounts)
            data["blank_expiry_confirmed"] = values.blank_expiry_confirmed
        return data


class RenewalRequestForm(forms.ModelForm):
    class Meta:
        model = RenewalRequest
        fields = ["requested_expiry_date", "message"]
        widgets = {
            "requested_expiry_date": DateInput(),
            "message": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today or cbsa_today()

    def clean_requested_expiry_date(self) -> dt.date:
        value = self.cleaned_data["requested_expiry_date"]
        if value <= self.today:
            raise forms.ValidationError(_("Ask for an expiry date after today."))
        return value


class RenewalConfirmForm(forms.Form):
    confirmed_expiry_date = forms.DateField(
        label=_("Expiry date you entered in the CCP"),
        widget=DateInput(),
        validators=[business_date],
    )
    # Only for broker staff confirming on the importer's behalf (removed for the importer's BAM).
    importer_person = forms.CharField(
        label=_("Who at the importer confirmed it"), max_length=200, required=False
    )
    channel = forms.ChoiceField(
        label=_("How they confirmed it"),
        choices=[("", "—"), *ConfirmationChannel.choices],
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        today: dt.date | None = None,
        on_behalf: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.today = today or cbsa_today()
        if on_behalf:
            self.fields["importer_person"].required = True
            self.fields["channel"].required = True
        else:
            del self.fields["importer_person"], self.fields["channel"]

    def clean_confirmed_expiry_date(self) -> dt.date:
        value = self.cleaned_data["confirmed_expiry_date"]
        if value <= self.today:
            raise forms.ValidationError(
                _("The new expiry date must be after today; check what the CCP shows.")
            )
        return value


FINDING_CHOICES = [
    ("", _("Any finding")),
    # lazy: this list is built once, at import; each request shows the labels in its own language
    *[(k.value, lazy(kind_label, str)(k.value)) for k in Kind if k != Kind.NO_DELEGATION],
]
SORTS = [
    ("expiry", _("Expiry date, soonest first")),
    ("-expiry", _("Expiry date, latest first")),
    ("importer", _("Importer")),
]


class DelegationFilterForm(forms.Form):
    q = forms.CharField(label=_("Importer"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Delegation.Status.choices],
    )
    finding = forms.ChoiceField(label=_("Open finding"), required=False, choices=FINDING_CHOICES)
    expiring_within = forms.IntegerField(
        label=_("Expiring within (days)"), required=False, min_value=0, max_value=3650
    )
    agent = forms.ModelChoiceField(label=_("Agent"), required=False, queryset=User.objects.none())
    renewal = forms.ChoiceField(
        label=_("Renewal"),
        required=False,
        choices=[("", _("Any")), ("open", _("Waiting for the importer"))],
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)

    def __init__(self, *args: Any, agents: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if agents is None:
            del self.fields["agent"]
        else:
            agent = self.fields["agent"]
            assert isinstance(agent, forms.ModelChoiceField)  # declared above as one
            agent.queryset = agents

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(
            self.data.get(name)
            for name in ("q", "status", "finding", "expiring_within", "agent", "renewal")
        )
