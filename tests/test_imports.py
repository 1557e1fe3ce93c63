"""The project's module import graph, read statically with `ast`: no cycles, and a core that imports no area.

Every import counts, also those inside functions (a lazy import is still a dependency); imports under
`if TYPE_CHECKING:` do not, since they never run.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = "tracemix"
AREAS = ("curation", "training", "eval", "probes", "ablate")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in (CORE, *AREAS):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _known(name: str) -> str | None:
    """The project module that `import name` loads (a name inside a module resolves to the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path, *, top_level_only: bool = False) -> set[str]:
    """Project modules imported by `module` (only those run at import time with `top_level_only`)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if top_level_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Import):
            found.update(filter(None, (_known(alias.name) for alias in node.names)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else _known(base)
                if target:
                    found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    found.discard(module)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_graph_reader_sees_cycles_and_skips_type_checking_imports(tmp_path, monkeypatch):
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from eval.task import TaskConfig\n"
                    "import tracemix.config\n\ndef f():\n    from eval.sources import load_examples\n")
    assert _imports("tracemix.m", path) == {"tracemix.config", "eval.sources"}
    assert _imports("tracemix.m", path, top_level_only=True) == {"tracemix.config"}


def test_the_graph_covers_every_package():
    assert {m.split(".")[0] for m in MODULES} == {CORE, *AREAS}
    assert "eval.task" in _imports("eval.sources", MODULES["eval.sources"])


def test_no_import_cycles():
    graph = {m: _imports(m, p) for m, p in MODULES.items()}
    found = [", ".join(f"{a} -> {b}" for a in group for b in sorted(graph[a]) if b in group)
             for group in _cycles(graph)]
    assert not found, ("import cycles (lazy imports count): " + "; ".join(found) +
                       ". Move what both sides need into one module, or into a lower layer both import")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.split(".")[0] == CORE))
def test_the_shared_core_imports_no_area_at_module_level(module):
    areas = {m for m in _imports(module, MODULES[module], top_level_only=True) if m.split(".")[0] in AREAS}
    assert not areas, f"{module} imports {sorted(areas)} at module level; import inside the function that needs it"
