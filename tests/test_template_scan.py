"""Scans of every template for two mistakes a page review keeps finding:

- an amount rendered raw (``{{ statement.closing_balance }}`` prints ``15435.94`` beside the
  ``$12,524.90`` of the money filter): every money field goes through ``|money``;
- English words outside ``{% translate %}`` / ``{% blocktranslate %}``, which stay English on a
  French page.

Both are pragmatic: the money scan knows money by its field names, the text scan by letters
between tags. Each has a test showing it fails on the mistake it looks for.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# --- Money ----------------------------------------------------------------------------------------

MONEY_NAME = re.compile(
    r"^(amount|balance|difference|owing|outstanding|available|coverage|peak|interest|billed"
    r"|declared|room|tolerance|limit|write_off_limit|opening|closing|computed|unapplied"
    r"|allocated)$"
    r"|_(amount|balance|difference|owing|outstanding|available|interest|closing)$"
    r"|^(statement|entry|lines|difference|billed|declared|in_transit|paid|owed|charges)_total$"
    r"|^total_(owed|paid|due)$|^required_(bond|cash)$"
)
MONEY_FILTERS = {"money", "money_whole"}
# Amounts whose names do not say so: a balance check's sum of its lines, a component's two sides.
KNOWN_AMOUNTS = (
    "balance.lines",
    "check.lines",
    "c.statement",
    "c.entry",
    "totals.not_broken_down",
)
VARIABLE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
BLOCKTRANSLATE = re.compile(
    r"\{%\s*blocktranslate\b(.*?)%\}(.*?)\{%\s*endblocktranslate\s*%\}", re.S
)
BINDING = re.compile(r"(\w+)=((?:\"[^\"]*\"|'[^']*'|[^\s%])+)")
WITH_TAG = re.compile(r"\{%\s*(?:with|include)\b(.*?)%\}")


def expressions(source: str) -> list[str]:
    """The variable expressions a template renders: ``{{ … }}`` outside blocktranslate, and the
    values bound by ``blocktranslate with``, ``with`` and ``include … with``."""
    found: list[str] = []

    def bindings(match: re.Match) -> str:
        found.extend(expr for _name, expr in BINDING.findall(match.group(1)))
        return ""

    rest = BLOCKTRANSLATE.sub(bindings, source)
    for match in WITH_TAG.finditer(rest):
        found.extend(expr for _name, expr in BINDING.findall(match.group(1)))
    found.extend(VARIABLE.findall(rest))
    return found


def raw_money(source: str) -> list[str]:
    raw = []
    for expression in expressions(source):
        path, *filters = expression.split("|")
        path = path.strip()
        if path.split(".")[0].endswith("form") or path.startswith(("'", '"')):
            continue  # a form field renders its own input; a literal is not an amount
        names = {f.split(":")[0].strip() for f in filters}
        if names & {"date", "time", "naturalday"}:
            continue  # a date that happens to be called "limit" or "closing"
        is_money = MONEY_NAME.search(path.split(".")[-1]) or path in KNOWN_AMOUNTS
        if is_money and not names & MONEY_FILTERS:
            raw.append(expression)
    return raw


def template_files(*suffixes: str) -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in suffixes)


def test_every_amount_in_a_template_goes_through_the_money_filter():
    offenders = {
        str(path.relative_to(TEMPLATES)): found
        for path in template_files(".html", ".txt")
        if (found := raw_money(path.read_text()))
    }
    assert not offenders, f"amounts rendered without |money: {offenders}"


def test_the_money_scan_finds_a_raw_amount():
    assert raw_money("<td>{{ statement.closing_balance }}</td>") == ["statement.closing_balance"]
    assert raw_money('{{ item.difference|default_if_none:"—" }}') == [
        'item.difference|default_if_none:"—"'
    ]
    assert raw_money(
        "{% blocktranslate with diff=check.difference %}Off by {{ diff }}{% endblocktranslate %}"
    ) == ["check.difference"]
    assert raw_money("{{ statement.closing_balance|money }} {{ form.amount }}") == []
    assert raw_money('{{ bond_form.bond_amount }} {{ limit|date:"Y-m-d" }}') == []


# --- Text outside translate tags ------------------------------------------------------------------

TAG_OR_VAR = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
TRANSLATED = re.compile(
    r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}|\{%\s*translate\b.*?%\}", re.S
)
COMMENT_BLOCK = re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S)
# Blocks that fill in markup (a body class, a form's attributes), not text.
MARKUP_BLOCK = re.compile(
    r"\{%\s*block (body_class|form_attrs)\s*%\}.*?\{%\s*endblock\b[^%]*%\}", re.S
)
ENTITY = re.compile(r"&#?\w+;")
SKIPPED_ELEMENTS = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
TAG = re.compile(r"<[^>]*>")
# Attributes people read (or hear): their values must be translated too.
READ_ATTRIBUTES = re.compile(r'\s(?:title|alt|placeholder|aria-label)="([^"]*)"')
WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")

# Words that are the same in both languages, or names: the product, the agencies, identifiers.
ALLOWED_WORDS = {
    "CBSA",
    "ASFC",
    "CARM",
    "GCRA",
    "CCP",
    "BN",
    "BN9",
    "BN15",
    "RM",
    "CAD",
    "CSV",
    "PDF",
    "API",
    "BAM",
    "GCE",
    "PAM",
    "carm",
    "portal",
    "English",
    "Français",
    "OK",
    "HTMX",
    "ID",
    "SOA",
    "TOTP",
    "Email",
}
# Templates that are not pages: allauth's element templates (markup only), the text e-mail
# bodies are scanned like pages.
SKIPPED_TEMPLATES = ("allauth/elements/",)


def untranslated_text(source: str) -> list[str]:
    """Words a reader sees that no translate tag covers."""
    text = MARKUP_BLOCK.sub(" ", COMMENT_BLOCK.sub(" ", source))
    text = ENTITY.sub(" ", text)
    text = TRANSLATED.sub(" ", text)
    text = HTML_COMMENT.sub(" ", text)
    text = SKIPPED_ELEMENTS.sub(" ", text)
    attributes = READ_ATTRIBUTES.findall(text)
    text = TAG.sub(" ", TAG_OR_VAR.sub(" ", text))
    pieces = [TAG_OR_VAR.sub(" ", a) for a in attributes] + [text]
    words = [w for piece in pieces for w in WORD.findall(piece)]
    return [w for w in words if w not in ALLOWED_WORDS]


def test_no_template_shows_text_outside_translate_tags():
    offenders = {}
    for path in template_files(".html", ".txt"):
        name = str(path.relative_to(TEMPLATES))
        if name.startswith(SKIPPED_TEMPLATES):
            continue
        if found := untranslated_text(path.read_text()):
            offenders[name] = found[:8]
    assert not offenders, f"text outside {{% translate %}}: {offenders}"


def test_the_text_scan_finds_an_untranslated_word():
    assert untranslated_text("<p>{% translate 'Paid' %}</p>") == []
    assert untranslated_text("<p>Paid in full</p>") == ["Paid", "in", "full"]
    assert untranslated_text('<a title="Open the statement" href="{{ url }}">x</a>') == [
        "Open",
        "the",
        "statement",
    ]
    assert untranslated_text("<p>{{ statement.bn15 }} · CBSA&nbsp;</p>") == []
    assert untranslated_text("{% block body_class %}auth auth--wide{% endblock body_class %}") == []
