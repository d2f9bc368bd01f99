"""What framing inference costs: a ~100k-packet lenmsg capture (benchmarks/gen_capture.py)
analysed with its codec named (--decode-as 9001=lenmsg), with the framing stated
(--decode-as 9001=framed:len:4:be, the generic codec inference hands its finding to) and with
the framing inferred (--decode-as 9001=infer); tshark -q -z conv,tcp on the same file is the
anchor.  The stated and inferred analyses run interleaved, --rounds times, so that both see
the same load: each round's extra time of inference over the stated framing is printed, in
wall and CPU seconds, with the median and spread over the rounds and the load average.  Also:
the time inside inference itself (ProtocolChooser.decide_framing), inference without reusing
a port's framing (each conversation inferred alone), and whether every conversation got
exactly the messages the codec cuts.

    python3 benchmarks/bench_infer.py [-n 100000] [--rounds 5] [--gc]
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from analyzer.engine import Engine  # noqa: E402
from analyzer.engine.protocol_choice import ProtocolChooser  # noqa: E402
from analyzer.sources.open import open_capture  # noqa: E402


COLLECT = [False]      # --gc: keep the cyclic garbage collector on while feeding


def analyse(path: str, decode_as: dict, remember: bool = True):
    """(wall seconds, CPU seconds, seconds inside decide_framing, engine).  The cyclic
    collector is off while the file is fed, as analyzer.engine.loader.analyze_file (what
    `wirelab summary` runs) has it, unless --gc."""
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
        t0, c0 = time.perf_counter(), time.process_time()
        eng = Engine(decode_as=decode_as, source_path=path)
        eng.protocols.remember_ports = remember
        if not COLLECT[0]:
            gc.disable()
        with open_capture(path) as src:
            eng.feed_many(src)
        eng.finish()
        return time.perf_counter() - t0, time.process_time() - c0, spent[0], eng
    finally:
        gc.enable()
        ProtocolChooser.decide_framing = original


def lengths(eng) -> list:
    return [(cs.id, cs.m_dir.tolist(), cs.m_len.tolist()) for cs in eng.states]


def _pct(extra: list[float]) -> str:
    return (f"median {statistics.median(extra):.1f} %, spread {min(extra):.1f} .. "
            f"{max(extra):.1f} %")


def rounds(path: str, count: int, tshark: float, expected: list) -> bool:
    """Stated and inferred, interleaved; prints each round; True when every analysis cut the
    `expected` messages.  Nothing of a run is kept (engines, message lists), so that no run
    pays to garbage-collect another's objects."""
    wall, cpu, same = [], [], True
    print("round  stated s (cpu)   inferred s (cpu)  inside inference  extra wall  extra cpu"
          "  load")
    for k in range(count):
        order = [("stated", {9001: "framed:len:4:be"}), ("infer", {9001: "infer"})]
        got = {}
        for name, decode_as in (order if k % 2 == 0 else order[::-1]):
            gc.collect()
            w, c, spent, eng = analyse(path, decode_as)
            got[name] = (w, c, spent)
            same = same and lengths(eng) == expected
            del eng
        (sw, sc, _s), (iw, ic, spent) = got["stated"], got["infer"]
        wall.append(100 * (iw - sw) / iw)
        cpu.append(100 * (ic - sc) / ic)
        print(f"{k + 1:5d}  {sw:5.2f} ({sc:5.2f})    {iw:5.2f} ({ic:5.2f})     "
              f"{spent:5.3f} s {100 * spent / iw:4.1f} %  {wall[-1]:8.1f} %  {cpu[-1]:7.1f} %"
              f"  {os.getloadavg()[0]:.2f}")
    print(f"extra time of inference over the stated framing: wall {_pct(wall)}; "
          f"cpu {_pct(cpu)} ({count} rounds; tshark {tshark:.2f} s)")
    return same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--packets", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--gc", action="store_true",
                    help="keep the cyclic garbage collector on while feeding")
    args = ap.parse_args()
    COLLECT[0] = args.gc
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.pcap")
        gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_capture.py")
        subprocess.run([sys.executable, gen, "-n", str(args.packets), "-o", path], check=True,
                       capture_output=True)
        t = time.perf_counter()
        subprocess.run(["tshark", "-q", "-z", "conv,tcp", "-r", path], check=True,
                       capture_output=True)
        tshark = time.perf_counter() - t
        known, _c, _s, eng_known = analyse(path, {9001: "lenmsg"})
        print(f"capture: {eng_known.packet_count} packets, {len(eng_known.states)} "
              f"conversations; load average {os.getloadavg()[0]:.2f}; garbage collector "
              f"{'on' if args.gc else 'off'} while feeding")
        expected = lengths(eng_known)
        del eng_known
        print(f"tshark -z conv,tcp            {tshark:7.2f} s")
        print(f"wirelab, codec named          {known:7.2f} s  ({known / tshark:.2f}x tshark)")
        same = rounds(path, args.rounds, tshark, expected)
        gc.collect()
        each, _c, spent_each, eng_each = analyse(path, {9001: "infer"}, remember=False)
        print(f"every conversation inferred alone {each:6.2f} s ({each / tshark:.2f}x tshark)"
              f"  inference {spent_each:.2f} s = {100 * spent_each / each:.1f} % of the analysis")
        same = same and lengths(eng_each) == expected
        print(f"same messages as the codec in every conversation: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
