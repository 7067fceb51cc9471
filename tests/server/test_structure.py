"""The server's modules import each other without a circle.

Every import of one module of the package by another counts: at the top, inside a function,
or under ``TYPE_CHECKING``. A circle means wiring patched after construction, or a module
that cannot be read (or imported) on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sinch_calling_server

PACKAGE = Path(sinch_calling_server.__file__).parent
NAME = "sinch_calling_server"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)  # "" is the package itself


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """The package's modules that ``module`` imports, anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module == NAME or (node.module or "").startswith(NAME + "."):
                target = node.module.removeprefix(NAME).lstrip(".") if node.module else ""
            else:
                continue
            # ``from . import errors`` imports the module ``errors``; ``from .x import name`` the module x.
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if candidate in modules else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == NAME or alias.name.startswith(NAME + "."):
                    found.add(alias.name.removeprefix(NAME).lstrip("."))
    found.discard(module)
    return found & modules


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {module: _imports(path, module, modules) for module, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules, the first repeated at the end), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_the_server_imports_without_a_circle() -> None:
    graph = import_graph()
    assert {"app", "pipeline", "simulation", "callflow", "delivery"} <= set(graph)  # the parser found them
    assert "messages" in graph["pipeline"] and "jobs" in graph["callflow"]
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(name or NAME for name in cycle)


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
