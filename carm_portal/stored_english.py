"""English sentences already stored, shown in the reader's language.

Some text is written once, in English, where no parts are kept (``carm_portal.stored_text`` is the
way for new sentences): an import batch's error reasons (the importers translate while the worker
runs in English), ``simple_history``'s change reasons ("Paid in full"), and the old values of a
checklist step's ``summary`` column in the history. ``translate`` finds the catalogue entry the
English text came from, reads its arguments back out of the text, and renders the entry in the
active language with them. Text that matches no entry (a person's own note, an identifier) is
returned unchanged.

Only entries with enough fixed words to be recognised are matched (``MIN_LITERAL``): a msgid such
as ``"%(value)s"`` would match anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import translation

MIN_LITERAL = 8
PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])|%([sd])")
_PO_ENTRY = re.compile(r'^msgid "(.*)"\nmsgid_plural "(.*)"$', re.M)


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    singular: str
    plural: str | None
    numbers: tuple[str, ...]  # the %(name)d arguments, turned back into ints
    literal: int  # how many fixed characters: longer first, so the most specific entry wins


def _compile(english: str, singular: str, plural: str | None) -> _Pattern | None:
    parts, last, numbers, groups = [], 0, [], 0
    for match in PLACEHOLDER.finditer(english):
        parts.append(re.escape(english[last : match.start()]))
        name = match.group(1) or f"_{groups}"
        groups += 1
        kind = match.group(2) or match.group(3)
        if kind == "d":
            numbers.append(name)
            parts.append(rf"(?P<{name}>-?\d+)")
        else:
            parts.append(rf"(?P<{name}>.+?)")
        last = match.end()
    parts.append(re.escape(english[last:]))
    literal = len(PLACEHOLDER.sub("", english))
    if (groups == 0 and plural is None) or literal < MIN_LITERAL or "%%" in english:
        return None
    try:
        regex = re.compile("".join(parts), re.S)
    except re.error:  # the same placeholder twice: not worth a guess
        return None
    return _Pattern(regex, singular, plural, tuple(numbers), literal)


def _msgids() -> tuple[set[str], list[tuple[str, str]]]:
    """The project's msgids: plain ones, and (singular, plural) pairs read from the catalogue."""
    plain: set[str] = set()
    plurals: list[tuple[str, str]] = []
    for path in settings.LOCALE_PATHS:
        for po in Path(path).glob("*/LC_MESSAGES/django.po"):
            text = po.read_text(encoding="utf-8")
            plurals.extend(_PO_ENTRY.findall(_unwrap(text)))
            plain.update(m for m in re.findall(r'^msgid "(.*)"$', _unwrap(text), re.M) if m)
    unescape = lambda s: s.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")  # noqa: E731
    return {unescape(m) for m in plain}, [(unescape(a), unescape(b)) for a, b in plurals]


def _unwrap(text: str) -> str:
    """Join a .po file's continued strings (``msgid ""`` then ``"…"`` lines) into one line."""
    return re.sub(r'"\n"', "", text)


@cache
def _patterns() -> tuple[frozenset[str], tuple[_Pattern, ...]]:
    plain, plurals = _msgids()
    plain -= {singular for singular, _plural in plurals}  # those are chosen by their count
    patterns = [p for m in plain if (p := _compile(m, m, None))]
    for singular, plural in plurals:
        patterns += [p for e in (singular, plural) if (p := _compile(e, singular, plural))]
    patterns.sort(key=lambda p: -p.literal)
    return frozenset(plain), tuple(patterns)


def translate(text: str) -> str:
    """``text`` (English, as stored) in the active language; unchanged when it is not a
    catalogue sentence or the active language is English."""
    if not text or (translation.get_language() or "en").split("-")[0] == "en":
        return text
    plain, patterns = _patterns()
    if text in plain:
        return translation.gettext(text)
    for pattern in patterns:
        match = pattern.regex.fullmatch(text)
        if match is None:
            continue
        args: dict[str, object] = {}
        for name, value in match.groupdict().items():
            args[name] = int(value) if name in pattern.numbers else _argument(value, plain)
        try:
            if pattern.plural is not None:
                count = next((int(args[n]) for n in pattern.numbers), 1)  # type: ignore[call-overload]
                template = translation.ngettext(pattern.singular, pattern.plural, count)
            else:
                template = translation.gettext(pattern.singular)
            return _fill(template, args)
        except (KeyError, TypeError, ValueError):
            return text
    return text


def _argument(value: str, plain: frozenset[str]) -> str:
    """An argument that is itself a catalogue sentence (a status, a step name) is translated."""
    return translation.gettext(value) if value in plain else value


def _fill(template: str, args: dict[str, object]) -> str:
    if any(name.startswith("_") for name in args):  # positional %s / %d
        return template % tuple(args[k] for k in sorted(args))
    return template % args
