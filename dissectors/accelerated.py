"""Compiled twins of the per-packet modules: the one place the speed trick lives.

`accelerate(globals())`, the last line of a hot module, swaps in the names of its twin (the
same source compiled by Cython with the C types of the .pxd beside it, built by setup.py as
`<package>._<module>_c`): `summary --json` runs ~1.5x faster.  The pure module stays when
WIRELAB_PURE=1, when no twin was built, or when the twin was built from other source (the
twin carries the SHA-256 of the .py and .pxd it came from; a stale twin is ignored silently), and
when a hot module whose C types it uses (WIRELAB_TWIN_USES: its .pxd cimports them) runs
pure: its objects would not be of those types.  A swapped module has `__compiled__` = its
twin's name.  Used by analyzer/ too: dissectors/ is
the bottom layer.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import re

HASH_NAME = "WIRELAB_SOURCE_HASH"   # the module-level names setup.py adds to each twin
USES_NAME = "WIRELAB_TWIN_USES"


def source_hash(py_path: str) -> str:
    """SHA-256 of a hot module's .py followed by the .pxd beside it and the .pxd-only C
    helpers that .pxd cimports (`from dissectors.c_arrays cimport append`): a twin is built
    from all of them, so C types or helpers changed alone make another twin (setup.py)."""
    h = hashlib.sha256()
    pxd = os.path.splitext(py_path)[0] + ".pxd"
    for path in (py_path, pxd):
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except FileNotFoundError:
            pass
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for helper in _helper_pxds(pxd, root):
        with open(helper, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def _helper_pxds(pxd: str, root: str) -> list[str]:
    """The .pxd-only C helpers `pxd` cimports, and those they cimport in turn (each once, in
    the order first named; setup.py's pxd_only_cimports)."""
    found: list[str] = []
    todo = [pxd]
    while todo:
        try:
            with open(todo.pop(0), encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            continue
        for module in re.findall(r"^from ((?:analyzer|dissectors)(?:\.\w+)*\.c_\w+) cimport",
                                 text, re.MULTILINE):
            helper = os.path.join(root, *module.split(".")) + ".pxd"
            if helper not in found:
                found.append(helper)
                todo.append(helper)
    return found


def twin_name(module: str) -> str:
    """'analyzer.transport.flows' -> 'analyzer.transport._flows_c'."""
    package, _, leaf = module.rpartition(".")
    return f"{package}._{leaf}_c"


def load_twin(module: str, path: str):
    """The compiled twin of `module` (source file `path`), or None: WIRELAB_PURE=1, not
    built, or built from a different source."""
    if os.environ.get("WIRELAB_PURE") == "1":
        return None
    try:
        twin = importlib.import_module(twin_name(module))
    except (ImportError, ValueError):       # not built; built against other C types
        return None
    if vars(twin).get(HASH_NAME) != source_hash(path):
        return None
    for used in vars(twin).get(USES_NAME, ()):
        if "__compiled__" not in vars(importlib.import_module(used)):
            return None
    return twin


def accelerate(namespace: dict) -> None:
    """Replace the module's names by its compiled twin's (see the module docstring)."""
    twin = load_twin(namespace["__name__"], namespace["__file__"])
    if twin is None:
        return
    namespace.update({k: v for k, v in vars(twin).items()
                      if k in namespace and not k.startswith("__")})
    namespace["__compiled__"] = twin.__name__
