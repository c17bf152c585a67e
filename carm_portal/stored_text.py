"""Sentences stored untranslated and rendered in the reader's language.

A daily check writes its alerts once, in whatever language the worker runs (English), and the
checklist derives its summaries the same way; a French reader would then see English. So these
sentences are also stored as their *parts*: the untranslated msgid (singular and plural), its
arguments, and any nested sentences, as plain JSON. ``render`` translates them when shown, in the
active language; dates and amounts are formatted then too, so they follow the reader's locale.

The builders are named ``gettext`` and ``ngettext`` on purpose: ``makemessages`` extracts their
string literals like any other call of those names, so the catalogue keeps every msgid, and
nothing is translated until ``render``. Import the module, not the names::

    from carm_portal import stored_text as later
    later.gettext("Expired on %(day)s.", {"day": later.date(expiry)})

The JSON (kept small, for tables of 100,000 alerts):

* a plain string or number: shown as is (a BN15, a count, a person's note);
* ``{"t": msgid, "a": {name: part}}``, plus ``"p": plural, "n": count`` for a plural;
* ``{"c": [parts], "s": separator}``: parts joined, e.g. ``"Statement …: " + "… is due"``;
* ``{"d": "2026-11-30", "f": "DATE_FORMAT" | "iso"}``: a date;
* ``{"m": "1234.50"}``: an amount of money;
* ``{"x": "35.29"}``: a decimal number (a score), with the reader's decimal separator;
* ``{"en": name, "fr": name}``: a name kept in both languages (a training course's), see
  ``bilingual``;
* ``{"lower": part}``: a part in lower case (a choice label inside a sentence).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format, number_format

from carm_portal import stored_english
from carm_portal.money import format_money

Parts = Any  # str | int | dict | None: JSON, see the module docstring


def gettext(msgid: str, args: dict[str, Parts] | None = None) -> dict:
    """A sentence translated when shown; ``args`` fill its ``%(name)s`` placeholders."""
    parts: dict[str, Parts] = {"t": msgid}
    if args is not None:
        parts["a"] = args
    return parts


def ngettext(singular: str, plural: str, n: int, args: dict[str, Parts] | None = None) -> dict:
    """A sentence with a plural form, chosen for ``n`` in the reader's language when shown."""
    parts = gettext(singular, args)
    parts.update(p=plural, n=n)
    return parts


def concat(*parts: Parts, sep: str = "") -> dict:
    """Parts shown one after the other (``sep`` is punctuation, not translated)."""
    return {"c": list(parts), "s": sep}


def lowercase(parts: Parts) -> dict:
    """``parts`` in lower case once translated (a choice label used inside a sentence)."""
    return {"lower": parts}


def date(value: dt.date, *, iso: bool = False) -> dict:
    """A date shown in the reader's locale (``DATE_FORMAT``), or as ISO where the sentence always
    used ISO (statement days and deadlines, which clerks match against CBSA's ISO listings)."""
    return {"d": value.isoformat(), "f": "iso" if iso else "DATE_FORMAT"}


def money(value: Decimal | int | str | None) -> dict:
    """An amount shown in the reader's locale (``—`` for none), see ``format_money``."""
    return {"m": None if value is None else str(value)}


def number(value: Decimal | int | str) -> dict:
    """A decimal number shown with the reader's decimal separator (``35,29`` in French)."""
    return {"x": str(value)}


def bilingual(english: str, french: str = "") -> dict:
    """A name people typed in English and French (a training course's), shown in the reader's
    language: the French name to a French reader when there is one, else the English name,
    translated when it is a catalogue entry (a default course's, seeded in English). The names
    are copied, not referenced, so the sentence reads as it did when written."""
    parts = {"en": english}
    if french:
        parts["fr"] = french
    return parts


def _value(parts: Parts) -> Any:
    """An argument's value for ``%``: numbers stay numbers (for ``%(n)d``), the rest is text."""
    if isinstance(parts, dict):
        return render(parts)
    return parts


def render(parts: Parts, fallback: str = "") -> str:
    """The sentence in the active language; ``fallback`` (the stored text) when there are no
    parts, as on rows written before they were kept."""
    if parts is None:
        return fallback
    if not isinstance(parts, dict):
        return str(parts)
    if "t" in parts:
        if "p" in parts:
            text = translation.ngettext(parts["t"], parts["p"], parts["n"])
        else:
            text = translation.gettext(parts["t"])
        if "a" in parts:
            text = text % {name: _value(arg) for name, arg in parts["a"].items()}
        return text
    if "c" in parts:
        return parts.get("s", "").join(render(p) for p in parts["c"])
    if "lower" in parts:
        return render(parts["lower"]).lower()
    if "d" in parts:
        day = dt.date.fromisoformat(parts["d"])
        return day.isoformat() if parts.get("f") == "iso" else date_format(day, parts["f"])
    if "m" in parts:
        return format_money(parts["m"])
    if "x" in parts:
        return number_format(Decimal(parts["x"]), use_l10n=True)
    if "en" in parts:
        language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
        return parts.get(language) or stored_english.translate(parts["en"])
    return fallback


def show(parts: Parts, stored: str) -> str:
    """For pages: ``render``, but the stored text if the parts cannot be rendered (a catalogue
    whose placeholders drifted from an old row's arguments must not break the page)."""
    try:
        return render(parts, stored)
    except (KeyError, TypeError, ValueError):
        return stored


def render_stored(parts: Parts) -> str:
    """The text kept in the plain ``message``/``summary`` column: in the site's language
    (English), whoever triggered the write, so the column does not flip with the request."""
    with translation.override(settings.LANGUAGE_CODE):
        return render(parts)


def dumps(parts: Parts) -> str | None:
    """``parts`` as the JSON column takes it in raw SQL writes (COPY, ``update_rows``)."""
    return None if parts is None else json.dumps(parts)
