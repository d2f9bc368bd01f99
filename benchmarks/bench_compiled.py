"""Compiled hot path benchmark: `wirelab summary --json` pure (WIRELAB_PURE=1) vs compiled
twins vs `tshark -q -z conv,tcp`, on a ~1M-packet capture and a 100k-conversation capture.

    python3 benchmarks/bench_compiled.py                 # both captures, in /tmp
    python3 benchmarks/bench_compiled.py --runs 3 --small   # 200k packets / 20k conversations

Then the same on a 5k-packet capture and on a 1-packet one (start-up), best of 5x / 10x runs,
and the CPU time per packet of each step ("rest" = reassembly, message cutting and the
engine's own bookkeeping; "engine" = the whole analysis, reading included).

Needs the twins built (`pip install -e .`, or `python3 setup.py build_ext --inplace` in a
copy of the tree); prints which hot modules run compiled.  Each tool runs as a child process
measured with os.wait4 (wall, CPU, peak RSS); ratios against tshark measured in the same run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from bench_analysis import best, measure

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HOT = ("analyzer.sources.pcapfile", "analyzer.decode.decoded", "analyzer.decode.transport",
       "analyzer.decode.frame", "analyzer.transport.tcp_analysis",
       "analyzer.transport.conn_state", "analyzer.transport.flows",
       "analyzer.transport.reassembly", "analyzer.engine.message_cutting",
       "analyzer.engine.conv_state", "analyzer.engine.retired", "analyzer.engine.feeding",
       "analyzer.engine.core", "analyzer.engine.protocol_choice",
       "analyzer.engine.conv_table", "analyzer.render.summary_json", "dissectors._stream",
       "dissectors.lenmsg")
PROBE = ("import importlib, sys\n"
         "print(' '.join(m for m in sys.argv[1:]\n"
         "               if '__compiled__' in vars(importlib.import_module(m))))\n")


def env_for(pure: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "WIRELAB_PURE"}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    if pure:
        env["WIRELAB_PURE"] = "1"
    return env


def compiled_modules() -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *HOT], env=env_for(False), check=True,
                         capture_output=True, text=True).stdout
    return out.split()


def ensure_capture(path: str, packets: int, rounds: int | None) -> None:
    if os.path.exists(path):
        return
    cmd = [sys.executable, os.path.join(HERE, "gen_capture.py"), "-n", str(packets), "-o", path]
    if rounds is not None:
        cmd += ["--rounds", str(rounds)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


STAGES = """
import gc, itertools, sys, time
from analyzer.decode.frame import decode_frame
from analyzer.engine.loader import analyze_file
from analyzer.sources.open import open_capture
from analyzer.transport.flows import FlowTable
gc.disable()
path, limit = sys.argv[1], 200_000
t = time.process_time(); batches = []; got = 0
for batch in open_capture(path).batches(16384):     # as the loader reads a file
    batches.append(batch)
    got += len(batch)
    if got >= limit:
        break
read = time.process_time() - t
recs = list(itertools.islice(itertools.chain.from_iterable(batches), limit)); del batches
t = time.process_time(); ds = [decode_frame(r[1], r[2], r[3]) for r in recs]
decode = time.process_time() - t
table = FlowTable(); t = time.process_time()
for n, (r, d) in enumerate(zip(recs, ds), 1):
    table.add(n, r[0], d)
flows = time.process_time() - t
count = len(recs); del recs, ds, table
t = time.process_time(); analyze_file(path, limit=limit); whole = time.process_time() - t
print(count, read, decode, flows, whole)
"""


def stages(path: str) -> None:
    """CPU us per packet of each step, pure and compiled (the first 200k packets, held in
    memory)."""
    print(f"\nper packet (CPU us, first 200k packets), {path}:")
    print(f"  {'':10} {'read':>6} {'decode':>7} {'flows':>6} {'rest':>6} {'engine':>7}")
    for mode in ("pure", "compiled"):
        out = subprocess.run([sys.executable, "-c", STAGES, path], env=env_for(mode == "pure"),
                             check=True, capture_output=True, text=True).stdout.split()
        n, read, decode, flows, whole = int(out[0]), *map(float, out[1:])
        us = [x / n * 1e6 for x in (read, decode, flows, whole - read - decode - flows, whole)]
        print(f"  {mode:10} " + " ".join(f"{u:6.2f} " for u in us))


PER_CONVERSATION = """
import sys, tracemalloc
from analyzer.engine.loader import analyze_file
from analyzer.engine.retired import PackedConv
tracemalloc.start()
eng = analyze_file(sys.argv[1])
traced = tracemalloc.get_traced_memory()[0]
idx = eng.index
columns = [getattr(idx, name) for name in dir(idx) if type(getattr(idx, name)).__name__ == "array"]
columns.append(eng.flow_kind)
index = sum(a.buffer_info()[1] * a.itemsize for a in columns)
packed = sum(type(e) is PackedConv for e in eng.states.entries)
print(len(eng.states), packed, traced, index)
"""


def per_conversation(path: str) -> None:
    """Memory the engine keeps per conversation once the file is read (Python allocations
    traced, minus the per-packet columns), and how many conversations ended packed."""
    out = subprocess.run([sys.executable, "-c", PER_CONVERSATION, path], env=env_for(False),
                         check=True, capture_output=True, text=True).stdout.split()
    convs, packed, traced, index = map(int, out)
    print(f"\nkept per conversation, {path}: {(traced - index) / convs:.0f} bytes "
          f"({convs:,} conversations, {packed:,} closed and packed; per-packet columns "
          f"{index / 1e6:.0f} MB not counted)")


def first_packet(path: str, out: str) -> str:
    """A 1-packet capture: the pcap file header and first record of `path` (start-up)."""
    with open(path, "rb") as f:
        head = f.read(24 + 16)
        caplen = int.from_bytes(head[32:36], "little" if head[:4] == b"\xd4\xc3\xb2\xa1"
                                else "big")
        data = head + f.read(caplen)
    with open(out, "wb") as f:
        f.write(data)
    return out


def bench(name: str, path: str, runs: int) -> None:
    wl = [sys.executable, "-m", "analyzer", "summary", "--json", path]
    ts = ["tshark", "-q", "-z", "conv,tcp", "-r", path]
    results = {"pure": [], "compiled": [], "tshark": []}
    for _ in range(runs):                       # interleaved: load changes hit all three
        results["pure"].append(measure(wl, env=env_for(True)))
        results["compiled"].append(measure(wl, env=env_for(False)))
        results["tshark"].append(measure(ts))
    b = {k: best(v) for k, v in results.items()}
    anchor = b["tshark"]
    print(f"\n{name}: {path} ({os.path.getsize(path) / 1e6:.0f} MB), best of {runs}")
    print(f"  {'':10} {'wall s':>8} {'cpu s':>8} {'RSS MB':>8} {'wall/tshark':>12} "
          f"{'RSS/tshark':>11}")
    for k, r in b.items():
        print(f"  {k:10} {r['wall']:8.2f} {r['cpu']:8.2f} {r['rss_mb']:8.0f} "
              f"{r['wall'] / anchor['wall']:12.2f} {r['rss_mb'] / anchor['rss_mb']:11.2f}")
    print(f"  compiled speed-up over pure: wall {b['pure']['wall'] / b['compiled']['wall']:.2f}x,"
          f" cpu {b['pure']['cpu'] / b['compiled']['cpu']:.2f}x")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="runs of each (best wall time kept)")
    ap.add_argument("--small", action="store_true", help="200k packets / 20k conversations")
    ap.add_argument("--dir", default="/tmp", help="where the captures are written (kept)")
    a = ap.parse_args(argv)
    compiled = compiled_modules()
    print(f"compiled twins in use: {', '.join(compiled) or 'NONE (all runs are pure)'}")
    scale = 5 if a.small else 1
    big = os.path.join(a.dir, f"wirelab-bench-{1_000_000 // scale}.pcap")
    convs = os.path.join(a.dir, f"wirelab-bench-convs-{760_000 // scale}.pcap")
    ensure_capture(big, 1_000_000 // scale, None)
    ensure_capture(convs, 760_000 // scale, 1)
    small = os.path.join(a.dir, "wirelab-bench-5000.pcap")
    ensure_capture(small, 5000, None)
    bench(f"{1_000_000 // scale} packets", big, a.runs)
    bench(f"{100_000 // scale} conversations", convs, a.runs)
    bench("5k packets", small, 5 * a.runs)
    bench("start-up (1 packet)", first_packet(big, os.path.join(a.dir, "wirelab-bench-1.pcap")),
          10 * a.runs)
    stages(big)
    per_conversation(convs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
