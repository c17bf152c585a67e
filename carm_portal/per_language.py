"""What a page writes on every row in words (column names, choice names, "Not assigned"),
translated once per process and language rather than once per row or page.

The list pages write their rows in Python (``clients/templatetags/client_rows.py`` and the
others); each asks for its words through a ``per_language`` function, which builds them in the
active language the first time that language asks and hands back the same object after. The
languages are the few of ``LANGUAGES``, so nothing is ever evicted; a change of settings (a test's
languages or translation files) empties every table, as Django forgets its own translations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import get_language

T = TypeVar("T")

_TABLES: list[dict[str | None, Any]] = []


class PerLanguage(Generic[T]):
    """``build()`` in the active language, remembered for that language."""

    def __init__(self, build: Callable[[], T]) -> None:
        self.build = build
        self.built: dict[str | None, T] = {}
        _TABLES.append(self.built)
        functools.update_wrapper(self, build)

    def __call__(self) -> T:
        language = get_language()
        try:
            return self.built[language]
        except KeyError:
            value = self.built[language] = self.build()
            return value


def per_language(build: Callable[[], T]) -> PerLanguage[T]:
    """Decorator: ``build`` run once per language (see the module's docstring)."""
    return PerLanguage(build)


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    for table in _TABLES:
        table.clear()
