"""The import graph of handler/ inside a built artifact, read from the source, never imported.

Conservative: every import statement counts wherever it is (function bodies, `try` blocks,
`if TYPE_CHECKING:` blocks), as do the literal module names handed to `importlib.import_module`,
Powertools' `LazyLoader` and boto3's `lazy_call`. An import the graph would follow but the
handler can never run is named, with why, in scripts/build_artifact.py's UNTAKEN_IMPORTS.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Calls whose first argument, when a string literal, is a module that gets imported.
DYNAMIC_IMPORTERS = {"import_module": False, "LazyLoader": False, "__import__": False}
# boto3.utils.lazy_call("pkg.module.function"): the module is the name less its last part.
DOTTED_CALLABLE_IMPORTERS = {"lazy_call"}


@dataclass
class ImportGraph:
    root: Path
    # module -> the module that first imported it on the shortest path from handler/ (None: root)
    parents: dict[str, str | None] = field(default_factory=dict)

    def chain(self, module: str) -> list[str]:
        """module, the module that imports it, ..., back to a handler module."""
        links = [module]
        while (parent := self.parents.get(links[-1])) is not None:
            links.append(parent)
        return links


def module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def imported_by(root: Path, module: str) -> set[str]:
    """The artifact's modules that `module`'s source imports (packages on the way included)."""
    path = module_file(root, module)
    if path is None:
        return set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(package, node.level, node.module)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            names.update(_dynamic_import(node))
    with_parents = {
        ".".join(parts[:end])
        for name in names
        for parts in [name.split(".")]
        for end in range(1, len(parts) + 1)
    }
    return {name for name in with_parents if module_file(root, name) is not None}


def import_graph(
    root: Path, start: Iterable[str], untaken: Iterable[tuple[str, str]] = ()
) -> ImportGraph:
    """Every module reachable from `start`, breadth first, skipping the `untaken` edges: an edge
    (importer, package) skips the package and its submodules, imported by that importer."""
    skipped = set(untaken)
    graph = ImportGraph(root)
    queue: deque[tuple[str, str | None]] = deque((module, None) for module in start)
    while queue:
        module, parent = queue.popleft()
        if module in graph.parents:
            continue
        graph.parents[module] = parent
        for child in sorted(imported_by(root, module)):
            if child not in graph.parents and not _skipped(skipped, module, child):
                queue.append((child, module))
    return graph


def _skipped(untaken: set[tuple[str, str]], importer: str, imported: str) -> bool:
    return any(
        importer == source and (imported == package or imported.startswith(package + "."))
        for source, package in untaken
    )


def handler_modules(root: Path) -> list[str]:
    return ["handler", *sorted(f"handler.{path.stem}" for path in (root / "handler").glob("*.py"))]


def _absolute(package: str, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _dynamic_import(call: ast.Call) -> set[str]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return set()
    if name in DYNAMIC_IMPORTERS:
        return {first.value}
    if name in DOTTED_CALLABLE_IMPORTERS:
        return {first.value.rpartition(".")[0]}
    return set()
