"""``get_FOO_display`` that translates one label, not every label of the field.

Django's ``Model._get_FIELD_display`` builds ``dict(make_hashable(field.flatchoices))`` on every
call: hashing each (value, label) pair forces each lazy label through ``gettext``. A list of 50
delegations shows a handful of choice fields per row, so the page translated about 800 labels to
show 250 of them: a fifth of its web CPU, on the pages the load test measures. Here only the values
are hashed and only the label shown is translated; the result is the same string
(``tests/test_choice_labels.py`` compares it with Django's own for every choice of every model).

Applied to every model as it is created (``class_prepared``, connected in ``carm_portal/apps.py``
before any model module is imported), and only where Django put its own method: a model that
defines ``get_FOO_display`` itself keeps it.
"""

from __future__ import annotations

from functools import partialmethod
from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

DJANGO_DISPLAY = models.Model._get_FIELD_display  # type: ignore[attr-defined]


def display(instance: models.Model, field: models.Field) -> Any:
    """The label of ``instance``'s value of ``field`` (the value itself when it has none)."""
    value = getattr(instance, field.attname)
    wanted = make_hashable(value)
    for choice, label in field.flatchoices:
        if make_hashable(choice) == wanted:
            return force_str(label, strings_only=True)
    return force_str(value, strings_only=True)


def use_for(sender: type[models.Model], **kwargs: object) -> None:
    """Point each ``get_FOO_display`` Django made for ``sender`` at ``display``."""
    for field in sender._meta.local_fields:  # the registry is not ready: no get_fields() yet
        if not field.choices:
            continue
        name = f"get_{field.name}_display"
        made = sender.__dict__.get(name)
        if isinstance(made, partialmethod) and made.func is DJANGO_DISPLAY:
            setattr(sender, name, partialmethod(display, field=field))
