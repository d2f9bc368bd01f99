"""Cost of the conversation table + TCP analysis (analyzer.transport.flows) per packet (CPU time).

Decodes the capture once into memory, then times FlowTable.add over all packets (the part
this module owns), separately from reading and decoding.

    python3 benchmarks/bench_flows.py --capture /tmp/wirelab-bench.pcap [--limit N]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from analyzer.decode import decode_frame  # noqa: E402
from analyzer.transport.flows import FlowTable  # noqa: E402
from analyzer.sources.open import open_capture  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--capture", required=True)
    ap.add_argument("--limit", type=int, default=0, help="only the first N packets")
    ap.add_argument("--repeat", type=int, default=3, help="best of N FlowTable runs")
    args = ap.parse_args()
    t0 = time.process_time()
    packets = []
    for rec in open_capture(args.capture):
        packets.append((rec.ts, decode_frame(rec.linktype, rec.data, rec.origlen)))
        if args.limit and len(packets) >= args.limit:
            break
    t_decode = time.process_time() - t0
    best = None
    for _ in range(args.repeat):
        table = FlowTable()
        add = table.add
        t0 = time.process_time()
        for n, (ts, d) in enumerate(packets, 1):
            add(n, ts, d)
        table.finish()
        dt = time.process_time() - t0
        best = dt if best is None else min(best, dt)
    t0 = time.process_time()
    states = {}
    for f in table.conversations:
        states[f.state()] = states.get(f.state(), 0) + 1
        f.history(), f.handshake(), f.teardown()
    t_summ = time.process_time() - t0
    n = len(packets)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"capture: {args.capture}  {n} packets  (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f})")
    print(f"read + decode_frame (in memory)   {t_decode:7.2f} s  {n / t_decode:>10,.0f} packets/s")
    print(f"FlowTable.add, best of {args.repeat}         {best:7.2f} s  {n / best:>10,.0f} packets/s"
          f"  ({best / n * 1e6:.2f} us/packet)")
    print(f"per-conversation results           {t_summ:7.2f} s  for {len(table.conversations)}"
          f" conversations  states {dict(sorted(states.items()))}")
    print(f"peak RSS (decoded packets held in memory): {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
