"""Forms of the staff and client-group pages (broker admins)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carm_portal.models import User
from clients import access
from clients.access import BROKER_ROLE_LABELS, BrokerRole
from clients.models import ClientGroup, Importer
from clients.validators import normalize_bn9

ROLE_CHOICES = [(role.value, BROKER_ROLE_LABELS[role]) for role in BrokerRole]


def _person(user: User) -> str:
    return f"{user.get_full_name()} <{user.email}>" if user.full_name else user.email


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ROLE_CHOICES, label=_("Roles"), **kwargs)

    def clean(self, value: Any) -> list[BrokerRole]:
        return [BrokerRole(v) for v in super().clean(value)]


class InviteStaffForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    roles = RolesField()


class RolesForm(forms.Form):
    roles = RolesField()


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _person(obj)


class AgentsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Any) -> str:
        return _person(obj)


class DeactivateForm(forms.Form):
    successor = AgentChoiceField(
        label=_("Hand their clients and groups to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (they have no clients)"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["successor"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above as one
        field.queryset = access.assignable_agents().exclude(pk=user.pk)


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    agents = AgentsField(label=_("Agents"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agents"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # declared above as one
        field.queryset = access.assignable_agents()


NO_GROUP, NO_AGENT = "none", "none"


class MoveForm(forms.Form):
    """Which importers (from a group, from an agent, or by BN9) go to which group or agent."""

    from_group = forms.ModelChoiceField(
        label=_("Importers of the group"), queryset=ClientGroup.objects.none(), required=False
    )
    from_agent = AgentChoiceField(
        label=_("Importers assigned to"), queryset=User.objects.none(), required=False
    )
    bn9s = forms.CharField(
        label=_("Or these business numbers (BN9)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or more, separated by spaces, commas or new lines."),
    )
    to_group = forms.ChoiceField(label=_("Move to the group"), required=False)
    to_agent = forms.ChoiceField(label=_("Assign to"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = list(ClientGroup.objects.order_by("name"))
        agents = list(access.assignable_agents())
        from_group = self.fields["from_group"]
        assert isinstance(from_group, forms.ModelChoiceField)  # declared above as one
        from_group.queryset = ClientGroup.objects.order_by("name")
        from_agent = self.fields["from_agent"]
        assert isinstance(from_agent, forms.ModelChoiceField)  # declared above as one
        from_agent.queryset = access.assignable_agents()
        keep = ("", _("Leave as it is"))
        self.fields["to_group"].choices = [  # type: ignore[attr-defined]
            keep,
            (NO_GROUP, _("No group")),
            *((str(g.pk), g.name) for g in groups),
        ]
        self.fields["to_agent"].choices = [  # type: ignore[attr-defined]
            keep,
            (NO_AGENT, _("Nobody")),
            *((str(a.pk), _person(a)) for a in agents),
        ]

    def clean_bn9s(self) -> list[str]:
        raw = self.cleaned_data.get("bn9s") or ""
        numbers = [part for part in raw.replace(",", " ").split() if part]
        return [normalize_bn9(n) for n in numbers]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("from_group") or data.get("from_agent") or data.get("bn9s")):
            raise forms.ValidationError(_("Say which importers to move."))
        if not (data.get("to_group") or data.get("to_agent")):
            raise forms.ValidationError(_("Choose a group or an agent to move them to."))
        return data

    def importers(self) -> Any:
        data = self.cleaned_data
        importers = Importer.objects.all()
        if data.get("from_group"):
            importers = importers.filter(client_group=data["from_group"])
        if data.get("from_agent"):
            importers = importers.filter(assigned_agent=data["from_agent"])
        if data.get("bn9s"):
            importers = importers.filter(bn9__in=data["bn9s"])
        return importers
