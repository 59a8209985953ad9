"""The layout's promises, checked on the source: no import cycle anywhere in the project,
`archive/` never reaching for the crawler side, and no module over 500 lines.

The import graph is read from the code with `ast` (no module is imported): an edge for each
`import` or `from ... import` naming a project module, wherever it sits, except under
`if TYPE_CHECKING:` (annotations only, never run). A module inside a function counts too: a
lazy import that goes back up is still an arrow the wrong way for a reader."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("archive", "chalco_crawler", "pipelines", "replica", "tests", "benchmarks")
CRAWLER_SIDE = ("scrapy", "twisted", "chalco_crawler", "pipelines")
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or ".venv" in path.parts:
                continue
            modules[module_name(path)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(tree: ast.Module, name: str, is_package: bool) -> list[str]:
    """Every dotted name this module imports (relative imports resolved), in order."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            # `from a.b import c` may name the module a.b.c or a name in a.b.
            found.extend(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _deepest_module(dotted: str, modules: dict[str, Path]) -> str | None:
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = set()
        for dotted in imported_names(tree, name, path.name == "__init__.py"):
            target = _deepest_module(dotted, modules)
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def test_the_graph_sees_the_imports_it_should():
    # A reader that found no edges would pass every check below.
    graph = import_graph()
    assert "archive.store.writer" in graph
    assert "archive.store.schema" in graph["archive.store.db"]
    assert "chalco_crawler.items" in graph["pipelines.extraction"]


def test_a_cycle_is_found_when_there_is_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_project():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_archive_never_imports_the_crawler_side():
    modules = project_modules()
    offenders = []
    for name, path in modules.items():
        if not name.startswith("archive"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for dotted in imported_names(tree, name, path.name == "__init__.py"):
            if dotted.split(".")[0] in CRAWLER_SIDE:
                offenders.append(f"{name} imports {dotted}")
    assert not offenders, offenders


def test_no_module_is_over_500_lines():
    long = {
        name: count
        for name, path in project_modules().items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
