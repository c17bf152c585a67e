"""Forms of the reconciliation pages: the exceptions workflow (assign, comment, resolve), the run
page's status filter and the portfolio worklist's filters.

The workflow's rules (note required, write-off limit, current run only) live in
``statements/workflow.py``; the views turn its ``WorkflowError`` into a form error, so the form
shows again with what was typed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.db.models.functions import Abs
from django.forms.models import ModelChoiceIteratorValue
from django.utils.translation import gettext_lazy as _

from carm_portal.calendar import start_of_day
from carm_portal.models import User
from clients.access import broker_staff
from clients.search import importer_search
from clients.validators import compact_identifier
from statements.models import ReconciliationItem
from statements.reconciliation.selectors import amount_at_risk
from statements.reports import EXCEPTION_CODES, STATUS_NAMES
from statements.workflow import COMMENT_MAX_LENGTH

Resolution = ReconciliationItem.Resolution


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.get_full_name()} <{obj.email}>" if obj.full_name else obj.email


class AssignForm(forms.Form):
    assignee = StaffChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (unassigned)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # self.fields maps names to Field: the stubs cannot know which kind each one is.
        cast(StaffChoiceField, self.fields["assignee"]).queryset = broker_staff()


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with this finding when the statement is reconciled again."),
    )


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Resolution"),
        choices=[(value, label) for value, label in Resolution.choices if value],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to explain or write off an item."),
    )


class BulkForm(forms.Form):
    """One action on the exceptions ticked on the worklist: assign them, or resolve them with one
    resolution and note (each still checked by the workflow's rules)."""

    ACTIONS = [("assign", _("Assign to")), ("resolve", _("Resolve as"))]

    items = forms.TypedMultipleChoiceField(
        coerce=int,
        label=_("Exceptions"),
        error_messages={"required": _("Tick at least one exception.")},
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS, widget=forms.RadioSelect)
    assignee = StaffChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (unassigned)"),
    )
    resolution = forms.ChoiceField(
        label=_("Resolution"),
        required=False,
        choices=[("", "—")] + [(value, label) for value, label in Resolution.choices if value],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000)

    def __init__(
        self,
        *args: Any,
        ids: list[int] | None = None,
        staff: list[User] | None = None,
        **kwargs: Any,
    ) -> None:
        """``staff``: ``broker_staff()`` already read (the worklist reads it once for both its
        forms); the assignee list is then drawn from it, the same options without a query. The
        field still checks what is posted against ``broker_staff()``."""
        super().__init__(*args, **kwargs)
        # self.fields maps names to Field: the stubs cannot know which kind each one is.
        assignee = cast(StaffChoiceField, self.fields["assignee"])
        assignee.queryset = broker_staff()
        if staff is not None:
            # ModelChoiceIterator's options: the empty one, then (pk with the user, label).
            assignee.widget.choices = [("", assignee.empty_label)] + [
                (
                    ModelChoiceIteratorValue(assignee.prepare_value(user), user),
                    assignee.label_from_instance(user),
                )
                for user in staff
            ]
        cast(forms.ChoiceField, self.fields["items"]).choices = [(pk, pk) for pk in ids or []]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # BaseForm.clean returns self.cleaned_data
        if data.get("action") == "resolve" and not data.get("resolution"):
            self.add_error("resolution", _("Choose how the exceptions were resolved."))
        return data


AGE_BUCKETS: dict[str, tuple[int, int | None]] = {
    "0-7": (0, 7),
    "8-30": (8, 30),
    "31-60": (31, 60),
    "61+": (61, None),
}


def exception_age_q(age: str, today: dt.date) -> Q:
    """An exception first seen ``AGE_BUCKETS[age]`` days ago (the worklist and the Today view).

    Said as a range of instants between two Eastern midnights rather than of local days, so the
    open-exception index on ``first_seen_at`` serves it (a band of 10,000 exceptions counted in
    2 ms instead of converting each of 41,000 to a local day)."""
    low, high = AGE_BUCKETS[age]
    # first seen before the day after (today - low), and on or after (today - high)
    q = Q(first_seen_at__lt=start_of_day(today - dt.timedelta(days=low - 1)))
    if high is not None:
        q &= Q(first_seen_at__gte=start_of_day(today - dt.timedelta(days=high)))
    return q


def exception_age(first_seen_on: dt.date, today: dt.date) -> str:
    """The ``AGE_BUCKETS`` key of an exception first seen on that local day ("" if none): the
    Python twin of ``exception_age_q``, for counts grouped by day."""
    days = (today - first_seen_on).days
    for key, (low, high) in AGE_BUCKETS.items():
        if days >= low and (high is None or days <= high):
            return key
    return ""


class WorklistForm(forms.Form):
    SORTS = [
        ("age", _("Oldest first")),
        ("-age", _("Newest first")),
        ("amount", _("Largest difference first")),
        ("importer", _("Importer")),
    ]

    q = forms.CharField(label=_("Importer, BN15 or transaction"), required=False, max_length=100)
    importer = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any exception"))] + [(c, STATUS_NAMES[c]) for c in EXCEPTION_CODES],
    )
    age = forms.ChoiceField(
        label=_("Age"),
        required=False,
        choices=[
            ("", _("Any age")),
            ("0-7", _("Up to a week")),
            ("8-30", _("8 to 30 days")),
            ("31-60", _("31 to 60 days")),
            ("61+", _("Over 60 days")),
        ],
    )
    min_amount = forms.DecimalField(
        label=_("Difference of at least"),
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)

    def __init__(self, *args: Any, staff: list[User] | None = None, **kwargs: Any) -> None:
        """``staff``: ``broker_staff()`` already read (shared with the worklist's ``BulkForm``)."""
        super().__init__(*args, **kwargs)
        # self.fields maps names to Field: the stubs cannot know which kind each one is.
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Anyone")),
            ("mine", _("Me")),
            ("unassigned", _("Nobody (unassigned)")),
        ] + [(str(u.pk), str(u)) for u in (broker_staff() if staff is None else staff)]


def filter_worklist(
    items: QuerySet[ReconciliationItem], data: dict[str, Any], *, user: User, today: dt.date
) -> QuerySet[ReconciliationItem]:
    """Apply the worklist filters from cleaned form data."""
    if q := (data.get("q") or "").strip():
        items = items.filter(
            importer_search(q, importer="importer__", account="statement__program_account__")
            | Q(transaction_number=compact_identifier(q))
        )
    if importer := data.get("importer"):
        items = items.filter(importer_id=importer)
    assignee = data.get("assignee") or ""
    if assignee == "mine":
        items = items.filter(assigned_to=user)
    elif assignee == "unassigned":
        items = items.filter(assigned_to=None)
    elif assignee.isdigit():
        items = items.filter(assigned_to_id=int(assignee))
    if status := data.get("status"):
        items = items.filter(status=status)
    if age := data.get("age"):
        items = items.filter(exception_age_q(age, today))
    if (minimum := data.get("min_amount")) is not None:
        # By the amount at risk: a line charged twice weighs what it charged again.
        items = items.alias(risk_size=Abs(amount_at_risk())).filter(risk_size__gte=minimum)
    return items
