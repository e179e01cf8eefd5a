"""The import arrows point downwards: cli -> applications -> registry -> core.

Every module's imports are read with ``ast`` (function-level imports included, which is
where a hidden cycle hides), and each package may import only the packages allowed
below. A new package must be placed in ``LAYERS`` before it can be imported anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import inpaint_toolkit

PACKAGE_ROOT = Path(inpaint_toolkit.__file__).parent

APPLICATIONS = {"data", "models", "inpainting", "training", "evaluation", "export", "photo"}
# What each top-level part of the package may import from the package.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "registry": {"core", "registry", "plugins"},  # plugins: the built-ins' module names
    # A plugin depends on core; one that wraps a whole application (the dcgan inpainter
    # wraps the z-search) may import that application.
    "plugins": {"core", "plugins", "inpainting", "models"},
    "data": {"core", "data"},
    "models": {"core", "registry", "models"},
    "inpainting": {"core", "registry", "data", "models", "photo", "inpainting"},
    "evaluation": {"core", "registry", "data", "models", "evaluation"},
    "training": {"core", "registry", "data", "models", "evaluation", "training"},
    "export": {"core", "registry", "models", "export"},
    "photo": {"core", "photo"},
    "serve": {"core", "registry", "serve", *APPLICATIONS},
    "cli": {"__init__", "core", "registry", "cli", "serve", *APPLICATIONS},  # __version__
    # Top-level modules: the public error alias, the plugin authors' contract checks.
    "errors": {"core"},
    "testing": {"core", "plugins"},
    "__init__": set(),
    "__main__": {"cli"},
}


def part_of(module: Path) -> str:
    relative = module.relative_to(PACKAGE_ROOT)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_parts(module: Path) -> list[tuple[int, str, str]]:
    """(line, imported module, part of the package it is in) for every package import."""
    tree = ast.parse(module.read_text(), filename=str(module))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{module}:{node.lineno}: relative import; spell it out")
        for name in names:
            parts = name.split(".")
            if parts[0] == "inpaint_toolkit" and len(parts) > 1:
                found.append((node.lineno, name, parts[1]))
            elif parts[0] == "inpaint_toolkit":
                found.append((node.lineno, name, "__init__"))
    return found


def violations(root: Path) -> list[str]:
    problems = []
    for module in sorted(root.rglob("*.py")):
        part = part_of(module)
        allowed = ALLOWED.get(part)
        if allowed is None:
            problems.append(f"{module.relative_to(root)}: part {part!r} has no place in ALLOWED")
            continue
        for line, name, target in imported_parts(module):
            if target not in allowed:
                problems.append(
                    f"{module.relative_to(root)}:{line} imports {name} ({part} -> {target})"
                )
    return problems


def test_imports_only_point_downwards():
    problems = violations(PACKAGE_ROOT)
    assert not problems, "imports against the layering:\n" + "\n".join(problems)


def test_a_core_module_importing_the_registry_is_caught(tmp_path):
    fake = tmp_path / "core"
    fake.mkdir()
    (fake / "search.py").write_text(
        "def build():\n    from inpaint_toolkit.registry import get_registry\n"
    )
    global PACKAGE_ROOT
    saved, PACKAGE_ROOT = PACKAGE_ROOT, tmp_path
    try:
        problems = violations(tmp_path)
    finally:
        PACKAGE_ROOT = saved
    assert problems == ["core/search.py:2 imports inpaint_toolkit.registry (core -> registry)"]


@pytest.mark.parametrize("module", sorted(PACKAGE_ROOT.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_is_over_400_lines(module):
    lines = len(module.read_text().splitlines())
    assert lines <= 400, f"{module.relative_to(PACKAGE_ROOT)} has {lines} lines"
