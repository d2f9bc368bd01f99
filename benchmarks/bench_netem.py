"""The netem matrix: every impairment profile x workload of tests.netem.harness captured
between two private network namespaces, then `wirelab verify` on each capture.

Prints the totals (captures, packets, disagreements) and wirelab's analysis time against
tshark's on the same captures (each side timed alone, in this run).  Needs root, ip, tc,
tcpdump and tshark.

    python3 benchmarks/bench_netem.py [--repeat 1] [--scale 3.0] [--jobs 3] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from analyzer.engine import analyze_file  # noqa: E402
from analyzer.wireshark.verify import compare, tshark_facts, wirelab_facts  # noqa: E402
from tests.netem import harness  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="run the matrix N times")
    ap.add_argument("--scale", type=float, default=3.0, help="workload size factor")
    ap.add_argument("--jobs", type=int, default=3, help="namespace pairs at a time")
    ap.add_argument("--keep", metavar="DIR", help="keep the captures in DIR")
    args = ap.parse_args()
    why = harness.available()
    if why:
        print(f"bench_netem: cannot run: {why}", file=sys.stderr)
        return 2
    workdir = args.keep or tempfile.mkdtemp(prefix="wirelab-bench-netem-")
    os.makedirs(workdir, exist_ok=True)
    try:
        t0 = time.perf_counter()
        runs = harness.run_matrix(workdir, harness.matrix(args.repeat), args.scale, args.jobs)
        t_capture = time.perf_counter() - t0
        packets = disagreements = 0
        t_wirelab = t_tshark = 0.0
        modes = sorted({how for *_x, how in runs})
        for profile, workload, path, _how in runs:
            t = time.perf_counter()
            eng = analyze_file(path)
            wl = wirelab_facts(eng)
            eng.close()
            t_wirelab += time.perf_counter() - t
            t = time.perf_counter()
            ts = tshark_facts(path)
            t_tshark += time.perf_counter() - t
            diff = compare(wl, ts)
            packets += wl.packets
            disagreements += len(diff)
            for line in diff[:3]:
                print(f"  {profile}/{workload}: {line}")
        print(f"impairment: {', '.join(modes)}; profiles {len(harness.PROFILES)} x workloads "
              f"{len(harness.WORKLOADS)} x {args.repeat}, scale {args.scale}")
        print(f"captures {len(runs)}, packets {packets}, disagreements {disagreements}")
        print(f"capture wall time {t_capture:.1f} s ({args.jobs} pairs at a time)")
        print(f"verify: wirelab facts {t_wirelab:.1f} s, tshark facts {t_tshark:.1f} s, "
              f"ratio {t_wirelab / t_tshark:.2f}x tshark")
        return 0 if disagreements == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
