"""Build: the per-packet modules are also compiled, as twins, when a C compiler can be used.

For each module in HOT, `<package>/_<module>_c` is generated into build/twins/ from the
module's .py (its last two lines, the accelerate() call, left out; the SHA-256 of the .py and
.pxd added, and the hot modules whose C types the .pxd cimports) plus the .pxd beside it
(Cython's augmenting .pxd: C types for the same source; twins cimport each other's classes
and functions, so calls between hot modules are C calls), and compiled by Cython.
dissectors/accelerated.py swaps a twin in at import time only when its hash matches the .py
and .pxd next to it and the twins it uses are swapped in too, so a twin can never run other
code than the source.

No compiler, no Python headers, no Cython or WIRELAB_PURE_BUILD=1: the package is built
pure, silently (the same logic, slower).  A build error, or a .pxd whose attributes are out of
step with the class's __slots__, leaves that module pure with one line on stderr.
"""
from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
TWINS = ROOT / "build" / "twins"
HOT = (
    "analyzer/sources/pcapfile",
    "analyzer/decode/decoded",
    "analyzer/decode/transport",
    "analyzer/decode/frame",
    "analyzer/transport/tcp_analysis",
    "analyzer/transport/conn_state",
    "analyzer/transport/flows",
    "analyzer/transport/reassembly",
    "analyzer/engine/message_cutting",
    "analyzer/engine/conv_state",
    "analyzer/engine/retired",
    "analyzer/engine/protocol_choice",
    "analyzer/engine/conv_table",
    "analyzer/engine/feeding",
    "analyzer/engine/core",
    "analyzer/render/summary_json",
    "dissectors/_stream",
    "dissectors/lenmsg",
)
ACCELERATE_LINES = ("from dissectors.accelerated import accelerate",
                    "accelerate(globals())")
COMPILED_FALSE, COMPILED_TRUE = "COMPILED = False", "COMPILED = True"
CIMPORTED = "# the twin cimports it (setup.py)"     # an import line a twin leaves out
DIRECTIVES = {"language_level": 3, "binding": False, "infer_types": True,
              "boundscheck": False, "wraparound": True, "cdivision": False, "annotation_typing": False}


def twin_source(py: Path, pxd: Path) -> str:
    """The twin's source: the module without its accelerate() lines, without the import lines
    marked CIMPORTED (its .pxd cimports a C version of those names) and with `COMPILED =
    True` for a module-level `COMPILED = False` (a path only C makes faster), plus the source
    hash and the hot modules whose C types its .pxd cimports (their twins must run with it)."""
    raw = py.read_bytes()
    lines = [COMPILED_TRUE if ln == COMPILED_FALSE else ln
             for ln in raw.decode("utf-8").splitlines()
             if not ln.startswith(ACCELERATE_LINES) and not ln.endswith(CIMPORTED)]
    built_from = raw + pxd.read_bytes() + b"".join(p.read_bytes() for p in pxd_only_cimports(pxd))
    lines.append(f'WIRELAB_SOURCE_HASH = "{hashlib.sha256(built_from).hexdigest()}"')
    lines.append(f"WIRELAB_TWIN_USES = {twin_uses(pxd.read_text(encoding='utf-8'))!r}")
    return "\n".join(lines) + "\n"


def pxd_only_cimports(pxd: Path) -> list[Path]:
    """The .pxd-only modules (C helpers such as dissectors/c_arrays.pxd) a .pxd cimports, and
    those they cimport in turn (each once, in the order first named): part of what its twin is
    built from (dissectors/accelerated.py hashes them alike)."""
    found: list[Path] = []
    todo = [pxd]
    while todo:
        text = todo.pop(0).read_text(encoding="utf-8")
        for m in re.finditer(r"^from ((?:analyzer|dissectors)(?:\.\w+)*\.c_\w+) cimport", text,
                             re.MULTILINE):
            helper = ROOT / (m.group(1).replace(".", "/") + ".pxd")
            if helper not in found:
                found.append(helper)
                todo.append(helper)
    return found


def twin_uses(pxd_text: str) -> tuple[str, ...]:
    """The hot modules a .pxd cimports C types from: `from analyzer.decode._decoded_c cimport
    Decoded` or `cimport analyzer.decode._frame_c as frame` -> "analyzer.decode.decoded",
    "analyzer.decode.frame"."""
    return tuple(f"{m.group(1)}.{m.group(2)}" for m in
                 re.finditer(r"^(?:from|cimport) ([\w.]+)\._(\w+)_c\b", pxd_text, re.MULTILINE))


def pxd_attributes(pxd_text: str) -> dict[str, set[str]]:
    """{cdef class name: the attribute names its `cdef public TYPE a, b` lines declare}."""
    classes: dict[str, set[str]] = {}
    current = None
    for line in pxd_text.splitlines():
        m = re.match(r"cdef class (\w+)", line)
        if m:
            current = classes.setdefault(m.group(1), set())
        elif line and not line[0].isspace() and not line.startswith(("@", "#")):
            current = None
        elif current is not None and line.strip().startswith("cdef public "):
            first, *rest = line.strip()[len("cdef public "):].split(",")
            current.update([first.split()[-1]] + [r.strip() for r in rest])
    return classes


def slots_of(py_text: str) -> dict[str, set[str]]:
    """{class name: its __slots__} of the classes of a module that list them literally."""
    found = {}
    for node in ast.walk(ast.parse(py_text)):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (isinstance(item, ast.Assign) and len(item.targets) == 1
                        and isinstance(item.targets[0], ast.Name)
                        and item.targets[0].id == "__slots__"):
                    try:
                        found[node.name] = set(ast.literal_eval(item.value))
                    except ValueError:          # computed slots: not checked
                        pass
    return found


def pxd_out_of_step(py: Path, pxd: Path) -> list[str]:
    """Classes whose attributes in the .pxd differ from their __slots__ in the .py: compiled,
    an attribute missing from the .pxd would fail at run time, so such a twin is not built."""
    slots = slots_of(py.read_text(encoding="utf-8"))
    return [f"{name}: {sorted(attrs ^ slots.get(name, set()))}"
            for name, attrs in pxd_attributes(pxd.read_text(encoding="utf-8")).items()
            if attrs != slots.get(name, set())]


def generate_twins() -> list[Extension]:
    extensions = []
    for module in HOT:
        py, pxd = ROOT / f"{module}.py", ROOT / f"{module}.pxd"
        stale = pxd_out_of_step(py, pxd)
        if stale:
            print(f"wirelab: {module}.py not compiled, its .pxd is out of step with "
                  f"__slots__ ({'; '.join(stale)}): it runs pure", file=sys.stderr)
            continue
        package, leaf = module.rsplit("/", 1)
        folder = TWINS / package
        folder.mkdir(parents=True, exist_ok=True)
        for level in range(1, len(Path(package).parts) + 1):   # packages: qualified names
            (TWINS.joinpath(*Path(package).parts[:level]) / "__init__.py").touch()
        target = folder / f"_{leaf}_c.py"
        target.write_text(twin_source(py, pxd), encoding="utf-8")
        shutil.copyfile(pxd, folder / f"_{leaf}_c.pxd")
        name = f"{package.replace('/', '.')}._{leaf}_c"
        extensions.append(Extension(name, [str(target.relative_to(ROOT))]))
    return extensions


def can_compile() -> bool:
    if os.environ.get("WIRELAB_PURE_BUILD") == "1":
        return False
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        return False
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return False
    try:
        import Cython  # noqa: F401 - the build dependency (pyproject.toml)
    except ImportError:
        return False
    return True


class OptionalBuildExt(build_ext):
    """build_ext that leaves a pure package behind instead of failing."""

    def run(self):
        try:
            super().run()
        except Exception:  # noqa: BLE001 - any compiler trouble: the pure package still works
            pass

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - this twin stays unbuilt; its module runs pure
            print(f"wirelab: {ext.name} not compiled ({exc}): that module runs pure",
                  file=sys.stderr)


def extensions() -> list[Extension]:
    """The twins Cython translates, each on its own: one that cannot be translated runs pure
    (and so do the twins that use its C types, dissectors/accelerated.py), the rest compiled."""
    if not can_compile():
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    built = []
    for ext in generate_twins():
        try:
            built += cythonize([ext], compiler_directives=DIRECTIVES, quiet=True,
                               include_path=[str(TWINS), str(ROOT)],
                               build_dir=str(TWINS.parent / "cython"))
        except Exception as exc:  # noqa: BLE001 - Cython cannot translate it: that one runs pure
            print(f"wirelab: {ext.name} not compiled ({exc}): that module runs pure",
                  file=sys.stderr)
    return built


if __name__ == "__main__":        # also how setuptools' PEP 517 backend runs this file
    setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
