"""Audit history for pages: the latest django-simple-history records of several models, as
readable entries (who, when, what changed from what to what), newest first.

A fixed number of queries whatever the length of the history: for each source its latest records
(each annotated with the id of the record before it), the previous records in one query per
model, and one query per model that changed foreign keys point at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.db.models import (
    Field,
    ForeignKey,
    ManyToManyField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from carm_portal import stored_english

ALWAYS_HIDDEN = {"id", "created_at", "updated_at"}
# Columns that keep a generated English sentence (a checklist step's summary, an alert's message):
# their old values are shown in the reader's language.
STORED_IN_ENGLISH = {"summary", "message"}


@dataclass
class HistoryEntry:
    when: datetime
    who: Any
    action: str  # created / changed / deleted
    subject: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, old, new)
    reason: str = ""


@dataclass(frozen=True)
class Source:
    """One model's history records to show, and how to name the object a record is about."""

    model: type[Model]
    records: QuerySet
    subject: Callable[[Any], str]


def records_of(model: type[Model]) -> QuerySet:
    """All the history records of ``model``, to filter into a ``Source``.

    Not ``Model.history``: simple-history's descriptor builds a new manager class (and lists
    its queryset's methods) on every access, about 0.1 ms of CPU each time, several times a page.
    """
    return _history_model(model)._default_manager.all()


@cache
def _history_model(model: type[Model]) -> type[Model]:
    """The historical model simple-history made for ``model`` (fixed once the apps are ready)."""
    return model.history.model  # type: ignore[attr-defined]  # simple-history (untyped) adds .history to the model


def _field(model: type[Model], name: str) -> Field:
    """A field a history record stores: always a concrete field, never a reverse relation."""
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, Field)  # a record's diff names only the model's own columns
    return model_field


def _target(model_field: ForeignKey | ManyToManyField) -> type[Model]:
    """The model a relation points at."""
    target = model_field.related_model
    assert not isinstance(target, str)  # Django resolved a "self" when the model was prepared
    return target


def display(model: type[Model], name: str, value: Any, related: dict) -> str:
    """A history value as a person reads it: choice labels, names for foreign keys, dates."""
    if value is None or value == "":
        return "—"
    model_field = _field(model, name)
    if isinstance(model_field, ForeignKey):
        return str(related.get((model_field.related_model, value), f"#{value}"))
    if isinstance(model_field, ManyToManyField):
        return (
            ", ".join(sorted(str(related.get((model_field.related_model, v), v)) for v in value))
            or "—"
        )
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if hasattr(value, "isoformat") and not isinstance(value, datetime):
        return date_format(value, "Y-m-d")
    if name in STORED_IN_ENGLISH:
        return stored_english.translate(str(value))
    return str(value)


def _m2m_ids(model: type[Model], name: str, value: Any) -> list[Any]:
    """simple-history gives m2m changes as lists of through-row dicts: the target ids."""
    m2m_field = model._meta.get_field(name)
    assert isinstance(m2m_field, ManyToManyField)  # only called for a many-to-many field
    target = m2m_field.m2m_reverse_field_name()
    return [row[target] if isinstance(row, dict) else row for row in value or []]


def history_entries(
    sources: Sequence[Source], *, hidden: Set[str] = frozenset(), limit: int = 20
) -> list[HistoryEntry]:
    hidden = set(hidden) | ALWAYS_HIDDEN
    latest: list[tuple[Source, Any]] = []
    for source in sources:
        history_model = source.records.model
        previous = history_model.objects.filter(id=OuterRef("id")).filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        records = (
            source.records.select_related("history_user")
            .annotate(
                previous_id=Subquery(
                    previous.order_by("-history_date", "-history_id").values("history_id")[:1]
                )
            )
            .order_by("-history_date", "-history_id")[: limit * 2]
        )
        latest.extend((source, record) for record in records)
    latest.sort(key=lambda item: (item[1].history_date, item[1].history_id), reverse=True)
    latest = latest[: limit * 2]

    wanted: dict[type[Model], list[int]] = defaultdict(list)
    history_models: dict[type[Model], Any] = {}  # simple-history's generated (untyped) models
    for source, record in latest:
        if record.history_type == "~" and record.previous_id:
            wanted[source.model].append(record.previous_id)
            history_models[source.model] = source.records.model
    previous_records: dict[tuple[type[Model], int], Any] = {}
    for model, ids in wanted.items():
        for old in history_models[model]._default_manager.filter(history_id__in=ids):
            previous_records[(model, old.history_id)] = old

    deltas: list[tuple[Source, Any, list]] = []
    related_ids: dict[type[Model], set] = defaultdict(set)
    for source, record in latest:
        model = source.model
        changes = []
        old = previous_records.get((model, record.previous_id))
        if record.history_type == "~" and old is not None:
            diff = record.diff_against(old, excluded_fields=hidden).changes
            for change in diff:
                if change.field in hidden:
                    continue
                model_field = _field(model, change.field)
                before, after = change.old, change.new
                if isinstance(model_field, ManyToManyField):
                    before = _m2m_ids(model, change.field, before)
                    after = _m2m_ids(model, change.field, after)
                    related_ids[_target(model_field)].update(before, after)
                elif isinstance(model_field, ForeignKey):
                    related_ids[_target(model_field)].update(
                        v for v in (before, after) if v is not None
                    )
                changes.append((change.field, before, after))
            if not changes and not record.history_change_reason:
                continue  # saved without a visible change (e.g. a re-derivation that kept all)
        deltas.append((source, record, changes))
        if len(deltas) == limit:
            break

    related: dict[tuple[type[Model], Any], Model] = {}
    for related_model, pks in related_ids.items():
        for obj in related_model._default_manager.filter(pk__in=pks):
            related[(related_model, obj.pk)] = obj

    actions = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
    return [
        HistoryEntry(
            when=record.history_date,
            who=record.history_user,
            action=actions.get(record.history_type, record.history_type),
            subject=source.subject(record),
            reason=stored_english.translate(record.history_change_reason or ""),
            changes=[
                (
                    str(_field(source.model, name).verbose_name),
                    display(source.model, name, before, related),
                    display(source.model, name, after, related),
                )
                for name, before, after in changes
            ],
        )
        for source, record, changes in deltas
    ]
