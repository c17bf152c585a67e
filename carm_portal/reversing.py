"""URL reversing, remembered per process.

Django's ``reverse`` walks the resolver's namespaces, fills the pattern and checks the candidate
against the pattern's regular expression on every call: about 70 µs on this project's 2-core
machine. A list page reverses one or two URLs per row (the importer's page, the statement, the
exception), so 50 rows cost 4 to 8 ms of the request's CPU, about a tenth of a list page under
the load test (``bench/load_pages.py``). The answer depends only on the view name, the arguments,
the URLconf, the script prefix and the current application, so it is kept in a bounded
least-recently-used table keyed on all of them. Arguments other than ``str`` and ``int`` (a model,
a lazy string) go to Django each time: their text could change under the same key.

``reverse`` here is Django's, with the same arguments; ``{% url %}`` uses it through
``carm_portal.templatetags.url_tag``. The table is emptied when a test swaps ``ROOT_URLCONF``
(Django's own URL caches are cleared on the same signal).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse

#: Enough for every detail page of a large portfolio in each namespace that links to it.
CACHED_URLS = 16_384


@functools.lru_cache(maxsize=CACHED_URLS)
def _reverse(
    viewname: str,
    args: tuple[str | int, ...],
    kwargs: tuple[tuple[str, str | int], ...],
    current_app: str | None,
    urlconf: str | None,
    prefix: str,
) -> str:
    # ``prefix`` is part of the key only: Django reads the script prefix itself.
    return django_reverse(
        viewname, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app
    )


def _plain(value: Any) -> str | int | None:
    """A string or an integer as itself (a safe string as plain text), anything else ``None``."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return None


def reverse(
    viewname: Any,
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    current_app: str | None = None,
) -> str:
    """Django's ``reverse`` (``NoReverseMatch`` included), from the table when the view is named
    by a string and every argument is a string or an integer."""
    name = _plain(viewname)
    plain_args = tuple(_plain(arg) for arg in args or ())
    plain_kwargs = tuple(sorted((key, _plain(value)) for key, value in (kwargs or {}).items()))
    if (
        not isinstance(name, str)
        or None in plain_args
        or any(value is None for _, value in plain_kwargs)
    ):
        return django_reverse(
            viewname, args=args, kwargs=dict(kwargs or {}), current_app=current_app
        )
    return _reverse(
        name,
        plain_args,  # no None: checked above
        plain_kwargs,
        current_app or None,
        get_urlconf(),
        get_script_prefix(),
    )


@receiver(setting_changed)
def _forget_on_new_urlconf(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _reverse.cache_clear()
