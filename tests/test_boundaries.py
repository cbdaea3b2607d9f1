"""The packages keep their import rules (pyproject.toml, [tool.importlinter]): the app and
the search index import nothing from the build, the shared vocabulary (portal/) imports
none of the others, and the top-level packages form no cycle. Imports that break a rule
for now are listed there by name, each with the step of issue 16 that removes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
