"""Dependencies point one way, and no package's modules import each other in a circle.

The contracts are in pyproject.toml (``[tool.importlinter]``): the layers from the pages and flows
at the top (``carm_portal/importer_home``, ``onboarding_wizard``, ``demo``) through ``payments``,
``delegation`` and ``statements``, ``clients``, down to the shared kit of ``carm_portal/``, and no
cycle between the modules or subpackages of a package. Imports inside functions count; imports
under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

# carm_portal's modules that no layer needs to name: configuration, the Celery app (it imports
# no module of the project) and migrations.
UNLAYERED = {"__init__", "settings", "celery", "migrations"}


def test_the_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run(  # noqa: S603
        [str(lint_imports), "--no-cache", str(PYPROJECT)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout, whatever is installed
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_of_the_project_package_has_a_layer():
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["id"] == "layers")
    named = {
        name.strip().removeprefix("carm_portal.")
        for layer in layers
        for name in layer.replace("|", ":").split(":")
        if name.strip().startswith("carm_portal.")
    }
    children = {
        path.stem if path.is_file() else path.name
        for path in (ROOT / "carm_portal").iterdir()
        if path.suffix == ".py" or (path / "__init__.py").exists()
    }

    assert children - UNLAYERED - named == set(), "name the new module in a layer of pyproject.toml"
