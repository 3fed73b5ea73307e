"""The sandbox is self-contained: it imports none of our code, and exports what it names."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import sandbox

PACKAGE = Path(sandbox.__file__).resolve().parent
OUR_PACKAGES = {"bot", "channels", "actions", "launcher"}
MODULES = sorted(
    f"sandbox.{info.name}"
    for info in pkgutil.iter_modules([str(PACKAGE)])
    if info.name != "__main__"
)


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_the_sandbox_imports_nothing_of_our_code(path: Path) -> None:
    assert not _imported_roots(path) & OUR_PACKAGES


@pytest.mark.parametrize("name", MODULES)
def test_every_module_exports_names_it_defines(name: str) -> None:
    module = importlib.import_module(name)

    assert hasattr(module, "__all__"), f"{name} has no __all__"
    assert [export for export in module.__all__ if not hasattr(module, export)] == []


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
