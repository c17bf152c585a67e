"""Forms of the training pages: a course, a session of it, completions recorded in bulk, the
filters.

A session may be a past webinar or walk-through: the choices offer only those already held (and
not cancelled), so a completion is never tied to something that has not happened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from carm_portal import stored_english
from carm_portal.widgets import DateInput
from clients.models import ClientGroup, Importer, Membership
from services.compliance.courses import same_name_offered
from services.models import Booking, Course, TrainingSession, WebinarSession

RECENT_DAYS = 400  # how far back webinars and walk-throughs are offered as sessions


class _PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        name = obj.user.get_full_name() or obj.user.email
        return f"{name} · {obj.get_role_display()}"


class _CourseChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Course) -> str:
        return obj.title  # in the reader's language


class _SessionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: TrainingSession) -> str:
        return f"{obj.held_on:%Y-%m-%d} · {obj.trainer}"


class _WebinarChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: WebinarSession) -> str:
        return f"{timezone.localtime(obj.starts_at):%Y-%m-%d} · {obj.title}"


class _BookingChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Booking) -> str:
        return f"{timezone.localtime(obj.slot.starts_at):%Y-%m-%d} · {obj.importer.legal_name}"


class SessionForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    trainer = forms.CharField(label=_("Trainer"), max_length=150)
    webinar = _WebinarChoice(
        label=_("Delivered in a webinar"),
        required=False,
        queryset=WebinarSession.objects.none(),
        empty_label=_("None"),
        help_text=_("A past webinar that counts as this course's session."),
    )
    booking = _BookingChoice(
        label=_("Delivered in a walk-through"),
        required=False,
        queryset=Booking.objects.none(),
        empty_label=_("None"),
        help_text=_("A completed walk-through that counts as this course's session."),
    )

    def __init__(self, *args: Any, now: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        since = now - dt.timedelta(days=RECENT_DAYS)
        webinar = self.fields["webinar"]
        booking = self.fields["booking"]
        assert isinstance(webinar, forms.ModelChoiceField)
        assert isinstance(booking, forms.ModelChoiceField)
        webinar.queryset = WebinarSession.objects.filter(
            cancelled_at=None, starts_at__lte=now, starts_at__gte=since
        ).order_by("-starts_at", "id")
        booking.queryset = (
            Booking.objects.filter(cancelled_at=None, completed_at__isnull=False)
            .filter(slot__starts_at__gte=since)
            .select_related("slot", "importer")
            .order_by("-slot__starts_at", "id")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("webinar") and data.get("booking"):
            raise forms.ValidationError(_("Choose a webinar or a walk-through, not both."))
        return data


class RecordForm(forms.Form):
    course = _CourseChoice(
        label=_("Course"), queryset=Course.objects.filter(active=True), empty_label=None
    )
    people = _PersonChoice(
        label=_("Who completed it"),
        queryset=Membership.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    completed_on = forms.DateField(label=_("Completed on"), widget=DateInput())
    session = _SessionChoice(
        label=_("Session"),
        required=False,
        queryset=TrainingSession.objects.none(),
        empty_label=_("None (self-paced or elsewhere)"),
        help_text=_("The session of this course it was completed in, if any."),
    )

    def __init__(self, *args: Any, importer: Importer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = self.fields["people"]
        session = self.fields["session"]
        assert isinstance(people, forms.ModelMultipleChoiceField)
        assert isinstance(session, forms.ModelChoiceField)
        people.queryset = (
            Membership.objects.filter(importer=importer, user__is_active=True)
            .select_related("user")
            .order_by("user__full_name", "user__email", "id")
        )
        session.queryset = TrainingSession.objects.select_related("course").order_by(
            "-held_on", "id"
        )


class CourseForm(forms.ModelForm):
    """A course as a training coordinator sets it up: its name in English and in French, whom it
    is for, and after how many months a completion lapses (a refresher is due)."""

    MAX_REFRESH_MONTHS = 120

    refresh_months = forms.IntegerField(
        label=_("Refresher due after (months)"),
        min_value=1,
        max_value=MAX_REFRESH_MONTHS,
        initial=12,
        help_text=_("A completion lapses this many months after it, on the same day of the month."),
    )

    class Meta:
        model = Course
        fields = ["name", "name_fr", "role", "refresh_months"]
        labels = {
            "name": _("Name in English"),
            "name_fr": _("Name in French"),
            "role": _("For"),
        }
        help_texts = {"name_fr": _("Shown to people who read the portal in French.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name_fr"].required = True
        if self.instance.pk and not self.instance.name_fr and not self.is_bound:
            # a default course: its French name as the catalogue has it, to confirm or correct
            with translation.override("fr"):
                self.initial["name_fr"] = stored_english.translate(self.instance.name)

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_name_fr(self) -> str:
        return " ".join(self.cleaned_data["name_fr"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name, role = data.get("name"), data.get("role")
        if name and role and same_name_offered(name, role, exclude=self.instance.pk):
            self.add_error("name", _("A course of this name is already offered for this role."))
        return data


class DueFilterForm(forms.Form):
    """The refresh list's filters; the portfolio slice (mine, group) is read by ``portfolio_from``."""

    EXPIRING, EXPIRED = "expiring", "expired"

    state = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Expiring in 30 days or expired")),
            (EXPIRING, _("Expiring in 30 days")),
            (EXPIRED, _("Expired")),
        ],
    )
    role = forms.ChoiceField(
        label=_("Course for"), required=False, choices=[("", _("Any")), *Course.Role.choices]
    )
    mine = forms.BooleanField(label=_("Only my clients"), required=False)
    group = forms.ModelChoiceField(
        label=_("Client group"),
        required=False,
        queryset=ClientGroup.objects.order_by("name"),
        empty_label=_("Any"),
    )


class PickImporterForm(forms.Form):
    """From a course's page: whose people to record completions for."""

    importer = forms.ModelChoiceField(
        label=_("Importer"), queryset=Importer.objects.none(), empty_label=None
    )

    def __init__(self, *args: Any, importers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["importer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = importers.order_by("legal_name", "id")
