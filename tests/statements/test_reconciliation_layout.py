"""The reconciliation package keeps its shape: domain modules never import the Celery tasks (the
tasks import them), database differences live in ``dialect`` alone, and no module grows past
~600 lines without saying why in its docstring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import statements.reconciliation

PACKAGE = Path(statements.reconciliation.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_reconciliation_module_imports_the_tasks(path):
    assert {n for n in _imported(path) if n.startswith("statements.tasks")} == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_only_the_dialect_asks_which_database_it_is(path):
    code = path.read_text()
    uses = ".vendor ==" in code or ".vendor !=" in code or "vendor in" in code
    assert (path.name, uses) == (path.name, False)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_long_module_says_why(path):
    lines = len(path.read_text().splitlines())
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert lines <= 600 or "long" in docstring.lower()


def test_the_old_catch_all_module_is_gone():
    assert not (PACKAGE.parent / "reconcile.py").exists()
