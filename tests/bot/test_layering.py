"""The layering holds: no import cycle anywhere, and no arrow back up between layers (issue 20).

Read from the sources' import statements at any depth (inside functions and `TYPE_CHECKING`
blocks too): a cycle that only a lazy import hides is still a cycle to a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("checks", "pipeline", "bot", "taxonomist")  # lowest layer first


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports. `from pkg import name` counts `pkg.name` when that is a module."""
    files = {module_name(p): p for top in PACKAGES for p in sorted((ROOT / top).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[module] = {name for name in found if name in files and name != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_anywhere() -> None:
    assert cycles(import_graph()) == []


def test_no_arrow_back_up_between_layers() -> None:
    rank = {top: n for n, top in enumerate(PACKAGES)}
    upward = [f"{module} imports {name}" for module, names in import_graph().items() for name in sorted(names)
              if rank[name.split(".")[0]] > rank[module.split(".")[0]]]
    assert upward == []


def test_the_router_imports_no_handler_module() -> None:
    imported = import_graph()["bot.service.router"]
    assert not any(name.endswith(("handler", "index_handler")) for name in imported), imported


def test_triage_and_review_logic_do_not_import_each_other() -> None:
    """Only their route modules (`handler`) wire one into the other (`/recheck` runs triage)."""
    graph = import_graph()

    def imported_by(package: str) -> set[str]:
        return {name for module, names in graph.items()
                if module.startswith(package) and not module.endswith(".handler") for name in names}

    review, triage = imported_by("bot.review."), imported_by("bot.triage.")
    assert not any(name.startswith("bot.triage") for name in review)
    assert not any(name.startswith("bot.review") for name in triage)


def test_bot_and_pipeline_keep_to_twelve_top_level_modules() -> None:
    for top in ("bot", "pipeline"):
        modules = sorted(p.name for p in (ROOT / top).glob("*.py"))
        assert len(modules) <= 12, (top, modules)
