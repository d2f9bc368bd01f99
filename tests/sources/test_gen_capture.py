"""benchmarks/gen_capture.py: deterministic, and a capture tshark finds nothing wrong with."""
from __future__ import annotations

import importlib.util
import os
import subprocess

from analyzer.decode import decode_frame
from analyzer.sources.open import open_capture

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "gen_capture.py")


def _gen():
    spec = importlib.util.spec_from_file_location("gen_capture", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_deterministic_and_clean(tmp_path):
    gen = _gen()
    a, b = str(tmp_path / "a.pcap"), str(tmp_path / "b.pcap")
    n, conns = gen.generate(a, 3000, seed=7)
    gen.generate(b, 3000, seed=7)
    assert open(a, "rb").read() == open(b, "rb").read()
    assert 3000 <= n < 3400 and conns >= 20
    src = open_capture(a)
    decoded = [decode_frame(r.linktype, r.data, r.origlen) for r in src]
    assert len(decoded) == n and src.warnings == []
    assert all(d.transport == "tcp" and d.malformed is None for d in decoded)
    syns = sum(1 for d in decoded if d.flags == 0x02)
    fins = sum(1 for d in decoded if d.flags & 0x01)
    assert syns == conns and fins == 2 * conns            # every connection opens and closes
    out = subprocess.run(["tshark", "-n", "-r", a, "-q", "-z", "expert,warn"],
                         capture_output=True, text=True, timeout=60).stdout
    assert "Warnings" not in out and "Errors" not in out, out
