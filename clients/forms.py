"""Forms of the clients pages: importers, program accounts, CCP portal users, checklist steps, and
the importer list's filters.

Every identifier goes through ``clients/validators.py`` so that what is stored is normalised
(upper-case, no spaces) and a clerk reads an error that says what to fix.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from carm_portal.calendar import cbsa_today
from carm_portal.dates import business_date
from carm_portal.models import User
from carm_portal.widgets import DateInput
from clients import access
from clients.models import ClientGroup, Importer, OnboardingStep, PortalUser, ProgramAccount
from clients.onboarding import is_derived, stalled_onboarding
from clients.portfolio import AGENT, Portfolio
from clients.search import importer_search
from clients.validation import check_account_owner, check_importer
from clients.validators import normalize_bn9, normalize_bn15, normalize_phone

Status = OnboardingStep.Status


def _person_label(user: User) -> str:
    return f"{user.full_name} ({user.email})" if user.full_name else user.email


# --- Importer --------------------------------------------------------------------------------------


class ImporterForm(forms.ModelForm):
    # Wider than the stored columns: people type "123 456 789" or "m5h-1a1"; clean_* normalises.
    bn9 = forms.CharField(
        label=_("Business Number (BN9)"),
        max_length=20,
        help_text=_("9 digits, as on the importer's CRA documents."),
        error_messages={"unique": _("An importer with this Business Number is already recorded.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    mailing_postal_code = forms.CharField(
        label=_("Mailing postal code"), max_length=10, required=False
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("e.g. 416-555-0123, with x123 for an extension."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    class Meta:
        model = Importer
        fields = [
            "legal_name",
            "operating_name",
            "bn9",
            "status",
            "address_line1",
            "address_line2",
            "city",
            "province",
            "postal_code",
            "mailing_same_as_legal",
            "mailing_line1",
            "mailing_line2",
            "mailing_city",
            "mailing_province",
            "mailing_postal_code",
            "phone",
            "email",
            "assigned_agent",
            "client_group",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agent = self.fields["assigned_agent"]
        assert isinstance(agent, forms.ModelChoiceField)  # the model's foreign key's form field
        agent.queryset = access.assignable_agents()
        agent.label_from_instance = _person_label  # type: ignore[method-assign,assignment]  # Django's documented per-field override
        agent.empty_label = _("Not assigned")
        group = self.fields["client_group"]
        assert isinstance(group, forms.ModelChoiceField)  # the model's foreign key's form field
        group.empty_label = _("No group")
        self.fields["mailing_same_as_legal"].help_text = _(
            "Untick to enter a separate mailing address below."
        )

    def clean_bn9(self) -> str:
        return normalize_bn9(self.cleaned_data["bn9"])

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"]
        return normalize_phone(phone) if phone.strip() else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        try:
            self.cleaned_data = check_importer(data, instance=self.instance)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in self.errors:  # a field refused already says what to fix
                    self.add_error(field, messages)
        return self.cleaned_data


# --- Program account ------------------------------------------------------------------------------


class ProgramAccountForm(forms.ModelForm):
    bn15 = forms.CharField(
        label=_("Program account (BN15)"),
        max_length=30,
        help_text=_("The Business Number, RM and 4 digits, e.g. 123456789RM0001."),
        error_messages={"unique": _("This program account is already recorded.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = ProgramAccount
        fields = ["bn15", "name", "status", "opened_on"]
        widgets = {"opened_on": DateInput()}

    def __init__(self, *args: Any, importer: Importer, **kwargs: Any) -> None:
        kwargs.setdefault("instance", ProgramAccount(importer=importer))
        super().__init__(*args, **kwargs)
        self.importer = importer

    def clean_bn15(self) -> str:
        bn15 = normalize_bn15(self.cleaned_data["bn15"])
        check_account_owner(bn15, self.importer)
        return bn15


# --- Portal user (the importer's people in the CCP) ----------------------------------------------


class PortalUserForm(forms.ModelForm):
    class Meta:
        model = PortalUser
        fields = [
            "full_name",
            "email",
            "ccp_role",
            "program_account",
            "sign_in_method",
            "responsibility",
            "profile_created",
            "access_approved",
        ]

    def __init__(self, *args: Any, importer: Importer, **kwargs: Any) -> None:
        kwargs.setdefault("instance", PortalUser(importer=importer))
        super().__init__(*args, **kwargs)
        self.importer = importer
        account = self.fields["program_account"]
        assert isinstance(account, forms.ModelChoiceField)  # the model's foreign key's form field
        account.queryset = ProgramAccount.objects.filter(importer=importer).order_by("bn15")
        account.empty_label = _("None")
        account.help_text = _("A PAM manages one program account: choose it here.")
        # self.fields maps names to Field: the stubs cannot know this one is a ChoiceField.
        cast(forms.ChoiceField, self.fields["sign_in_method"]).choices = [
            ("", _("Not known yet")),
            *PortalUser.SignInMethod.choices,
        ]
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        others = PortalUser.objects.filter(importer=self.importer, email=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(
                _("%(email)s is already one of this importer's portal users."),
                code="unique",
                params={"email": email},
            )
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        role = data.get("ccp_role")
        if role == PortalUser.CcpRole.PAM:
            if not data.get("program_account") and "program_account" not in self.errors:
                self.add_error(
                    "program_account",
                    ValidationError(
                        _("A Program Account Manager needs the program account they manage."),
                        code="required",
                    ),
                )
        elif role:
            data["program_account"] = None  # only a PAM is tied to one account
        return data


# --- Checklist step -------------------------------------------------------------------------------

MANUAL_CHOICES = [
    (Status.NOT_STARTED, Status.NOT_STARTED.label),
    (Status.IN_PROGRESS, Status.IN_PROGRESS.label),
    (Status.DONE, Status.DONE.label),
    (Status.BLOCKED, Status.BLOCKED.label),
]
DERIVED_CHOICES = [("", _("Follow the records")), (Status.BLOCKED, Status.BLOCKED.label)]


class StepForm(forms.Form):
    """A person's word on one checklist step (see ``onboarding.set_step_status``).

    Manual steps (1, 5, 7) take any status; derived steps only *blocked* or back to following
    the records, so nobody can tick a step the data does not support.
    """

    status = forms.ChoiceField(label=_("Status"), required=False)
    completed_on = forms.DateField(
        label=_("Completed on"),
        required=False,
        widget=DateInput(),
        help_text=_("For “done”; today if left empty."),
        validators=[business_date],
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, step: int, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_step{step}_%s")
        super().__init__(*args, **kwargs)
        self.step = step
        self.derived = is_derived(step)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)  # declared above as one
        # Accept every status so a refused one gets a clear message, offer only the valid ones.
        status.choices = [("", _("Follow the records")), *Status.choices]
        status.widget.choices = DERIVED_CHOICES if self.derived else MANUAL_CHOICES
        if self.derived:
            del self.fields["completed_on"]

    @classmethod
    def for_row(cls, row: OnboardingStep) -> StepForm:
        if is_derived(row.step):
            initial: dict[str, object] = {
                "status": Status.BLOCKED if row.manual_status == Status.BLOCKED else ""
            }
        else:
            initial = {
                "status": row.manual_status or Status.NOT_STARTED,
                "completed_on": row.completed_on,
            }
        initial["note"] = row.note
        return cls(step=row.step, initial=initial)

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if self.derived and status not in ("", Status.BLOCKED):
            raise ValidationError(
                _(
                    "Step %(step)d follows the importer's records; update them instead of "
                    "marking it “%(status)s”."
                ),
                code="derived",
                params={"step": self.step, "status": Status(status).label},
            )
        if not self.derived and not status:
            status = Status.NOT_STARTED
        return status

    def clean_completed_on(self):
        completed_on = self.cleaned_data["completed_on"]
        if completed_on and completed_on > timezone.localdate():
            raise ValidationError(_("The completion date cannot be in the future."), code="future")
        return completed_on

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        status = data.get("status")
        if status == Status.BLOCKED and not data.get("note", "").strip():
            self.add_error("note", ValidationError(_("Say what the step is waiting for.")))
        if status == Status.DONE and "completed_on" in self.fields and not data.get("completed_on"):
            data["completed_on"] = timezone.localdate()
        return data


# --- Importer list filters ------------------------------------------------------------------------

SORTS = {
    "name": ("legal_name", "pk"),
    "-name": ("-legal_name", "-pk"),
    "progress": ("steps_done", "legal_name", "pk"),
    "-progress": ("-steps_done", "legal_name", "pk"),
}


class ImporterFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Name, BN9 or program account"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *Importer.Status.choices]
    )
    agent = forms.ModelChoiceField(
        label=_("Assigned agent"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("Any"),
    )
    mine = forms.BooleanField(label=_("Only my clients"), required=False)
    group = forms.ModelChoiceField(
        label=_("Client group"),
        required=False,
        queryset=ClientGroup.objects.none(),
        empty_label=_("Any"),
    )
    stalled = forms.IntegerField(
        label=_("Onboarding stalled for (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("No checklist step done in that many days"),
    )
    step = forms.TypedChoiceField(
        label=_("Step"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", _("Any")),
            # format_lazy: an f-string would fix the step names in English when the class is made.
            *((v, format_lazy("{}. {}", v, label)) for v, label in OnboardingStep.Step.choices),
        ],
    )
    step_status = forms.ChoiceField(
        label=_("Step status"),
        required=False,
        choices=[("", _("Any")), *Status.choices],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
            ("progress", _("Least advanced first")),
            ("-progress", _("Most advanced first")),
        ],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if access.is_broker(user):
            agent = self.fields["agent"]
            assert isinstance(agent, forms.ModelChoiceField)  # declared above as one
            agent.queryset = access.assignable_agents()
            agent.label_from_instance = _person_label  # type: ignore[method-assign,assignment]  # Django's documented per-field override
            group = self.fields["group"]
            assert isinstance(group, forms.ModelChoiceField)  # declared above as one
            group.queryset = ClientGroup.objects.order_by("name")
        else:  # an importer's people see their own importer(s) only: no portfolio filters
            del self.fields["agent"]
            del self.fields["mine"]
            del self.fields["group"]

    @property
    def values(self) -> dict[str, Any]:
        """The valid choices (an invalid one is ignored and shown with its error)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data

    @property
    def is_filtered(self) -> bool:
        return any(v for k, v in self.values.items() if k != "sort")

    def filter_queryset(self, queryset: QuerySet[Importer]) -> QuerySet[Importer]:
        data = self.values
        if q := (data.get("q") or "").strip():
            queryset = queryset.filter(importer_search(q))
        if status := data.get("status"):
            queryset = queryset.filter(status=status)
        if agent := data.get("agent"):  # directly or through a client group (clients.portfolio)
            queryset = Portfolio(kind=AGENT, agent=agent).apply(queryset, importer_field="pk")
        if group := data.get("group"):
            queryset = queryset.filter(client_group=group)
        if days := data.get("stalled"):
            queryset = stalled_onboarding(queryset, today=cbsa_today(), days=days)
        if data.get("mine"):
            mine = Importer.objects.filter(access.my_clients_filter(self.user)).values("pk")
            queryset = queryset.filter(pk__in=mine)
        step, step_status = data.get("step"), data.get("step_status")
        if step_status:
            rows = OnboardingStep.objects.filter(status=step_status)
            if step:
                rows = rows.filter(step=step)
            queryset = queryset.filter(pk__in=rows.values("importer_id"))
        return queryset

    def ordering(self) -> tuple[str, ...]:
        return SORTS.get(self.values.get("sort") or "name", SORTS["name"])
