"""What framing inference costs: a ~100k-packet lenmsg capture (benchmarks/gen_capture.py)
analysed with its codec named (--decode-as 9001=lenmsg) and with the framing inferred
(--decode-as 9001=infer), with and without reusing a port's framing for its next
conversations; tshark -q -z conv,tcp on the same file is the anchor.  Also: the time spent
inside inference itself (ProtocolChooser.decide_framing), and whether every conversation got
exactly the messages the codec cuts.

    python3 benchmarks/bench_infer.py [-n 100000]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from analyzer.engine import Engine  # noqa: E402
from analyzer.engine.protocol_choice import ProtocolChooser  # noqa: E402
from analyzer.sources.open import open_capture  # noqa: E402


def analyse(path: str, decode_as: dict, remember: bool = True):
    """(seconds, seconds inside decide_framing, engine)."""
    spent = [0.0]
    original = ProtocolChooser.decide_framing

    def timed(self, cs, final):
        t = time.perf_counter()
        try:
            return original(self, cs, final)
        finally:
            spent[0] += time.perf_counter() - t

    ProtocolChooser.decide_framing = timed
    try:
        t0 = time.perf_counter()
        eng = Engine(decode_as=decode_as, source_path=path)
        eng.protocols.remember_ports = remember
        with open_capture(path) as src:
            eng.feed_many(src)
        eng.finish()
        return time.perf_counter() - t0, spent[0], eng
    finally:
        ProtocolChooser.decide_framing = original


def lengths(eng) -> list:
    return [(cs.id, cs.m_dir.tolist(), cs.m_len.tolist()) for cs in eng.states]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--packets", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.pcap")
        gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_capture.py")
        subprocess.run([sys.executable, gen, "-n", str(args.packets), "-o", path], check=True,
                       capture_output=True)
        t = time.perf_counter()
        subprocess.run(["tshark", "-q", "-z", "conv,tcp", "-r", path], check=True,
                       capture_output=True)
        tshark = time.perf_counter() - t
        known, _s, eng_known = analyse(path, {9001: "lenmsg"})
        stated, _s, eng_stated = analyse(path, {9001: "framed:len:4:be"})
        inferred, spent, eng_inf = analyse(path, {9001: "infer"})
        each, spent_each, eng_each = analyse(path, {9001: "infer"}, remember=False)
        same = lengths(eng_known) == lengths(eng_stated) == lengths(eng_inf) == lengths(eng_each)
        convs = len(eng_known.states)
        print(f"capture: {eng_known.packet_count} packets, {convs} conversations")
        print(f"tshark -z conv,tcp            {tshark:7.2f} s")
        print(f"wirelab, codec named          {known:7.2f} s  ({known / tshark:.2f}x tshark)")
        print(f"wirelab, framing stated       {stated:7.2f} s  ({stated / tshark:.2f}x tshark)"
              f"  (the generic codec, dissectors.framed)")
        print(f"wirelab, framing inferred     {inferred:7.2f} s  ({inferred / tshark:.2f}x tshark)"
              f"  inference {spent:.2f} s = {100 * spent / inferred:.1f} % of the analysis")
        print(f"  ... every conversation alone {each:7.2f} s  ({each / tshark:.2f}x tshark)"
              f"  inference {spent_each:.2f} s = {100 * spent_each / each:.1f} % of the analysis")
        print(f"extra time of inference over the stated framing: "
              f"{100 * (inferred - stated) / inferred:.1f} % (port reuse), "
              f"{100 * (each - stated) / each:.1f} % (each conversation alone); over the "
              f"named codec: {100 * (inferred - known) / inferred:.1f} %")
        print(f"same messages as the codec in every conversation: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
