"""The compiled twins of the hot modules (setup.py, dissectors/accelerated.py) give the same
bytes as the pure modules: `summary --json` and `packets --json`, run with and without
WIRELAB_PURE=1, on every bundled capture and on random ones; a stale twin is never used."""
from __future__ import annotations

import importlib
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from dissectors.accelerated import HASH_NAME, USES_NAME, source_hash, twin_name
from tests.transport.helpers import Crafter
from tests.transport.scenarios import ALL as SCENARIOS
from tests.transport.test_random_vs_tshark import random_conversation

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = sorted(p for p in (ROOT / "captures").glob("*.pcap*") if p.suffix != ".jsonl")
# a hot module is one with an augmenting .pxd beside it (a .pxd alone, such as
# dissectors/c_arrays.pxd, holds C helpers the twins cimport)
HOT = sorted(p.with_suffix(".py") for folder in ("analyzer", "dissectors")
             for p in (ROOT / folder).rglob("*.pxd") if p.with_suffix(".py").exists())


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def twin_state(path: Path) -> str:
    """'current', 'stale' or 'missing' for the twin of the module at `path`."""
    try:
        twin = importlib.import_module(twin_name(module_of(path)))
    except ImportError:
        return "missing"
    return "current" if vars(twin).get(HASH_NAME) == source_hash(str(path)) else "stale"


STATES = {module_of(p): twin_state(p) for p in HOT}
CURRENT = [m for m, s in STATES.items() if s == "current"]
needs_twins = pytest.mark.skipif(
    not CURRENT, reason="no compiled twin is built and current (" + ", ".join(
        f"{m}: {s}" for m, s in STATES.items() if s != "current") + "): build them with "
        "`pip install -e .` (needs gcc, the Python headers, Cython)")


def env_for(root: Path, pure: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "WIRELAB_PURE"}
    env["PYTHONPATH"] = str(root)
    if pure:
        env["WIRELAB_PURE"] = "1"
    return env


def run(args: list[str], pure: bool, root: Path = ROOT) -> bytes:
    proc = subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          env=env_for(root, pure), cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout


def assert_same(path: str, *extra: str) -> None:
    for command in ("summary", "packets"):
        args = [command, "--json", *extra, path]
        pure, compiled = run(args, pure=True), run(args, pure=False)
        assert len(pure) > 100
        assert pure == compiled, f"{command} differs on {path}"


# -- captures ------------------------------------------------------------------------------
def lenmsg_shuffled(k: Crafter, rng: random.Random, cport: int) -> None:
    """A lenmsg conversation cut into random segments sent out of order, duplicated, with
    overlapping resends whose bytes sometimes differ, and a lost segment now and then."""
    c, s = ("127.0.0.1", cport), ("127.0.0.1", 9001)
    isn = [rng.randrange(1 << 32), rng.randrange(1 << 32)]
    k.tcp(c, s, "S", isn[0], 0)
    k.tcp(s, c, "SA", isn[1], isn[0] + 1)
    k.tcp(c, s, "A", isn[0] + 1, isn[1] + 1)
    for d, (src, dst) in enumerate(((c, s), (s, c))):
        stream = b"".join(struct.pack("!I", n) + bytes([65 + i % 26]) * n
                          for i, n in enumerate(rng.choice((0, 3, 40, 700)) for _ in range(12)))
        base = isn[d] + 1
        cuts = sorted(rng.sample(range(1, len(stream)), min(8, len(stream) - 1)))
        segs = [(a, stream[a:b]) for a, b in zip([0] + cuts, cuts + [len(stream)])]
        sent = []
        for off, data in segs:
            roll = rng.random()
            if roll < 0.1:
                continue                                      # lost
            sent.append((off, data))
            if roll < 0.3:
                sent.append((off, data))                      # duplicate
            elif roll < 0.4 and len(data) > 2:
                sent.append((off + 1, b"X" + data[2:]))       # overlap with other bytes
        for i in range(len(sent) - 1):
            if rng.random() < 0.3:
                sent[i], sent[i + 1] = sent[i + 1], sent[i]   # reordered
        for off, data in sent:
            k.tcp(src, dst, "PA", base + off, isn[1 - d] + 1, data, dt=rng.choice((1e-5, 0.01)))
    k.tcp(c, s, "FA", isn[0] + 1 + 10**6, isn[1] + 1)


def random_capture(path: Path, seed: int) -> str:
    rng = random.Random(seed)
    k = Crafter()
    for i in range(12):
        random_conversation(k, rng, 30000 + i)
        lenmsg_shuffled(k, rng, 31000 + i)
    return k.write(path)


def scenario_capture(path: Path) -> str:
    k = Crafter()
    for build in SCENARIOS.values():
        build(k)
    return k.write(path)


def generated_capture(path: Path, seed: int) -> str:
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_capture.py"), "-n", "4000",
                    "--seed", str(seed), "--concurrent", "30", "-o", str(path)],
                   check=True, capture_output=True, timeout=120)
    return str(path)


def addresses_capture(path: Path) -> str:
    """Addresses with the top bit set and NOP NOP TS options with big values: what the
    decoder's twin reads as C numbers."""
    from scapy.all import IP, TCP, Ether, wrpcap
    pkts = []
    for i, (a, b) in enumerate([("192.168.200.255", "10.0.0.1"), ("255.254.253.252", "128.0.0.1"),
                                ("127.0.0.1", "223.255.0.128")]):
        opts = [("NOP", None), ("NOP", None), ("Timestamp", (0xFFFFFFF0 - i, 0x80000001 + i))]
        for flags, data in (("S", b""), ("PA", b"\0\0\0\x02hi"), ("A", b"")):
            p = (Ether() / IP(src=a, dst=b) /
                 TCP(sport=40000 + i, dport=9000, flags=flags, seq=0xFFFFFF00, options=opts) / data)
            p.time = 1700000000 + len(pkts) * 0.001
            pkts.append(p)
    wrpcap(str(path), pkts)
    return str(path)


# -- tests ---------------------------------------------------------------------------------
@pytest.mark.slow
@needs_twins
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_bundled_captures_same_bytes(capture):
    assert_same(str(capture))


@pytest.mark.slow
@needs_twins
@pytest.mark.parametrize("seed", [1, 2, 3, 7])
def test_random_captures_same_bytes(tmp_path, seed):
    assert_same(random_capture(tmp_path / f"random{seed}.pcap", seed))


@pytest.mark.slow
@needs_twins
def test_addresses_and_timestamps_same_bytes(tmp_path):
    path = addresses_capture(tmp_path / "addresses.pcap")
    assert_same(path, "--decode-as", "9000=lenmsg")
    rows = run(["packets", path], pure=False)               # (the rows show the options)
    assert rows == run(["packets", path], pure=True)
    assert b"255.254.253.252" in rows and b"TSval=4294967280 TSecr=2147483649" in rows


@pytest.mark.slow
@needs_twins
def test_crafted_scenarios_same_bytes(tmp_path):
    assert_same(scenario_capture(tmp_path / "scenarios.pcap"))


@pytest.mark.slow
@needs_twins
@pytest.mark.parametrize("seed", [5, 11])
def test_generated_captures_same_bytes(tmp_path, seed):
    path = generated_capture(tmp_path / f"gen{seed}.pcap", seed)
    assert_same(path)
    assert_same(path, "--decode-as", "9001=lenmsg:native")   # every message malformed


PROBE = ("import sys, importlib\n"
         "for name in sys.argv[1:]:\n"
         "    m = importlib.import_module(name)\n"
         "    print(name, m.__dict__.get('__compiled__', 'pure'))\n")


def compiled_modules(root: Path, pure: bool = False) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *STATES], capture_output=True, text=True,
                         env=env_for(root, pure), cwd=root, check=True, timeout=60).stdout
    return dict(line.split() for line in out.splitlines())


@needs_twins
def test_current_twins_are_used_unless_pure():
    used = compiled_modules(ROOT)
    assert {m for m, twin in used.items() if twin != "pure"} == set(CURRENT)
    assert set(compiled_modules(ROOT, pure=True).values()) == {"pure"}


def dependents(module: str) -> set[str]:
    """`module` and the hot modules whose twins use its C types, directly or not."""
    uses = {m: vars(importlib.import_module(twin_name(m))).get(USES_NAME, ()) for m in CURRENT}
    found = {module}
    while True:
        more = {m for m, used in uses.items() if found.intersection(used)} - found
        if not more:
            return found
        found |= more


def copy_edited(root: Path, edited: str) -> None:
    """A copy of the package under `root` (twins included) whose file `edited` (relative
    path) changed after the build."""
    for folder in ("analyzer", "dissectors"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / edited
    path.write_text(path.read_text(encoding="utf-8") + "# edited after the build\n",
                    encoding="utf-8")


@needs_twins
def test_stale_twin_is_not_used(tmp_path):
    """A copy of the package whose hot module changed after the build: that module runs
    pure (silently), and so do the modules whose twins use its C types (their objects would
    not be of those types); the others keep their twins, and the results stay the same."""
    copy_edited(tmp_path, CURRENT[0].replace(".", "/") + ".py")
    used = compiled_modules(tmp_path)
    pure = dependents(CURRENT[0])
    assert CURRENT[0] == "analyzer.decode.decoded" and "analyzer.decode.frame" in pure
    assert {m for m, twin in used.items() if twin == "pure"} >= pure
    assert {m for m, twin in used.items() if twin != "pure"} == set(CURRENT) - pure
    capture = str(ROOT / "captures" / "handshake.pcap")
    args = ["summary", "--json", capture]
    proc = subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                          env=env_for(tmp_path, pure=False), cwd=tmp_path, timeout=120)
    assert proc.returncode == 0 and proc.stderr == b""
    assert proc.stdout == run(args, pure=True)


@needs_twins
def test_twin_of_changed_c_types_is_not_used(tmp_path):
    """Only the .pxd of a hot module changed after the build: its twin is not used either."""
    module = "dissectors.lenmsg"
    assert module in CURRENT and dependents(module) == {module}
    copy_edited(tmp_path, "dissectors/lenmsg.pxd")
    used = compiled_modules(tmp_path)
    assert {m for m, twin in used.items() if twin == "pure"} == {module}


@needs_twins
def test_twins_of_a_changed_c_helper_are_not_used(tmp_path):
    """dissectors/c_arrays.pxd (C helpers, no module of its own) changed after the build: the
    twins that cimport it run pure, and so do the twins using their C types."""
    copy_edited(tmp_path, "dissectors/c_arrays.pxd")
    users = {m.replace("/", ".") for m in load_setup().HOT
             if "from dissectors.c_arrays cimport" in (ROOT / f"{m}.pxd").read_text()}
    assert {"analyzer.engine.conv_state", "analyzer.transport.reassembly"} <= users
    expected = set().union(*(dependents(m) for m in users))
    used = compiled_modules(tmp_path)
    assert {m for m, twin in used.items() if twin == "pure"} == expected
    assert "analyzer.engine.feeding" in expected and "dissectors.lenmsg" not in expected


def load_setup():
    """setup.py as a module (its setup() call runs only as __main__)."""
    spec = importlib.util.spec_from_file_location("wirelab_setup", ROOT / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_pxd_is_in_step_with_slots():
    """A class's attributes in its .pxd are exactly its __slots__ (compiled, an undeclared
    attribute fails at run time): after adding a slot, declare it in the .pxd too."""
    setup = load_setup()
    assert {module_of(p) for p in HOT} == {h.replace("/", ".") for h in setup.HOT}
    assert {module_of(p): setup.pxd_out_of_step(p, p.with_suffix(".pxd")) for p in HOT} == \
        {module_of(p): [] for p in HOT}


def test_a_pxd_out_of_step_is_found(tmp_path):
    py, pxd = tmp_path / "m.py", tmp_path / "m.pxd"
    py.write_text("class A:\n    __slots__ = ('x', 'y', 'z')\n")
    pxd.write_text("import cython\n\n@cython.final\ncdef class A:\n"
                   "    cdef public long long x\n    cdef public object y\n")
    assert load_setup().pxd_out_of_step(py, pxd) == ["A: ['z']"]
    pxd.write_text(pxd.read_text() + "    cdef public list z\n")
    assert load_setup().pxd_out_of_step(py, pxd) == []
