"""``get_FOO_display`` translates only the label it shows (carm_portal/choice_labels.py), and says
exactly what Django's own method says, for every choice of every model, in both languages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.utils import translation

from carm_portal.choice_labels import DJANGO_DISPLAY, display
from delegation.models import Delegation


def choice_fields():
    for model in apps.get_models():
        for field in model._meta.local_fields:
            if field.choices:
                yield model, field


def test_every_choice_reads_as_djangos_own_in_english_and_french():
    checked = 0
    for model, field in choice_fields():
        values = [choice for choice, _label in field.flatchoices] + ["not-a-choice", None]
        for value in values:
            instance = model.__new__(model)
            instance.__dict__[field.attname] = value
            shown = getattr(instance, f"get_{field.name}_display")
            for language in ("en", "fr"):
                with translation.override(language):
                    assert shown() == DJANGO_DISPLAY(instance, field), (model, field, value)
                    checked += 1
    assert checked > 500  # every model's choices, not a handful


def test_the_models_use_it_where_django_made_the_method():
    made = Delegation.__dict__["get_status_display"]
    assert made.func is display
    assert sum(1 for _model, _field in choice_fields()) > 30


class Label:
    """A lazy label that counts how often it is hashed or turned into text (translated)."""

    def __init__(self, text: str, seen: list[str]) -> None:
        self.text, self.seen = text, seen

    def __hash__(self) -> int:
        self.seen.append(f"hash {self.text}")
        return hash(self.text)

    def __str__(self) -> str:
        self.seen.append(f"str {self.text}")
        return self.text


def test_only_the_label_shown_is_translated():
    seen: list[str] = []
    field = SimpleNamespace(
        attname="kind",
        flatchoices=[(f"k{n}", Label(f"Kind {n}", seen)) for n in range(10)],
    )
    instance = SimpleNamespace(kind="k7")

    assert str(display(instance, field)) == "Kind 7"  # type: ignore[arg-type]
    assert seen == ["str Kind 7"]

    seen.clear()
    DJANGO_DISPLAY(instance, field)  # Django's: every label hashed, so translated
    assert len([s for s in seen if s.startswith("hash")]) == 10


@pytest.mark.parametrize("value, expected", [("k1", "Kind 1"), ("zz", "zz"), (None, None)])
def test_a_value_without_a_label_is_shown_as_itself(value, expected):
    field = SimpleNamespace(attname="kind", flatchoices=[("k1", "Kind 1")])
    assert display(SimpleNamespace(kind=value), field) == expected  # type: ignore[arg-type]
