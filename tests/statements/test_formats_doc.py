"""docs/formats.md stays true: its header aliases are the importer's, its samples import."""

import re
from pathlib import Path

from statements.importing.columns import ENTRY_COLUMNS, STATEMENT_COLUMNS

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def documented_aliases() -> dict[str, set[str]]:
    section = DOC.read_text().split("## Header aliases", 1)[1]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            table[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[1]))
    return table


def test_the_alias_table_is_the_importers():
    code: dict[str, set[str]] = {}
    for column in (*STATEMENT_COLUMNS, *ENTRY_COLUMNS):
        code.setdefault(column.name, set()).update(column.aliases)

    assert documented_aliases() == code


def test_the_doc_names_every_setting_it_mentions():
    from django.conf import settings

    names = set(re.findall(r"`(STATEMENTS_[A-Z_]+)`", DOC.read_text()))
    assert names
    assert all(hasattr(settings, name) for name in names)
