"""Import rules of the design, checked on the source with ast (so they stay true):

- dissectors/ is sans-IO: no socket, threading, textual or scapy, and never analyzer
  (imports point one way: analyzer -> dissectors);
- analyzer/tui and analyzer/commands are views: no other analyzer module imports them
  (the dispatcher analyzer/cli.py loads commands by name and is the one exception).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DISSECTORS_FORBIDDEN = ("socket", "threading", "textual", "scapy", "analyzer")
VIEWS = ("analyzer.tui", "analyzer.commands")
VIEW_DIRS = (ROOT / "analyzer" / "tui", ROOT / "analyzer" / "commands")
ENTRY_POINTS = {ROOT / "analyzer" / "cli.py", ROOT / "analyzer" / "__main__.py"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, me: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, nested ones included;
    relative imports are resolved against the file's package (module `me`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = me or module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
            # `from analyzer import tui` imports analyzer.tui
            found += [(node.lineno, f"{mod}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def within(mod: str, top: str) -> bool:
    return mod == top or mod.startswith(top + ".")


def py_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_rules_see_imports(tmp_path):
    """The checker itself works: it finds plain, from-, relative, nested and importlib
    imports, so a violation cannot slip through unseen."""
    fake = tmp_path / "codec.py"
    fake.write_text("import os\nfrom . import base\nfrom ..analyzer import engine\n"
                    "def f():\n    import socket\n    from scapy.all import IP\n"
                    "    importlib.import_module('analyzer.tui.app')\n")
    mods = [m for _, m in imported_modules(fake, me="dissectors.codec")]
    assert mods == ["os", "dissectors", "dissectors.base", "analyzer", "analyzer.engine",
                    "socket", "scapy.all", "scapy.all.IP", "analyzer.tui.app"]
    bad = {m for m in mods for top in DISSECTORS_FORBIDDEN if within(m, top)}
    assert bad == {"analyzer", "analyzer.engine", "socket", "scapy.all", "scapy.all.IP",
                   "analyzer.tui.app"}
    assert not within("analyzer_x", "analyzer") and within("analyzer.tui", "analyzer.tui")
    tui_app = ROOT / "analyzer" / "tui"
    assert py_files(ROOT / "dissectors") and py_files(tui_app)
    # the TUI really imports the engine, so a view -> engine edge is seen
    assert any(within(m, "analyzer") and not within(m, "analyzer.tui")
               for p in py_files(tui_app) for _, m in imported_modules(p))


@pytest.mark.parametrize("path", py_files(ROOT / "dissectors"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_dissectors_are_sans_io(path):
    bad = [f"{path.relative_to(ROOT)}:{line}: imports {mod}"
           for line, mod in imported_modules(path)
           for top in DISSECTORS_FORBIDDEN if within(mod, top)]
    assert not bad, "\n".join(bad)


def _engine_files() -> list[Path]:
    return [p for p in py_files(ROOT / "analyzer")
            if p not in ENTRY_POINTS and not any(d in p.parents for d in VIEW_DIRS)]


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_does_not_import_views(path):
    bad = [f"{path.relative_to(ROOT)}:{line}: imports {mod}"
           for line, mod in imported_modules(path) for view in VIEWS if within(mod, view)]
    assert not bad, "\n".join(bad)


# --- the pipeline's layers: a module imports only from its own layer or the ones below ----
LAYERS = (
    ("analyzer.errors",),
    ("analyzer.sources",),
    ("analyzer.decode",),
    ("analyzer.transport",),
    ("analyzer.engine",),
    ("analyzer.render",),
    ("analyzer.filters",),
    ("analyzer.distributed", "analyzer.wireshark", "analyzer.lab"),
    ("analyzer.tui",),
    ("analyzer.commands", "analyzer.cli", "analyzer.__main__"),
)


def layer_of(mod: str) -> int | None:
    for rank, tops in enumerate(LAYERS):
        if any(within(mod, top) for top in tops):
            return rank
    return None


def analyzer_modules() -> dict[str, Path]:
    return {module_name(p): p for folder in ("analyzer", "dissectors")
            for p in py_files(ROOT / folder)}


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports.  `from pkg import sub` where `sub` is a
    module is an edge to pkg.sub only; any other imported name is an edge to pkg itself
    (running pkg/__init__.py), which is where package loops hide."""
    mods = analyzer_modules()
    graph: dict[str, set[str]] = {}
    for me, path in mods.items():
        package = me if path.name == "__init__.py" else me.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in mods)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for alias in node.names:
                    sub = f"{mod}.{alias.name}"
                    if sub in mods:
                        edges.add(sub)
                    elif mod in mods:
                        edges.add(mod)
        edges.discard(me)
        graph[me] = edges
    return graph


def test_every_module_has_a_layer():
    loose = [m for m in analyzer_modules() if m.startswith("analyzer.") and layer_of(m) is None]
    assert not loose, f"modules outside the pipeline's layers: {loose}"


@pytest.mark.parametrize("path", py_files(ROOT / "analyzer"), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down_the_pipeline(path):
    me = module_name(path)
    mine = layer_of(me)
    if mine is None:        # analyzer/__init__.py
        return
    bad = []
    for line, mod in imported_modules(path, me):
        rank = layer_of(mod)
        if rank is not None and rank > mine:
            bad.append(f"{path.relative_to(ROOT)}:{line}: {me} (layer {mine}) imports {mod} "
                       f"(layer {rank})")
    assert not bad, "\n".join(bad)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (as a list of modules), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycles():
    """No loop among the modules of analyzer/ and dissectors/, lazy (in-function) imports
    included: a package's __init__ counts as a module of its own."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("path", py_files(ROOT / "analyzer") + py_files(ROOT / "dissectors"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_imported_from_other_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {alias.name}"
           for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
           for alias in node.names
           if alias.name.startswith("_") and not alias.name.startswith("__")
           and (node.module or "").split(".")[0] in ("analyzer", "dissectors")]
    assert not bad, "\n".join(bad)
