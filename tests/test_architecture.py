"""The package's layout is its architecture: rooms by concern, imports only downwards, no cycles."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import hazardjudge

PKG = Path(hazardjudge.__file__).parent

# Lower layers never import higher ones; rooms of one layer never import each other.
LAYERS = {
    "errors": 0,
    "clock": 0,
    "workdays": 0,
    "engine": 1,
    "inputs": 2,
    "outputs": 2,
    "api": 3,
    "authoring": 4,
    "register": 4,
    "batch": 4,
    "service": 5,
    "cli": 6,
    "__init__": 6,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST, known: set[str]) -> set[str]:
    """hazardjudge modules imported when the code runs (``if TYPE_CHECKING:`` blocks excluded)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("hazardjudge"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hazardjudge"):
            assert node.level == 0, "imports inside the package are absolute"
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: {m for m in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")), known) if m != name and m != "hazardjudge"}
        for name, path in modules.items()
    }


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_lives_in_a_known_room():
    assert {_room(m) for m in _modules()} <= set(LAYERS)


def test_no_import_cycles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    assert cycles == []


def test_imports_only_go_down_the_layers():
    wrong = []
    for module, imports in sorted(_graph().items()):
        for target in sorted(imports):
            here, there = _room(module), _room(target)
            if here == there:
                continue
            if LAYERS[there] >= LAYERS[here]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


DOCUMENTED = [
    "load", "judge", "Engine", "Inspection", "Verdict", "RuleResult", "Outcome", "OverallOutcome",
    "DocumentOutcome", "VERDICT_SCHEMA_VERSION", "BundleError", "EngineError", "HazardJudgeError",
    "InputError", "Problem",
]


def test_public_names_import():
    for name in DOCUMENTED:
        assert getattr(hazardjudge, name) is not None, name
        assert name in hazardjudge.__all__
    from hazardjudge import Engine, Verdict, judge, load  # noqa: F401  (the documented spelling)


def test_console_script_and_pytest_plugin_entry_points():
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts") if e.name == "hazardjudge"}
    plugins = {e.name: e.value for e in entry_points(group="pytest11") if e.name == "hazardjudge"}
    assert scripts == {"hazardjudge": "hazardjudge.cli:main"}
    module = plugins["hazardjudge"]
    assert hasattr(importlib.import_module(module), "pytest_collect_file")
