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

ROOT = Path(__file__).resolve().parents[2]
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
