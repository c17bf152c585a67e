"""Forms of the services pages: the public interest and webinar forms, and the staff forms."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from carm_portal.calendar import cbsa_zone
from carm_portal.widgets import DateInput
from clients import access
from clients.models import Importer, ProgramAccount
from clients.validators import normalize_bn9, normalize_phone
from services import spam_guard
from services.models import (
    BillableService,
    Charge,
    Fee,
    HelpTopic,
    Prospect,
    Registration,
    RequestStatus,
    Service,
    Stage,
    WalkthroughOutcome,
    WalkthroughSlot,
    WebinarSession,
)


def _person_label(user: Any) -> str:
    return str(user.get_full_name() or user.email)


class PublicForm(forms.Form):
    """A form anyone may post: a honeypot and the signed moment it was shown (``spam_guard``)."""

    # People never see this field (hidden by the stylesheet, skipped by screen readers through
    # aria-hidden on its wrapper); a script that fills every field fills it.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    shown = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["shown"] = spam_guard.form_stamp()

    def looks_automated(self) -> bool:
        """Whether to drop the post silently (honeypot filled, or sent faster than a person)."""
        return bool(self.cleaned_data.get("website")) or spam_guard.filled_too_fast(
            self.cleaned_data.get("shown", "")
        )


class InterestForm(PublicForm):
    name = forms.CharField(
        label=_("Your name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    bn9 = forms.CharField(
        label=_("Business Number (BN9)"),
        max_length=20,
        required=False,
        help_text=_("Optional: 9 digits, as on your CRA documents."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    services = forms.MultipleChoiceField(
        label=_("Services you are interested in"),
        choices=Service.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("Anything we should know?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to be contacted by email or phone about these services. We keep your details "
            "only to answer you, and you can ask us to delete them at any time."
        ),
    )

    field_order = ["name", "company", "email", "phone", "bn9", "services", "message", "consent"]

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"]
        return normalize_phone(value) if value.strip() else ""

    def clean_bn9(self) -> str:
        value = self.cleaned_data["bn9"]
        return normalize_bn9(value) if value.strip() else ""


class PublicRegistrationForm(PublicForm):
    name = forms.CharField(
        label=_("Your name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


class ProspectForm(forms.ModelForm):
    class Meta:
        model = Prospect
        fields = ["stage", "owner", "next_action_on", "notes", "lost_reason"]
        widgets = {"next_action_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = access.assignable_agents()
        owner.label_from_instance = _person_label  # type: ignore[method-assign,assignment]  # Django's documented per-field override

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("stage") == Stage.LOST and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Say why the prospect was lost."))
        return data


class ProspectFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", _("All stages")), ("open", _("Open (not client or lost)")), *Stage.choices],
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=access.assignable_agents()
    )
    due_by = forms.DateField(label=_("Next action by"), required=False, widget=DateInput())
    unconfirmed = forms.BooleanField(label=_("Include unconfirmed sign-ups"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = access.assignable_agents()
        owner.label_from_instance = _person_label  # type: ignore[method-assign,assignment]  # Django's documented per-field override

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


class EasternDateTimeField(forms.SplitDateTimeField):
    """A date and a time typed in Eastern time (CBSA's and the broker's clock), stored as UTC."""

    def compress(self, data_list: Any) -> dt.datetime | None:
        value = super().compress(data_list)
        if value is None:
            return None
        naive = value.replace(tzinfo=None)
        return naive.replace(tzinfo=cbsa_zone())


class EasternSplitWidget(forms.SplitDateTimeWidget):
    """A date box and a time box. The field's <label> names neither (a multi-widget has no one
    id to point at), so each box is named by its own aria-label."""

    def __init__(self) -> None:
        # Lazy labels, read in the language of the page that shows the form.
        date_attrs: dict[str, Any] = {"type": "date", "aria-label": _("Date")}
        time_attrs: dict[str, Any] = {"type": "time", "aria-label": _("Time")}
        super().__init__(
            date_attrs=date_attrs,
            time_attrs=time_attrs,
            date_format="%Y-%m-%d",
            time_format="%H:%M",
        )

    def decompress(self, value: Any) -> tuple[dt.date | None, dt.time | None]:
        if isinstance(value, dt.datetime):
            local = value.astimezone(cbsa_zone())
            return (local.date(), local.time().replace(second=0, microsecond=0))
        return (None, None)


class WebinarSessionForm(forms.ModelForm):
    starts_at = EasternDateTimeField(label=_("Starts (Eastern time)"), widget=EasternSplitWidget())

    class Meta:
        model = WebinarSession
        fields = [
            "title",
            "description",
            "starts_at",
            "duration_minutes",
            "capacity",
            "join_url",
            "language",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk:
            taken = self.instance.registrations.filter(status=Registration.Status.CONFIRMED).count()
            if capacity < taken:
                raise ValidationError(
                    _("%(taken)d people already hold a seat: keep at least that many seats."),
                    params={"taken": taken},
                )
        return capacity


# --- Walk-throughs ---------------------------------------------------------------------------------


class SlotPublishForm(forms.Form):
    """Publish one or more consecutive 1-hour slots from a start (Eastern time)."""

    starts_at = EasternDateTimeField(
        label=_("First slot starts (Eastern time)"), widget=EasternSplitWidget()
    )
    count = forms.IntegerField(
        label=_("Consecutive 1-hour slots"), min_value=1, max_value=8, initial=1
    )
    join_url = forms.URLField(label=_("Joining link"), required=False, assume_scheme="https")

    def starts(self) -> list[dt.datetime]:
        first = self.cleaned_data["starts_at"]
        return [first + dt.timedelta(hours=n) for n in range(self.cleaned_data["count"])]


class BookingForm(forms.Form):
    slot = forms.ModelChoiceField(
        label=_("Slot"), queryset=WalkthroughSlot.objects.none(), widget=forms.RadioSelect
    )
    contact_email = forms.EmailField(label=_("Send the invitation to"))
    topics = forms.CharField(
        label=_("What would you like to cover?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, slots: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slot = self.fields["slot"]
        assert isinstance(slot, forms.ModelChoiceField)
        slot.queryset = slots
        slot.label_from_instance = _slot_label  # type: ignore[method-assign,assignment]  # Django's documented per-field override


def _slot_label(slot: WalkthroughSlot) -> str:
    local = slot.starts_at.astimezone(cbsa_zone())
    return f"{local:%Y-%m-%d %H:%M} ({_person_label(slot.agent)})"


class MoveForm(forms.Form):
    slot = forms.ModelChoiceField(label=_("New slot"), queryset=WalkthroughSlot.objects.none())

    def __init__(self, *args: Any, slots: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slot = self.fields["slot"]
        assert isinstance(slot, forms.ModelChoiceField)
        slot.queryset = slots
        slot.label_from_instance = _slot_label  # type: ignore[method-assign,assignment]  # Django's documented per-field override


class SessionRecordForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    outcomes = forms.MultipleChoiceField(
        label=_("What was done"),
        required=False,
        choices=WalkthroughOutcome.choices,
        widget=forms.CheckboxSelectMultiple,
    )


# --- Service requests ------------------------------------------------------------------------------


class _AccountForm(forms.Form):
    program_account = forms.ModelChoiceField(
        label=_("Program account (BN15)"), queryset=ProgramAccount.objects.none()
    )

    def __init__(self, *args: Any, importer: Importer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["program_account"]
        assert isinstance(account, forms.ModelChoiceField)
        account.queryset = importer.program_accounts.filter(status=ProgramAccount.Status.ACTIVE)


class SoaRequestForm(_AccountForm):
    period = forms.CharField(
        label=_("Billing period"),
        max_length=40,
        help_text=_("e.g. November 2026, or the statement date"),
    )


class BondRequestForm(_AccountForm):
    surety_company = forms.CharField(
        label=_("Preferred surety company"), max_length=120, required=False
    )


class HelpRequestForm(forms.Form):
    topic = forms.ChoiceField(label=_("Topic"), choices=HelpTopic.choices)
    message = forms.CharField(
        label=_("How can we help?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AdvanceForm(forms.Form):
    to = forms.ChoiceField(label=_("New status"), choices=RequestStatus.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=access.assignable_agents(), required=False
    )


class BondEditForm(forms.Form):
    bond_amount = forms.DecimalField(
        label=_("Bond amount (CAD)"), max_digits=14, decimal_places=2, min_value=0
    )
    surety_company = forms.CharField(label=_("Surety company"), max_length=120, required=False)


class BondApprovalForm(forms.Form):
    bond_number = forms.CharField(label=_("Bond number"), max_length=40)
    effective_date = forms.DateField(label=_("Effective date"), widget=DateInput())
    expiry_date = forms.DateField(label=_("Expiry date"), required=False, widget=DateInput())


class StatementFileForm(forms.Form):
    file = forms.FileField(label=_("Statement file (CSV) received from CBSA"))


# --- Fees and charges ------------------------------------------------------------------------------


class FeeForm(forms.ModelForm):
    class Meta:
        model = Fee
        fields = ["service", "amount", "active"]
        widgets = {"service": forms.HiddenInput}


FeeFormSet = forms.modelformset_factory(Fee, form=FeeForm, extra=0)


class ChargeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Charge.Status.choices]
    )
    service = forms.ChoiceField(
        label=_("Service"), required=False, choices=[("", _("All")), *BillableService.choices]
    )

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)
