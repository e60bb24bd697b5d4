"""The shape of the packages: no module takes another's private names, and imports form no cycle.

Every import counts, also one inside a function: a cycle hidden in a function still ties the
two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "index", "bench", "tests")


def modules_under(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(modules: dict[str, Path], name: str) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for each import of module ``name`` that
    reaches one of ``modules``."""
    path = modules[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names = [alias.name for alias in node.names]
            # ``from bot.chat import admin`` imports the module bot.chat.admin, not a name of bot.chat
            submodules = [n for n in names if f"{base}.{n}" in modules]
            found += [(f"{base}.{n}", [], node.lineno) for n in submodules]
            if len(submodules) < len(names):
                found.append((base, [n for n in names if n not in submodules], node.lineno))
    return [(target, names, line) for target, names, line in found if target in modules]


def private_imports(modules: dict[str, Path]) -> list[str]:
    """``file:line takes module._name`` for each private name one module takes from another."""
    return [
        f"{modules[name].name}:{line} takes {target}.{taken}"
        for name in modules
        for target, names, line in imports(modules, name)
        if target != name
        for taken in names
        if taken.startswith("_") and not taken.startswith("__")
    ]


def cycles(modules: dict[str, Path]) -> list[str]:
    """Each import cycle found by a depth-first walk, as ``a → b → a``."""
    graph = {name: sorted({target for target, _, _ in imports(modules, name)} - {name}) for name in modules}
    found: list[str] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        path.append(node)
        for nxt in graph[node]:
            if nxt in path:
                found.append(" → ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in done:
                visit(nxt)
        path.pop()
        done.add(node)

    for name in graph:
        if name not in done:
            visit(name)
    return found


def test_no_module_imports_private_names_of_another() -> None:
    assert private_imports(modules_under(PROJECT, PACKAGES)) == []


def test_imports_form_no_cycle() -> None:
    assert cycles(modules_under(PROJECT, PACKAGES)) == []


def test_the_checks_find_a_private_import_and_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import _helper\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from pkg import a\n")
    modules = modules_under(tmp_path, ("pkg",))
    assert private_imports(modules) == ["a.py:1 takes pkg.b._helper"]
    assert cycles(modules) == ["pkg.a → pkg.b → pkg.a"]
