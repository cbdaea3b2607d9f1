"""The code stays as STYLE.md asks: ruff and mypy clean, one root exception, modules of a readable length."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


PRODUCT = ("portal", "katalog", "generator", "search_index", "dynamic", "clerk")


def product_modules() -> list[Path]:
    """Every Python module of the product (the build's CLI build.py included), not its tests or tools."""
    return sorted([ROOT / "build.py", *(path for package in PRODUCT for path in (ROOT / package).rglob("*.py"))])


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_every_exception_of_the_product_derives_from_portal_error() -> None:
    """One root exception (portal/errors.py): a caller tells "the portal refused, with a message
    for a person" from a programming error by `except PortalError`. Modules that define no
    class are not imported (the WSGI entry point builds an app when it loads)."""
    from portal.errors import PortalError

    strays = []
    for path in product_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(node, ast.ClassDef) and node.bases for node in ast.walk(tree)):
            continue
        module = importlib.import_module(module_name(path))
        for name, value in vars(module).items():
            if (isinstance(value, type) and value.__module__ == module.__name__ and issubclass(value, BaseException)
                    and not issubclass(value, PortalError)):
                strays.append(f"{path.relative_to(ROOT)}: {name}")
    assert not strays, "exception classes that do not derive from PortalError: " + ", ".join(strays)


MAX_LINES = 500


def test_no_product_module_is_longer_than_500_lines() -> None:
    """A module a reader can hold in mind: split by concern before it grows past MAX_LINES."""
    lengths = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
               for path in product_modules()}
    too_long = sorted(f"{name} ({lines} lines)" for name, lines in lengths.items() if lines > MAX_LINES)
    assert not too_long, f"split these modules by concern (at most {MAX_LINES} lines each): " + ", ".join(too_long)
    assert len(lengths) > 50, "the product's modules were not found"
